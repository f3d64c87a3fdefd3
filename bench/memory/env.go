package main

import (
	"context"
	"fmt"
	"maps"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

// agentNamespace is syncgate's own (POD_NAMESPACE), never managed.
const agentNamespace = "syncgate-system"

// env is what every run shares: one control plane, one git server, one
// artifact server for Flux, and watches on both tools' reports.
type env struct {
	*benchenv.Beside
	o    *options
	work string
	runs int // names each run's namespaces and repos apart
}

func start(ctx context.Context, o *options, work string) (*env, error) {
	b, err := benchenv.StartBeside(ctx, agentNamespace, o.flux, nil)
	if err != nil {
		return nil, err
	}
	return &env{Beside: b, o: o, work: work}, nil
}

// namespaces are n fresh namespace names for one run, created.
func (e *env) namespaces(ctx context.Context, tag string, n int) ([]string, error) {
	e.runs++
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("mem%d-%s-%03d", e.runs, tag, i)
	}
	return names, e.CreateNamespaces(ctx, names)
}

// manyNamespaces creates the namespaces of scenario many and returns them
// with the files of their objects.
func (e *env) manyNamespaces(ctx context.Context, tag string) ([]string, map[string]string, error) {
	namespaces, err := e.namespaces(ctx, tag, e.o.namespaces)
	if err != nil {
		return nil, nil, err
	}
	all := map[string]string{}
	for _, ns := range namespaces {
		maps.Copy(all, benchenv.Files(ns, e.o.perNS, 0))
	}
	return namespaces, all, nil
}
