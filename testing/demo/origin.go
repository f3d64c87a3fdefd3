package demo

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/testing/forge"
	"github.com/syncgate/syncgate/testing/gitserver"
)

// AppRepo is the application repo whose image the demo deploys, owner/name
// on the same forge as the config repo.
const AppRepo = "acme/web"

// appMessage is the application commit's message: a merged pull request.
const appMessage = "web: greet visitors by name (#7)"

// appCommit makes the application repo and the commit the first image is
// built from, as a merged pull request would leave it; it returns its sha.
func appCommit(g *gitserver.Server) (string, error) {
	app, err := g.CreateRepo(AppRepo)
	if err != nil {
		return "", err
	}
	return app.CommitFiles(appMessage, map[string]string{
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello, visitor\") }\n",
	})
}

// showOrigin prints the Syncgate-Origin trailer of the config commit cfgSHA
// and what the forge holds for the application commit once syncgate
// reported the rollout there: the commit status and the deployment.
func (r *runner) showOrigin(ctx context.Context, repo *gitserver.Repo, cfgSHA string, res *Result) error {
	r.say("The application commit behind the image: %s %s %q", AppRepo, res.AppSHA[:7], appMessage)
	msg, err := commitMessage(ctx, repo, cfgSHA)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.opts.Out, "    config commit %s, as bump-image.sh wrote it:\n", cfgSHA[:7])
	for _, line := range strings.Split(strings.TrimSpace(msg), "\n") {
		fmt.Fprintln(r.opts.Out, strings.TrimRight("      "+line, " "))
	}
	context := status.Context(Cluster, Namespace)
	environment := Cluster + "/" + Namespace
	var st forge.Status
	var dep forge.Deployment
	deadline := time.Now().Add(time.Minute)
	for {
		var ok bool
		st, ok = r.github.Latest(AppRepo, res.AppSHA, context)
		deps := r.github.Deployments(AppRepo, res.AppSHA, environment)
		if len(deps) > 0 {
			dep = deps[len(deps)-1]
		}
		if ok && st.State == "success" && dep.Latest().State == "success" {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s@%s: status %q and deployment %v, not both success", AppRepo, res.AppSHA[:7], st.State, dep.States())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	res.AppStatus, res.AppDeployment = st, dep
	fmt.Fprintf(r.opts.Out, "    what GitHub (the demo's fake) holds for %s@%s once the image is live:\n", AppRepo, res.AppSHA[:7])
	fmt.Fprintf(r.opts.Out, "      status %s: %s, %q, details %s\n", st.Context, st.State, st.Description, st.TargetURL)
	fmt.Fprintf(r.opts.Out, "      deployment to %s: %s, %q, log %s\n", dep.Environment, strings.Join(dep.States(), " → "),
		dep.Latest().Description, dep.Latest().LogURL)
	return nil
}

// commitMessage is sha's message as the config repo's server has it.
func commitMessage(ctx context.Context, repo *gitserver.Repo, sha string) (string, error) {
	if out, err := exec.CommandContext(ctx, "git", "-C", repo.Dir(), "fetch", "--quiet", "origin").CombinedOutput(); err != nil {
		return "", fmt.Errorf("git fetch: %w: %s", err, out)
	}
	out, err := exec.CommandContext(ctx, "git", "-C", repo.Dir(), "show", "-s", "--format=%B", sha).Output()
	if err != nil {
		return "", fmt.Errorf("git show %s: %w", sha[:7], err)
	}
	return string(out), nil
}

// ciFree drops the variables bump-image.sh takes an origin from, so a demo
// run inside CI names only the origins it means to.
func ciFree(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "ORIGIN_REPO", "ORIGIN_SHA", "GITHUB_REPOSITORY", "GITHUB_SHA", "CI_PROJECT_URL", "CI_COMMIT_SHA", "GIT_URL", "GIT_COMMIT":
			continue
		}
		out = append(out, kv)
	}
	return out
}
