package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/syncgate/syncgate/coreclient"
	"github.com/syncgate/syncgate/server"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/githubstatus"
	"github.com/syncgate/syncgate/status/gitlabstatus"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/previewreport"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/gitsource"
	"github.com/syncgate/syncgate/sync/preview"
	"github.com/syncgate/syncgate/sync/priority"
	"github.com/syncgate/syncgate/sync/render"
)

// ledgerName is the ConfigMap, in syncgate's namespace, holding the
// previews' owed reports and unanswered requests.
const ledgerName = "syncgate-previews"

// previewParts are pull request previews: the previewer and the delivery
// of their reports, both run by the leader.
type previewParts struct {
	previewer *preview.Previewer
	deliverer *outbox.Deliverer
}

// assemblePreviews builds the previews, or nil when PREVIEW_WORKERS is 0.
// forge is the commit-status reporter, whose forge previews report to.
func assemblePreviews(cfg *config, logger *slog.Logger, core *coreclient.Client, src *gitsource.Source, renderer *render.Renderer,
	applier *apply.Applier, watcher *server.VersionWatcher, gate *priority.Gate, forge status.Reporter) (*previewParts, error) {
	if cfg.PreviewWorkers == 0 {
		return nil, nil
	}
	ledger := previewreport.NewLedger(core.ConfigMaps(cfg.LeaseNamespace), cfg.LeaseNamespace, ledgerName)
	pp := &previewParts{}
	var sinks previewreport.Sinks
	log := logger.With("component", "preview")
	previewer, err := preview.New(preview.Options{
		Cluster: cfg.Cluster, Namespaces: cfg.Namespaces, Source: src, Renderer: renderer, Planner: applier,
		Live: func(ns string) (string, []apply.Entry) {
			v := watcher.Get(ns)
			if v == nil {
				return "", nil
			}
			out := make([]apply.Entry, 0, len(v.Status.Inventory))
			for _, e := range v.Status.Inventory {
				out = append(out, apply.Entry{ObjectRef: apply.ObjectRef{Group: e.Group, Version: e.Version, Kind: e.Kind, Namespace: e.Namespace, Name: e.Name}, Hash: e.Hash})
			}
			return v.Status.Applied, out
		},
		Journal: ledger, Workers: int(cfg.PreviewWorkers), Gate: gate, Logger: log,
		Done: func(req preview.Request, res *preview.Result) {
			recordPreview(ledger, cfg.Cluster, req, res, &sinks, log)
			pp.deliverer.Kick()
		},
	})
	if err != nil {
		return nil, err
	}
	var f previewreport.Forge
	switch r := forge.(type) {
	case *githubstatus.Reporter:
		f.GitHub = r
	case *gitlabstatus.Reporter:
		f.GitLab = r
	}
	reporters, s, err := previewreport.Reporters(previewreport.Options{Cluster: cfg.Cluster, Forge: f, Ledger: ledger, Results: previewer, PublicURL: cfg.PublicURL})
	if err != nil {
		return nil, err
	}
	sinks = s
	pp.previewer = previewer
	pp.deliverer, err = outbox.NewDeliverer(outbox.Options{Store: ledger, Namespaces: append(append([]string(nil), cfg.Namespaces...), previewreport.CommentKey),
		Reporters: previewreport.GiveWay(gate, reporters), Logger: log})
	if err != nil {
		return nil, err
	}
	return pp, nil
}

// recordPreview records the reports a preview owes, retrying a while: an
// answer not recorded stays a request in the ledger, made again by the
// next leader.
func recordPreview(ledger *previewreport.Ledger, cluster string, req preview.Request, res *preview.Result, sinks *previewreport.Sinks, log *slog.Logger) {
	delay := time.Second
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := ledger.Record(ctx, cluster, req, res, *sinks)
		cancel()
		if err == nil {
			return
		}
		if attempt == 5 {
			log.Error("cannot record a preview's reports; it is made again after a restart", "sha", res.SHA, "err", err)
			return
		}
		log.Warn("cannot record a preview's reports; retrying", "sha", res.SHA, "err", err)
		time.Sleep(delay)
		delay *= 2
	}
}

// forgeOf is the commit-status reporter among rs, if any.
func forgeOf(rs []status.Reporter) status.Reporter {
	for _, r := range rs {
		switch r.(type) {
		case *githubstatus.Reporter, *gitlabstatus.Reporter:
			return r
		}
	}
	return nil
}
