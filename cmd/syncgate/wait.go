package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/smithy-go/logging"
	"github.com/spf13/cobra"

	"github.com/syncgate/syncgate/server/waitclient"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/s3marker"
)

var fullSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)
var anySHA = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)

func newWaitCmd() *cobra.Command {
	var (
		urls                       []string
		namespace, token           string
		timeout                    time.Duration
		s3URL, cluster, s3Endpoint string
		quiet, asJSON              bool
	)
	cmd := &cobra.Command{
		Use:   "wait <sha>",
		Short: "Block until a config-repo commit is deployed (exit 0), failed (1) or timed out (2)",
		Long: `Wait until syncgate reports a commit final. With --url, long-polls
GET /wait/<sha> and asks again through dropped connections and gateway
restarts, printing on stderr why a try had no answer; several --url wait
on several clusters, and all must deploy. A --url that is not http(s)
with a host, or a --timeout that is not more than 0 or is more than a
year, ends the wait at once (exit 3); a server that has only answered as
no syncgate agent does (an HTML 404, a login page), alike, for a quarter
of --timeout (a minute at most) ends it then (exit 3).
With --s3, waits for the commit's _result object instead; a bucket that
does not exist, credentials S3 refuses, or no credentials found (AWS_*
variables, shared config, web identity, EC2 instance role) end the wait
at once (exit 3).

Exit codes: 0 deployed, 1 failed, 2 timed out, 3 usage or configuration
error, or unknown sha.`,
		Example: `  syncgate wait "$(git rev-parse HEAD)" --url https://syncgate.prod.example.com --timeout 15m
  syncgate wait "$SHA" --url https://eu.example.com --url https://us.example.com --namespace web
  syncgate wait "$SHA" --s3 s3://deploy-markers/syncgate --cluster prod --namespace web`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sha := args[0]
			if !anySHA.MatchString(sha) {
				return &exitError{code: exitUsage, msg: fmt.Sprintf("%q is not a commit sha (7 to 40 hex characters)", sha)}
			}
			if token == "" {
				token = os.Getenv("WAIT_TOKEN")
			}
			out := cmd.OutOrStdout()
			say := func(format string, a ...any) {
				if !quiet {
					fmt.Fprintf(out, format+"\n", a...)
				}
			}
			start := time.Now()
			switch {
			case s3URL != "" && len(urls) > 0:
				return &exitError{code: exitUsage, msg: "use either --url or --s3"}
			case s3URL != "":
				return waitS3(cmd, sha, s3URL, s3Endpoint, cluster, namespace, timeout, say, asJSON)
			case len(urls) == 0:
				return &exitError{code: exitUsage, msg: "--url (or --s3) is required"}
			}
			opts := waitclient.Options{URLs: urls, Namespace: namespace, Token: token, Timeout: timeout}
			if !quiet {
				opts.Progress = func(u string, a waitclient.Answer) {
					where := u
					if len(urls) == 1 && a.Cluster != "" {
						where = a.Cluster
					}
					say("%s on %s: %s", status.ShortSHA(sha), where, describe(a, time.Since(start)))
				}
			}
			// Errors that are asked through go to stderr even with --quiet:
			// a URL that never answers is not waited on in silence.
			opts.Trouble = func(u string, err error) {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s on %s: %v (asking again)\n", status.ShortSHA(sha), u, err)
			}
			res := waitclient.Wait(cmd.Context(), sha, opts)
			if asJSON {
				b, _ := json.MarshalIndent(res.Answers, "", "  ")
				fmt.Fprintln(out, string(b))
			}
			switch res.Outcome {
			case waitclient.Deployed:
				say("%s deployed in %s", status.ShortSHA(sha), status.FormatDuration(time.Since(start)))
				return nil
			case waitclient.Failed:
				return &exitError{code: exitFailed, msg: fmt.Sprintf("%s failed: %v", status.ShortSHA(sha), res.Err)}
			case waitclient.TimedOut:
				return &exitError{code: exitTimeout, msg: fmt.Sprintf("%s not final after %s: %v", status.ShortSHA(sha), timeout, res.Err)}
			}
			return &exitError{code: exitUsage, msg: res.Err.Error()}
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&urls, "url", nil, "syncgate base URL; repeat for several clusters")
	f.StringVar(&namespace, "namespace", "", "wait for one namespace only (default: every managed namespace)")
	f.StringVar(&token, "token", "", "bearer token for /wait [$WAIT_TOKEN]")
	f.StringVar(&s3URL, "s3", "", "wait on S3 result objects: s3://bucket/prefix (needs --cluster, --namespace, a full sha)")
	f.StringVar(&s3Endpoint, "s3-endpoint", os.Getenv("S3_ENDPOINT"), "S3-compatible endpoint URL [$S3_ENDPOINT]")
	f.StringVar(&cluster, "cluster", "", "cluster name, with --s3")
	f.BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	f.BoolVar(&asJSON, "json", false, "print the final answers as JSON")
	timeoutFlag(cmd, &timeout, 15*time.Minute)
	return cmd
}

func waitS3(cmd *cobra.Command, sha, s3URL, endpoint, cluster, namespace string, timeout time.Duration, say func(string, ...any), asJSON bool) error {
	if !fullSHA.MatchString(sha) {
		return &exitError{code: exitUsage, msg: "--s3 needs the full 40-character sha (result objects are keyed by it)"}
	}
	if cluster == "" || namespace == "" {
		return &exitError{code: exitUsage, msg: "--s3 needs --cluster and --namespace"}
	}
	bucket, prefix, err := waitclient.ParseS3URL(s3URL)
	if err != nil {
		return &exitError{code: exitUsage, msg: err.Error()}
	}
	// The SDK's own log lines would print on stderr among the wait's.
	client, err := s3marker.NewClient(cmd.Context(), s3marker.Options{Endpoint: endpoint, Logger: logging.Nop{}})
	if err != nil {
		return &exitError{code: exitUsage, msg: err.Error()}
	}
	if err := s3marker.CheckCredentials(cmd.Context(), client); errors.Is(err, s3marker.ErrNoCredentials) {
		return &exitError{code: exitUsage, msg: err.Error()}
	}
	start := time.Now()
	out, res, err := waitclient.WaitS3(cmd.Context(), client, bucket, s3marker.ResultKey(prefix, cluster, namespace, sha), timeout,
		func(s string) { say("%s: %s", status.ShortSHA(sha), s) })
	if asJSON && out != waitclient.TimedOut {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(cmd.OutOrStdout(), string(b))
	}
	switch out {
	case waitclient.Deployed:
		say("%s deployed (seen after %s)", status.ShortSHA(sha), time.Since(start).Round(time.Second))
		return nil
	case waitclient.Failed:
		return &exitError{code: exitFailed, msg: fmt.Sprintf("%s failed: %v", status.ShortSHA(sha), err)}
	case waitclient.TimedOut:
		return &exitError{code: exitTimeout, msg: err.Error()}
	}
	return &exitError{code: exitUsage, msg: err.Error()}
}

// describe renders an answer as one human line.
func describe(a waitclient.Answer, elapsed time.Duration) string {
	if len(a.Namespaces) <= 1 {
		for _, v := range a.Namespaces {
			return stateText(v.State, v.Ready, v.Total, v.Reason, elapsed)
		}
		return stateText(a.State, 0, 0, a.Reason, elapsed)
	}
	nss := make([]string, 0, len(a.Namespaces))
	for ns := range a.Namespaces {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	parts := make([]string, 0, len(nss))
	for _, ns := range nss {
		v := a.Namespaces[ns]
		parts = append(parts, ns+" "+stateText(v.State, v.Ready, v.Total, v.Reason, elapsed))
	}
	return strings.Join(parts, ", ")
}

func stateText(state string, ready, total int, reason string, elapsed time.Duration) string {
	switch state {
	case "rolling-out":
		if total > 0 {
			return fmt.Sprintf("rolling out (%d/%d ready)", ready, total)
		}
		return "rolling out"
	case "deployed":
		return "deployed"
	case "failed":
		return "failed: " + reason
	case "pending", "fetched":
		return "waiting for syncgate to pick it up"
	case "fetching":
		return "not known yet, syncgate is fetching the config repo to look for it"
	}
	return state
}
