// Command gen21 writes v21_gen.go, the OCPP 2.1 twin of the hand-written
// 2.0.1 adapter (v201.go): the same code with the v201 package and the
// V201 suffix renamed. The messages the two versions share have the same
// names and shapes in both generated packages, so the copy compiles, and
// any difference surfaces as a compile error rather than a silent drift.
//
//	go run ./internal/csms/ocpp2/gen21 [dir]
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	src, err := os.ReadFile(filepath.Join(dir, "v201.go"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(filepath.Join(dir, "v21_gen.go"), Generate(src), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
