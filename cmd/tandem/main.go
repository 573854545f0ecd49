// Command tandem is the Tandem help desk: one binary that serves the help desk, seeds a
// demo, applies database migrations and manages accounts.
//
// Every subcommand is configured by flags and TANDEM_* environment variables (the flag
// name upper-snake-cased: --base-domain <- TANDEM_BASE_DOMAIN); a flag given on the
// command line wins over the environment. Run "tandem help" for the list of commands and
// "tandem COMMAND --help" for each command's flags.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tandem: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run is the whole program: it reads args (args[0] is the program name), getenv and
// writes to stdout and stderr, so tests can call it exactly as main does.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	// The first SIGINT/SIGTERM cancels ctx (graceful shutdown); once it has, signals get
	// their default behaviour back, so a second Ctrl-C stops a stuck shutdown at once.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()

	if len(args) < 2 {
		printUsage(stderr)
		return usageError{errors.New("no command given")}
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "account":
		return runAccount(ctx, rest, getenv, stdout, stderr)
	case "import":
		return runImport(ctx, rest, getenv, stdout, stderr)
	case "ai":
		return runAI(ctx, rest, getenv, stdout, stderr)
	case "reports-rebuild":
		return runReports(ctx, rest, getenv, stdout, stderr)
	case "version", "--version", "-version":
		return runVersion(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			// "tandem help serve" is "tandem serve --help".
			return run(ctx, append(append([]string{args[0]}, rest...), "--help"), getenv, stdout, stderr)
		}
		printUsage(stdout)
		return nil
	default:
		return usageError{fmt.Errorf("unknown command %q (run 'tandem help' for the list)", cmd)}
	}
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `Tandem is a multi-tenant help desk whose tickets can be shared between help desks.

Usage: tandem COMMAND [flags]

Commands:
  serve            run the help desk server until interrupted
  demo             run the server with two ready demo accounts (acme and globex)
  migrate          apply pending database migrations and list them
  account create   create an account with its first admin and print the admin's API token
  account list     list the accounts
  import           import users or organizations from a CSV file into an account
  ai simulate      replay an account's solved tickets to measure what the AI would do
  reports-rebuild  build the reports' daily aggregates again from the tickets' rows
  version          print the version

Run 'tandem COMMAND --help' for a command's flags. Every flag can also be set with a
TANDEM_* environment variable (--base-domain <- TANDEM_BASE_DOMAIN); flags win.
`)
}
