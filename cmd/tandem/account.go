package main

import (
	"context"
	"fmt"
	"io"
)

func runAccount(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printAccountUsage(stderr)
		return usageError{fmt.Errorf("account: missing subcommand (create or list)")}
	}
	switch args[0] {
	case "create":
		return runAccountCreate(ctx, args[1:], getenv, stdout, stderr)
	case "list":
		return runAccountList(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		printAccountUsage(stdout)
		return nil
	default:
		return usageError{fmt.Errorf("account: unknown subcommand %q (want create or list)", args[0])}
	}
}

func printAccountUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: tandem account create|list [flags]

  account create   create an account with its first admin and print the admin's API token
  account list     list the accounts

Run 'tandem account create --help' or 'tandem account list --help' for the flags.
`)
}
