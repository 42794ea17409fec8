// Command ocppgen generates the OCPP message packages (internal/ocpp/v16,
// v201, v21) from the official OCA JSON schemas: types, enums, one-pass
// decoders/validators, encoders, Validate methods and the action registry.
//
// Usage:
//
//	go run ./internal/ocpp/ocppgen -version v16|v201|v21 -out <dir> [-spec <dir of the version's schemas>] [-v]
//
// Without -spec the schemas are looked up in $CHARGESTAR_SHARED_DIR/ocpp-spec/<version dir>
// and then in a "shared/ocpp-spec/<version dir>" folder next to any parent of
// the current directory (so `go generate` works from the repository). See README.md.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	spec := flag.String("spec", "", "folder holding the version's JSON schemas (default: located via $CHARGESTAR_SHARED_DIR or a parent shared/ocpp-spec folder)")
	version := flag.String("version", "", "v16, v201 or v21")
	out := flag.String("out", ".", "output folder (the Go package folder)")
	verbose := flag.Bool("v", false, "print name-clash resolutions")
	flag.Parse()
	if err := run(*spec, *version, *out, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "ocppgen:", err)
		os.Exit(1)
	}
}

func run(spec, version, out string, verbose bool) error {
	cfg, ok := versions[version]
	if !ok {
		return fmt.Errorf("unknown -version %q (want v16, v201 or v21)", version)
	}
	if spec == "" {
		var err error
		if spec, err = findSpec(cfg.specSubdir); err != nil {
			return err
		}
	}
	m, err := load(cfg, spec)
	if err != nil {
		return err
	}
	if verbose {
		for _, r := range m.report {
			fmt.Fprintln(os.Stderr, "ocppgen:", version+":", r)
		}
	}
	files, err := m.generate()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	// remove stale generated files
	old, _ := filepath.Glob(filepath.Join(out, "*_gen.go"))
	for _, f := range old {
		if _, keep := files[filepath.Base(f)]; keep {
			continue
		}
		data, err := os.ReadFile(f)
		if err == nil && bytes.HasPrefix(data, []byte(header[:len(header)-2])) {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		path := filepath.Join(out, n)
		if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, files[n]) {
			continue
		}
		if err := os.WriteFile(path, files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

func findSpec(sub string) (string, error) {
	if d := os.Getenv("CHARGESTAR_SHARED_DIR"); d != "" {
		p := filepath.Join(d, "ocpp-spec", sub)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, nil
		}
		return "", fmt.Errorf("CHARGESTAR_SHARED_DIR is set but %s does not exist", p)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "shared", "ocpp-spec", sub)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("cannot find shared/ocpp-spec/%s above the current directory; pass -spec or set CHARGESTAR_SHARED_DIR", sub)
}
