package app

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// openReplica sends the catalog's reads to DATABASE_REPLICA_URL when it is set. The
// read-your-writes marks go to Redis when there is one (every instance must see a session's
// mark: its next request may reach another instance), whatever CACHE says.
func (a *App) openReplica(ctx context.Context, cfg config.Config, namespace string, tracer pgx.QueryTracer) error {
	if cfg.DatabaseReplicaURL == "" {
		return nil
	}
	var marks postgres.WriteMarks
	if a.Redis != nil {
		marks = cache.NewRedis(a.Redis, namespace+"replica:", cache.RedisOptions{Logger: a.Log})
	}
	r, err := postgres.OpenReplica(ctx, cfg.DatabaseReplicaURL, a.DB, postgres.ReplicaOptions{
		MaxLag: cfg.DatabaseReplicaMaxLag, Session: viewerSession, Marks: marks,
		MaxConns: cfg.DBMaxConns, Tracer: tracer, Log: a.Log,
	})
	if err != nil {
		return err
	}
	a.Replica = r
	a.Catalog.UseReplica(r)
	a.Cache.RepeatInvalidations(r.AfterReplay)
	return nil
}

// viewerSession keys read-your-writes by account: a user's every session reads back what any
// of them wrote. Anonymous viewers write nothing the catalog shows.
func viewerSession(ctx context.Context) string {
	v, ok := auth.ViewerFrom(ctx)
	if !ok || v.UserID == 0 {
		return ""
	}
	return strconv.FormatInt(v.UserID, 10)
}

// replicaHooks connect GraphQL operations to the replica: one reading of the viewer's mark
// per operation, and the mark set after a mutation that wrote.
func (a *App) replicaHooks() (begin func(context.Context) context.Context, wrote func(context.Context)) {
	if a.Replica == nil {
		return nil, nil
	}
	return a.Replica.WithSession, a.Replica.NoteWrite
}

// closeReplica closes the replica's pool, if any.
func (a *App) closeReplica() {
	if a.Replica != nil {
		a.Replica.Close()
	}
}
