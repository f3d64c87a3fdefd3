package main

import (
	"log/slog"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/shard"
)

// shardParts are what one shard's leader runs besides its workers.
type shardParts struct {
	namespaces []string
	// deliverer delivers the reports owed in the shard's Versions: the
	// shard's leader is the only writer of those, reports included.
	deliverer *outbox.Deliverer
}

// assembleShards builds each shard's deliverer from opts (whose
// Namespaces, Logger and Metrics it sets), and the outbox the syncer
// records in, which hands each namespace's reports to its shard's
// deliverer. With one shard it is that shard's deliverer, as without
// sharding.
func assembleShards(cfg *config, logger *slog.Logger, reg prometheus.Registerer, opts outbox.Options) ([]shardParts, shardOutbox, error) {
	n := int(cfg.Shards)
	split := shard.Split(cfg.Namespaces, n)
	parts := make([]shardParts, n)
	for i := range n {
		o := opts
		o.Namespaces, o.Logger, o.Metrics = split[i], logger.With("component", "report"), reg
		if n > 1 {
			o.Logger = o.Logger.With("shard", i)
			o.Metrics = prometheus.WrapRegistererWith(prometheus.Labels{"shard": strconv.Itoa(i)}, reg)
		}
		d, err := outbox.NewDeliverer(o)
		if err != nil {
			return nil, nil, err
		}
		parts[i] = shardParts{namespaces: split[i], deliverer: d}
	}
	out := make(shardOutbox, n)
	for i, p := range parts {
		out[i] = p.deliverer
	}
	return parts, out, nil
}

// shardOutbox records a namespace's reports with its shard's deliverer.
type shardOutbox []*outbox.Deliverer

func (o shardOutbox) Record(st *version.VersionStatus, u status.Update) {
	o[shard.Of(u.Namespace, len(o))].Record(st, u)
}

func (o shardOutbox) Kick() {
	for _, d := range o {
		d.Kick()
	}
}
