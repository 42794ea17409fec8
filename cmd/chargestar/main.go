// Command chargestar is the Charge Star charging-station management and
// billing system: one binary that serves stations (OCPP), drivers, operators
// and the API, plus a station simulator and database tooling.
//
//	chargestar serve     run the system
//	chargestar demo      run it on a fresh database with simulated stations charging
//	chargestar sim       station simulator and load generator
//	chargestar migrate   apply database migrations and exit
//	chargestar version   print the version
//
// Every flag also reads from CHARGESTAR_<FLAG>. Exit codes: 0 success,
// 2 bad usage or configuration, 1 any other failure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/chargestar/chargestar/internal/config"
)

const usage = `Charge Star — charging-station management and billing.

Usage: chargestar <command> [flags]

Commands:
  serve     run the system (OCPP endpoint, API, background jobs)
  demo      run the system on a fresh temporary database, seeded, with simulated stations charging
  sim       station simulator and load generator
  migrate   apply database migrations and exit
  version   print the version

Run 'chargestar <command> --help' for a command's flags.`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = serveCmd(ctx, rest, stdout, stderr)
	case "demo":
		err = demoCmd(ctx, rest, stdout, stderr)
	case "sim":
		err = simCmd(ctx, rest, stdout, stderr)
	case "migrate":
		err = migrateCmd(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		err = versionCmd(rest, stdout)
	case "help", "--help", "-help", "-h":
		fmt.Fprintln(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "chargestar: unknown command %q\n\n%s\n", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case config.IsUsage(err):
		fmt.Fprintf(stderr, "chargestar %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "chargestar %s: %v\n", args[0], err)
		return 1
	}
}
