package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/syncgate/syncgate/testing/gitserver"
)

// githubToken is what syncgate authenticates to the demo's GitHub fake with.
const githubToken = "ghp_demo"

// previewPullRequest opens pull request 1 with a change to the running
// release (a greeting, the CPU request, a new ConfigMap, the HPA dropped),
// sends GitHub's pull_request webhook, and waits for the comment syncgate
// leaves; then asks `syncgate preview` the same.
func (r *runner) previewPullRequest(ctx context.Context, bin, url string, repo *gitserver.Repo, res *Result) error {
	r.say("A pull request, previewed before the merge: refs/pull/1/head, then a signed pull_request webhook")
	// bump-image.sh pushed from a clone of its own: start from main as
	// the server has it.
	if out, err := exec.CommandContext(ctx, "git", "-C", repo.Dir(), "pull", "--quiet", "--ff-only", "origin", repo.Branch()).CombinedOutput(); err != nil {
		return fmt.Errorf("git pull: %w: %s", err, out)
	}
	deploy, err := os.ReadFile(repo.Dir() + "/" + Namespace + "/deploy.yaml")
	if err != nil {
		return err
	}
	sha, err := repo.CommitRef("refs/pull/1/head", "web: a warmer greeting, more CPU, feature flags, no HPA", map[string]string{
		Namespace + "/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  GREETING: \"hello from a pull request\"\n",
		Namespace + "/deploy.yaml":    strings.Replace(string(deploy), "cpu: 50m", "cpu: 100m", 1),
		Namespace + "/flags.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-flags\ndata:\n  NEW_CHECKOUT: \"true\"\n",
		Namespace + "/hpa.yaml":       "",
	})
	if err != nil {
		return err
	}
	res.PreviewSHA = sha
	if err := postPullRequest(ctx, url, sha, repo.Branch()); err != nil {
		return err
	}
	fmt.Fprintf(r.opts.Out, "    pushed %s to refs/pull/1/head\n", sha[:7])
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if cs := r.github.Comments(RepoName, 1); len(cs) > 0 && strings.Contains(cs[0].Body, sha[:7]) {
			res.PreviewComment = cs[0].Body
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if res.PreviewComment == "" {
		return fmt.Errorf("no pull request comment for %s", sha[:7])
	}
	st, _ := r.github.Latest(RepoName, sha, "syncgate/"+Cluster+"/"+Namespace+"/preview")
	fmt.Fprintf(r.opts.Out, "    status syncgate/%s/%s/preview: %s, %q\n", Cluster, Namespace, st.State, st.Description)
	fmt.Fprintf(r.opts.Out, "    comment on pull request 1 (%d characters); page: %s/previews/%s\n", len(res.PreviewComment), url, sha)

	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "preview", "refs/pull/1/head", "--url", url)
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	res.PreviewOutput = out.String()
	fmt.Fprintf(r.opts.Out, "    $ syncgate preview refs/pull/1/head --url %s\n", url)
	for _, line := range strings.Split(strings.TrimRight(res.PreviewOutput, "\n"), "\n") {
		fmt.Fprintf(r.opts.Out, "    %s\n", line)
	}
	if err != nil {
		return fmt.Errorf("syncgate preview: %w", err)
	}
	return nil
}

// postPullRequest sends GitHub's pull_request "opened" webhook for head.
func postPullRequest(ctx context.Context, url, head, base string) error {
	body, _ := json.Marshal(map[string]any{
		"action": "opened", "number": 1,
		"repository": map[string]any{"full_name": RepoName},
		"pull_request": map[string]any{
			"html_url": "https://github.example.com/" + RepoName + "/pull/1",
			"head":     map[string]any{"sha": head, "repo": map[string]any{"full_name": RepoName}},
			"base":     map[string]any{"ref": base, "repo": map[string]any{"full_name": RepoName}},
		},
	})
	return postWebhook(ctx, url, secret, "pull_request", body)
}
