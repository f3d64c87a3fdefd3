// Command syncgate-demo runs syncgate's whole journey locally (make demo):
// control plane, git server with the sample config repo, S3, syncgate run,
// an image bump and syncgate wait. It stays up until Ctrl-C; --once, or
// the variable CI set (as CI runners set it), ends it after the journey.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/syncgate/syncgate/testing/demo"
)

func main() {
	once := flag.Bool("once", false, "end after the journey instead of staying up until Ctrl-C (as the variable CI set does)")
	tag := flag.String("tag", "1.1.0", "image tag the demo deploys")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stay := demo.StaysUp(*once, os.Getenv)
	if _, err := demo.Run(ctx, demo.Options{Out: os.Stdout, Interactive: stay, Tag: *tag}); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
	if !stay && !*once {
		fmt.Println("\nCI is set: the demo ended after the journey and stopped what it started (without CI, it stays up until Ctrl-C).")
	}
}
