package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopgraph/shopgraph/internal/postgres"
)

// ReplicaStatser is the catalog's read replica (*postgres.Replica).
type ReplicaStatser interface {
	Stats() postgres.ReplicaStats
}

func replicaDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_replica", name), help, labels, nil)
}

var (
	replicaReads = replicaDesc("reads_total",
		"Catalog reads by the server they were sent to: replica, or primary (a session reading back its own writes, a mutation, or a replica lagging or down).", "target")
	replicaFallbacks = replicaDesc("fallbacks_total",
		"Reads that found the replica unreachable and ran on the primary instead.")
	replicaUsable = replicaDesc("usable",
		"1 while the replica answers and is at most DATABASE_REPLICA_MAX_LAG behind, at the last probe; 0 otherwise.")
	replicaLag = replicaDesc("lag_seconds",
		"How stale the replica was at the last probe.")
)

// WatchReplica reports the read replica's routing counters and its probe's verdict at each
// scrape.
func (r *Registry) WatchReplica(rs ReplicaStatser) {
	r.reg.MustRegister(&replicaCollector{r: rs})
}

type replicaCollector struct{ r ReplicaStatser }

func (c *replicaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{replicaReads, replicaFallbacks, replicaUsable, replicaLag} {
		ch <- d
	}
}

func (c *replicaCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.Stats()
	usable := 0.0
	if s.Usable {
		usable = 1
	}
	ch <- prometheus.MustNewConstMetric(replicaReads, prometheus.CounterValue, float64(s.ReplicaReads), "replica")
	ch <- prometheus.MustNewConstMetric(replicaReads, prometheus.CounterValue, float64(s.PrimaryReads), "primary")
	ch <- prometheus.MustNewConstMetric(replicaFallbacks, prometheus.CounterValue, float64(s.Fallbacks))
	ch <- prometheus.MustNewConstMetric(replicaUsable, prometheus.GaugeValue, usable)
	ch <- prometheus.MustNewConstMetric(replicaLag, prometheus.GaugeValue, s.Lag.Seconds())
}
