package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func runVersion(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c := newCommand("version", "", "Prints Tandem's version (set at build time with -ldflags \"-X main.version=...\")\nand the Go version it was built with.")
	if help, err := c.parse(args, getenv, stdout); help || err != nil {
		return err
	}
	fmt.Fprintf(stdout, "tandem %s%s (%s %s/%s)\n", version, revision(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// revision returns " (commit abcdef012345)" when the binary was built from a git checkout.
func revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return ""
	}
	return " commit " + rev + dirty
}
