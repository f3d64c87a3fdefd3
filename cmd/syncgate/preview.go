package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/syncgate/syncgate/server/waitclient"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/previewreport"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/preview"
)

func newPreviewCmd() *cobra.Command {
	var (
		url, token    string
		timeout       time.Duration
		quiet, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "preview <sha|ref>",
		Short: "Ask what a commit would do to the cluster before it is merged: valid (exit 0), refused (1)",
		Long: `Preview a commit that need not be on the followed branch: syncgate fetches
it (a full sha, or a ref such as refs/pull/12/head), renders every managed
namespace, dry-runs it as each namespace's identity and diffs it against
what is live. Nothing is applied. Prints each namespace's verdict and the
objects it would create, change and prune (Secret values never shown).

Exit codes: 0 valid, 1 refused, 2 timed out (or no verdict: the preview
could not be made), 3 usage error or unknown ref. A --url that is not
http(s) with a host, or a --timeout that is not more than 0 or is more
than a year, is told at once (exit 3), as by syncgate wait.`,
		Example: `  syncgate preview "$(git rev-parse HEAD)" --url https://syncgate.prod.example.com
  syncgate preview refs/pull/12/head --url https://syncgate.prod.example.com --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]string{}
			switch arg := strings.TrimSpace(args[0]); {
			case fullSHA.MatchString(strings.ToLower(arg)):
				body["sha"] = strings.ToLower(arg)
			case strings.HasPrefix(arg, "refs/"):
				body["ref"] = arg
			default:
				return &exitError{code: exitUsage, msg: fmt.Sprintf("%q is neither a full sha (40 hex characters) nor a ref (refs/pull/12/head)", arg)}
			}
			if url == "" {
				return &exitError{code: exitUsage, msg: "--url is required"}
			}
			base, err := waitclient.ParseBaseURL(url)
			if err != nil {
				return &exitError{code: exitUsage, msg: err.Error()}
			}
			if token == "" {
				token = os.Getenv("WAIT_TOKEN")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			c := &previewClient{base: base, token: token, http: &http.Client{Timeout: 30 * time.Second}}
			res, err := c.run(ctx, body)
			out := cmd.OutOrStdout()
			if res != nil && asJSON {
				b, _ := json.MarshalIndent(res, "", "  ")
				fmt.Fprintln(out, string(b))
			} else if res != nil && !quiet {
				printPreview(out, res)
			}
			var ue *usageError
			switch {
			case errors.As(err, &ue):
				return &exitError{code: exitUsage, msg: err.Error()}
			case err != nil && ctx.Err() != nil:
				return &exitError{code: exitTimeout, msg: fmt.Sprintf("no verdict after %s: %v", timeout, err)}
			case err != nil:
				return &exitError{code: exitTimeout, msg: err.Error()}
			case res.State == preview.Valid:
				return nil
			case res.State == preview.Refused:
				return &exitError{code: exitFailed, msg: status.ShortSHA(res.SHA) + " refused"}
			}
			return &exitError{code: exitTimeout, msg: fmt.Sprintf("%s not previewed: %s", status.ShortSHA(res.SHA), res.Reason)}
		},
	}
	f := cmd.Flags()
	f.StringVar(&url, "url", "", "syncgate base URL")
	f.StringVar(&token, "token", "", "bearer token for the API [$WAIT_TOKEN]")
	f.BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	f.BoolVar(&asJSON, "json", false, "print the preview as JSON")
	timeoutFlag(cmd, &timeout, 5*time.Minute)
	return cmd
}

// usageError is a request the gateway refused for good (4xx).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

type previewClient struct {
	base, token string
	http        *http.Client
}

// run asks for the preview, then reads it until it is final; trouble
// (no answer, 5xx) is retried until ctx ends.
func (c *previewClient) run(ctx context.Context, body map[string]string) (*preview.Result, error) {
	raw, _ := json.Marshal(body)
	var res preview.Result
	if err := c.retry(ctx, http.MethodPost, "/api/v1/previews", raw, &res); err != nil {
		return nil, err
	}
	sha := res.SHA
	for !res.Final() {
		t := time.NewTimer(500 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		if err := c.retry(ctx, http.MethodGet, "/previews/"+sha, nil, &res); err != nil {
			return nil, err
		}
	}
	return &res, nil
}

func (c *previewClient) retry(ctx context.Context, method, path string, body []byte, out any) error {
	var last error
	for {
		retry, err := c.do(ctx, method, path, body, out)
		if err == nil || !retry {
			return err
		}
		last = err
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-t.C:
		}
	}
}

func (c *previewClient) do(ctx context.Context, method, path string, body []byte, out any) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return false, &usageError{msg: err.Error()}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return true, err
	}
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return true, fmt.Errorf("%s %s: %s", method, path, resp.Status)
	case resp.StatusCode >= 400:
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return false, &usageError{msg: fmt.Sprintf("%s: %s", resp.Status, e.Error)}
	}
	if err := json.Unmarshal(b, out); err != nil {
		return true, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return false, nil
}

// printPreview prints each namespace's verdict and the objects it would
// touch, as diff lines.
func printPreview(w io.Writer, res *preview.Result) {
	fmt.Fprintf(w, "%s on %s: %s\n", status.ShortSHA(res.SHA), res.Cluster, res.State)
	if res.Reason != "" {
		fmt.Fprintf(w, "  %s\n", res.Reason)
	}
	for _, n := range res.Namespaces {
		fmt.Fprintf(w, "%s: %s\n", n.Namespace, n.Summary())
		for _, r := range n.Refusals {
			fmt.Fprintf(w, "  refused %s: %s\n", strings.TrimSpace(r.File+" "+r.Object), r.Message)
		}
		if n.Plan == nil {
			continue
		}
		for _, group := range []struct {
			verb string
			list []apply.ObjectChange
		}{{"create", n.Plan.Created}, {"change", n.Plan.Changed}} {
			for _, c := range group.list {
				fmt.Fprintf(w, "  %s %s\n", group.verb, c.Object)
				for _, f := range c.Fields {
					for _, line := range strings.Split(strings.TrimRight(previewreport.DiffLines(f), "\n"), "\n") {
						fmt.Fprintf(w, "    %s\n", line)
					}
				}
			}
		}
		for _, r := range n.Plan.Pruned {
			fmt.Fprintf(w, "  prune %s\n", r)
		}
	}
}
