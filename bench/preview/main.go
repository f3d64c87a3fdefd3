// Command preview measures pull request previews. The real syncgate
// binary follows a config repo (a namespace of 100 ConfigMaps) on a fresh
// local control plane and reports to the GitHub fake. A pull request
// whose head changes 5 objects is pushed 20 times; each time a signed
// pull_request webhook is posted and the time until the preview's commit
// status is on the head is taken. Then 20 pull requests are opened at
// once, five times, each time beside a push to the followed branch, whose
// webhook-to-deployed time is compared with the same push made alone.
// The agent reaches the API server through a counting proxy: the requests
// of a burst round are counted. -bin runs several builds in turn, each on
// a fresh control plane (e.g. main's and this one's).
//
//	go run ./bench/preview [-n 20] [-prs 20] [-bin before=/path/a,after=/path/b]
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/testing/demo"
	"github.com/syncgate/syncgate/testing/forge"
	"github.com/syncgate/syncgate/testing/gitserver"
)

const (
	ns      = "bench-preview"
	secret  = "bench-preview-secret"
	repoNm  = "acme/config"
	objects = 100
	rounds  = 5
)

func main() {
	n := flag.Int("n", 20, "pushes to one pull request")
	prs := flag.Int("prs", 20, "pull requests opened at once")
	logPath := flag.String("log", "", "keep the agent's log in this file")
	bins := flag.String("bin", "", "name=path,... syncgate builds to run in turn (default: build this tree)")
	var env envFlag
	flag.Var(&env, "env", "NAME=value added to the agent's environment (repeatable), e.g. LOG_LEVEL=debug")
	flag.Parse()
	benchenv.Main(func(ctx context.Context) error { return run(ctx, *n, *prs, *bins, *logPath, env) })
}

func configMap(i int, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%03d\ndata:\n  value: %q\n", i, value)
}

// changes are the files of a head changing 5 of the objects.
func changes(tag string, first int) map[string]string {
	files := map[string]string{}
	for i := first; i < first+5; i++ {
		files[fmt.Sprintf("%s/cm-%03d.yaml", ns, i%objects)] = configMap(i%objects, tag)
	}
	return files
}

type bench struct {
	url  string
	gh   *forge.GitHub
	repo *gitserver.Repo
}

func run(ctx context.Context, n, prs int, binFlag, logPath string, env []string) error {
	work, done, err := benchenv.WorkDir("preview", false)
	if err != nil {
		return err
	}
	defer done()
	bins, err := benchenv.Binaries(ctx, binFlag, work, "this build")
	if err != nil {
		return err
	}
	fmt.Println("at the start:", benchenv.Load())
	for _, b := range bins {
		dir := filepath.Join(work, b.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if logPath != "" {
			defer keepLog(dir, logPath+"."+b.Name)
		}
		if err := runOne(ctx, b, dir, n, prs, env); err != nil {
			return fmt.Errorf("%s: %w", b.Name, err)
		}
	}
	return nil
}

func runOne(ctx context.Context, bin benchenv.Binary, work string, n, prs int, env []string) error {
	e, err := benchenv.Start(ctx, benchenv.Options{Namespace: ns, Repo: repoNm})
	if err != nil {
		return err
	}
	defer e.Close()
	repo := e.Repo
	base := map[string]string{}
	for i := range objects {
		base[fmt.Sprintf("%s/cm-%03d.yaml", ns, i)] = configMap(i, "base")
	}
	first, err := repo.CommitFiles("base", base)
	if err != nil {
		return err
	}
	gh := forge.NewGitHub("ghp_bench", repoNm)
	defer gh.Close()
	for i := 1; i <= prs+1; i++ {
		gh.OpenPull(repoNm, i)
	}
	agent, err := benchenv.StartProxiedAgent(ctx, e.Cluster.RESTConfig(), benchenv.AgentOptions{
		Bin: bin.Path, Work: work, RepoURL: e.RepoURL(), Kubeconfig: e.Cluster.KubeconfigPath(), Namespaces: []string{ns}, Secret: secret,
		Env: append([]string{"GITHUB_API_URL=" + gh.APIURL(), "GITHUB_TOKEN=ghp_bench"}, env...),
	})
	if err != nil {
		return err
	}
	defer agent.StopAll()
	if err := benchenv.WaitDeployed(ctx, agent.URL, ns, first); err != nil {
		return fmt.Errorf("first commit: %w\n%s", err, agent.LogTail(4000))
	}
	b := &bench{url: agent.URL, gh: gh, repo: repo}

	// One pull request, pushed n times.
	var pushes []time.Duration
	for i := range n {
		sha, err := repo.CommitRef("refs/pull/1/head", fmt.Sprintf("push %d", i), changes(fmt.Sprintf("pr1-%d", i), i*5))
		if err != nil {
			return err
		}
		d, err := b.preview(ctx, 1, sha, i > 0)
		if err != nil {
			return fmt.Errorf("push %d: %w\n%s", i, err, agent.LogTail(4000))
		}
		pushes = append(pushes, d)
	}

	// The followed branch alone, then beside bursts of pull requests.
	var alone, beside, bursts []time.Duration
	var burstAll []time.Duration
	aloneStart := agent.Proxy.Snapshot()
	for r := range rounds {
		d, err := b.sync(ctx, fmt.Sprintf("alone %d", r))
		if err != nil {
			return fmt.Errorf("%w\n%s", err, agent.LogTail(4000))
		}
		alone = append(alone, d)
	}
	aloneCounts := agent.Proxy.Snapshot().Minus(aloneStart)
	burstStart := agent.Proxy.Snapshot()
	for r := range rounds {
		heads := make([]string, prs)
		for p := range prs {
			if heads[p], err = repo.CommitRef(fmt.Sprintf("refs/pull/%d/head", p+2), "burst", changes(fmt.Sprintf("burst%d-%d", r, p), p*5)); err != nil {
				return err
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		start := time.Now()
		for p := range prs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := b.preview(ctx, p+2, heads[p], r > 0)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				burstAll = append(burstAll, d)
			}()
		}
		d, err := b.sync(ctx, fmt.Sprintf("beside %d", r))
		wg.Wait()
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return fmt.Errorf("burst %d: %d of %d pull requests unanswered: %v\n%s", r, len(errs), prs, errs[0], agent.LogTail(4000))
		}
		beside = append(beside, d)
		bursts = append(bursts, time.Since(start))
	}

	burstCounts := agent.Proxy.Snapshot().Minus(burstStart)
	fmt.Printf("\n%s: pull request previews, a namespace of %d ConfigMaps, each head changing 5 of them (2 preview workers); %s\n\n",
		bin.Name, objects, benchenv.Load())
	fmt.Printf("| %-58s | %-8s | %-8s | %-8s |\n", "measure", "p50", "p99", "max")
	fmt.Printf("|%s|%s|%s|%s|\n", benchenv.Dashes(60), benchenv.Dashes(10), benchenv.Dashes(10), benchenv.Dashes(10))
	row := func(name string, d []time.Duration) {
		sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
		fmt.Printf("| %-58s | %-8s | %-8s | %-8s |\n", name, benchenv.Ms(benchenv.Pct(d, 0.5)), benchenv.Ms(benchenv.Pct(d, 0.99)), benchenv.Ms(d[len(d)-1]))
	}
	row(fmt.Sprintf("webhook → preview status posted, %d pushes to one PR", n), pushes)
	row(fmt.Sprintf("webhook → status, %d PRs opened at once (%d rounds)", prs, rounds), burstAll)
	row(fmt.Sprintf("the burst: first webhook → all %d statuses", prs), bursts)
	row("push to the branch → deployed, alone", alone)
	row(fmt.Sprintf("push to the branch → deployed, beside %d PRs", prs), beside)
	fmt.Printf("\nAPI requests per round (reads / writes / dry runs): a push alone %s; a push beside %d PRs %s\n",
		perRound(aloneCounts), prs, perRound(burstCounts))
	return nil
}

// preview posts the pull_request webhook for head and waits until its
// preview status is on it.
func (b *bench) preview(ctx context.Context, number int, head string, again bool) (time.Duration, error) {
	action := "opened"
	if again {
		action = "synchronize"
	}
	body, _ := json.Marshal(map[string]any{"action": action, "number": number, "repository": map[string]any{"full_name": repoNm},
		"pull_request": map[string]any{"head": map[string]any{"sha": head, "repo": map[string]any{"full_name": repoNm}},
			"base": map[string]any{"ref": b.repo.Branch(), "repo": map[string]any{"full_name": repoNm}}}})
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url+"/hooks/github", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "pull_request")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return 0, fmt.Errorf("webhook answered %s", resp.Status)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if st, ok := b.gh.Latest(repoNm, head, "syncgate/bench/"+ns+"/preview"); ok && st.State != "pending" {
			if st.State != "success" {
				return 0, fmt.Errorf("%s: %s %s", head[:7], st.State, st.Description)
			}
			return time.Since(start), nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, fmt.Errorf("no preview status on %s", head[:7])
}

// sync pushes a change of one object to the branch and waits until it is
// deployed.
func (b *bench) sync(ctx context.Context, tag string) (time.Duration, error) {
	sha, err := b.repo.CommitFiles(tag, map[string]string{ns + "/cm-099.yaml": configMap(99, strings.ReplaceAll(tag, " ", "-"))})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := demo.PostPush(ctx, b.url, secret, sha); err != nil {
		return 0, err
	}
	if err := benchenv.WaitDeployed(ctx, b.url, ns, sha); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func perRound(c benchenv.Counts) string {
	return fmt.Sprintf("%.0f / %.0f / %.0f", float64(c.Reads)/rounds, float64(c.Writes)/rounds, float64(c.DryRuns)/rounds)
}

// envFlag collects repeated -env NAME=value.
type envFlag []string

func (e *envFlag) String() string { return strings.Join(*e, " ") }

func (e *envFlag) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q is not NAME=value", v)
	}
	*e = append(*e, v)
	return nil
}

// keepLog copies the agent's log out of work before work is removed.
func keepLog(work, to string) {
	b, err := os.ReadFile(filepath.Join(work, "syncgate.log"))
	if err == nil {
		err = os.WriteFile(to, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: keep the agent's log:", err)
	}
}
