package main

import (
	"context"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
)

const secret = "bench-scale-secret"

// agent is one syncgate binary running against a counting proxy.
type agent = benchenv.ProxiedAgent

func startAgent(ctx context.Context, bin, work string, c *cluster.Cluster, repoURL string, namespaces []string, env []string) (*agent, error) {
	return benchenv.StartProxiedAgent(ctx, c.RESTConfig(), benchenv.AgentOptions{
		Bin: bin, Work: work, RepoURL: repoURL, Namespaces: namespaces, Secret: secret,
		Env: append([]string{"APPLY_SERVICE_ACCOUNT=" + demo.ApplyServiceAccount}, env...),
	})
}

// versions follows every Version (benchenv.Deployed).
type versions = benchenv.Deployed

func watchVersions(ctx context.Context, c *cluster.Cluster) (*versions, error) {
	return benchenv.WatchDeployed(ctx, c.RESTConfig(), nil)
}
