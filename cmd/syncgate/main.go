// Command syncgate is the in-cluster GitOps agent that applies a config repo
// and tells CI when each commit is live: `syncgate run` is the daemon,
// `syncgate wait` blocks a pipeline until its commit is deployed.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// buildVersion is set at build time with -ldflags "-X main.buildVersion=...".
var buildVersion = "dev"

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root := &cobra.Command{
		Use:   "syncgate",
		Short: "GitOps agent that applies a config repo and tells CI when a commit is live",
		Long: `syncgate follows a config repo, applies each commit to the namespaces it
manages with server-side apply, waits until the workloads are Ready, and
reports every commit's fate: a Version resource per namespace, S3 markers,
GitHub/GitLab commit statuses, and a long-poll GET /wait/<sha> endpoint.

CI needs no cluster credentials: it pushes to git and runs
  syncgate wait <sha> --url https://syncgate.example.com`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(), newWaitCmd(), newPreviewCmd(), newVersionCmd())

	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ex *exitError
	if errors.As(err, &ex) {
		if ex.msg != "" {
			fmt.Fprintln(os.Stderr, "syncgate:", ex.msg)
		}
		return ex.code
	}
	fmt.Fprintln(os.Stderr, "syncgate:", err)
	return exitUsage
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the syncgate version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "syncgate", buildVersion)
			return err
		},
	}
}
