package catalog_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/replicatest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

// replicaMaxLag is the test's DATABASE_REPLICA_MAX_LAG: short, so that the lag test is quick,
// long enough for the reads that must come from a paused replica.
const replicaMaxLag = 2 * time.Second

type replicaBundle struct {
	pair     *replicatest.Pair
	primary  *postgres.DB
	replica  *postgres.Replica
	svc      *catalog.Service
	vendor   auth.Viewer
	customer auth.Viewer
}

// setupReplica starts a primary and its streaming replica (scripts/replica.sh), migrates the
// primary, and builds the catalog over both, with the in-process cache repeating its
// invalidations after replay, as internal/app wires it.
func setupReplica(t *testing.T) replicaBundle {
	t.Helper()
	ctx := context.Background()
	pair := replicatest.Start(t)
	primary, err := postgres.Open(ctx, pair.PrimaryURL, postgres.Options{MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(primary.Close)
	require.NoError(t, postgres.Migrate(ctx, primary.Pool))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r, err := postgres.OpenReplica(ctx, pair.ReplicaURL, primary, postgres.ReplicaOptions{
		MaxLag: replicaMaxLag, ProbeInterval: 50 * time.Millisecond, MaxConns: 4, Log: log,
		Session: func(ctx context.Context) string {
			if v, ok := auth.ViewerFrom(ctx); ok {
				return strconv.FormatInt(v.UserID, 10)
			}
			return ""
		},
	})
	require.NoError(t, err)
	t.Cleanup(r.Close)
	c := cache.New(cache.NewMemory(1000))
	c.RepeatInvalidations(r.AfterReplay)
	svc := catalog.NewService(primary, c, log)
	svc.UseReplica(r)
	b := replicaBundle{
		pair: pair, primary: primary, replica: r, svc: svc,
		vendor:   tf.NewUser(t, primary, tf.UserOpts{Role: auth.RoleVendor}).Viewer(),
		customer: tf.NewUser(t, primary, tf.UserOpts{}).Viewer(),
	}
	b.caughtUp(t)
	return b
}

// caughtUp waits until the probe has seen the replica replay everything committed so far.
func (b replicaBundle) caughtUp(t *testing.T) {
	t.Helper()
	lsn, err := b.primary.WalInsertLSN(context.Background())
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		s := b.replica.Stats()
		return s.Usable && s.Replayed >= lsn
	}, 10*time.Second, 20*time.Millisecond, "the replica does not catch up: %+v", b.replica.Stats())
}

// request is the context of one request of v (nil: anonymous), as the GraphQL handler makes it.
func (b replicaBundle) request(v *auth.Viewer) context.Context {
	ctx := context.Background()
	if v != nil {
		ctx = auth.WithViewer(ctx, *v)
	}
	return b.replica.WithSession(ctx)
}

// write runs fn as the writer's mutation does: writes tracked, then the session marked.
func (b replicaBundle) write(t *testing.T, v auth.Viewer, fn func(ctx context.Context) error) {
	t.Helper()
	ctx := postgres.TrackWrites(b.request(&v))
	require.NoError(t, fn(ctx))
	require.True(t, postgres.Wrote(ctx))
	b.replica.NoteWrite(ctx)
}

func (b replicaBundle) names(t *testing.T, v *auth.Viewer) []string {
	t.Helper()
	page, err := b.svc.List(b.request(v), v, catalog.ListParams{})
	require.NoError(t, err)
	var out []string
	for _, p := range page.Products {
		out = append(out, p.Name)
	}
	return out
}

func (b replicaBundle) nameOf(t *testing.T, v *auth.Viewer, id int64) string {
	t.Helper()
	p, err := b.svc.Get(b.request(v), v, id)
	require.NoError(t, err)
	return p.Name
}

func (b replicaBundle) create(t *testing.T, ctx context.Context, name string) catalog.Product {
	t.Helper()
	p, err := b.svc.Create(ctx, b.vendor, catalog.CreateInput{Name: name, Currency: "USD",
		Variants: []catalog.VariantInput{{SKU: name, Name: "One", Price: 1000, Stock: 3}}})
	require.NoError(t, err)
	return p
}

func TestReplicaReads(t *testing.T) {
	t.Parallel()
	b := setupReplica(t)
	ctx := context.Background()

	var mug catalog.Product
	b.write(t, b.vendor, func(ctx context.Context) error { mug = b.create(t, ctx, "Mug"); return nil })
	b.caughtUp(t)
	require.Equal(t, []string{"Mug"}, b.names(t, &b.customer))
	require.Equal(t, "Mug", b.nameOf(t, &b.customer, mug.ID), "now cached")

	t.Run("reads go to the replica; the writer reads its own writes, others once replayed", func(t *testing.T) {
		b.pair.PauseReplay(ctx)
		before := b.replica.Stats()
		b.write(t, b.vendor, func(ctx context.Context) error {
			b.create(t, ctx, "Bowl")
			_, err := b.svc.Update(ctx, b.vendor, catalog.UpdateInput{ID: mug.ID, Name: ptr("Big Mug")})
			return err
		})

		require.Equal(t, []string{"Mug"}, b.names(t, &b.customer), "another customer's list comes from the paused replica")
		require.Equal(t, "Mug", b.nameOf(t, &b.customer, mug.ID), "and so does the product, cached again as the replica has it")
		require.Equal(t, []string{"Mug"}, b.names(t, nil), "and an anonymous list")
		require.Greater(t, b.replica.Stats().ReplicaReads, before.ReplicaReads)

		require.ElementsMatch(t, []string{"Big Mug", "Bowl"}, b.names(t, &b.vendor), "the writer's list comes from the primary")
		require.Equal(t, "Big Mug", b.nameOf(t, &b.vendor, mug.ID), "past the cache that another viewer's replica read filled")

		b.pair.ResumeReplay(ctx)
		b.caughtUp(t)
		require.Eventually(t, func() bool {
			return len(b.names(t, &b.customer)) == 2 && b.nameOf(t, &b.customer, mug.ID) == "Big Mug"
		}, 5*time.Second, 20*time.Millisecond, "the customer sees the writes once the replica has them: the cache repeated its invalidation")
		require.ElementsMatch(t, []string{"Big Mug", "Bowl"}, b.names(t, &b.customer))
		require.ElementsMatch(t, []string{"Big Mug", "Bowl"}, b.names(t, nil))
		require.False(t, b.replica.ReadsPrimary(b.request(&b.vendor)), "the writer is back on the replica once it has replayed the write")
	})

	t.Run("a replica lagging beyond the setting: reads go to the primary", func(t *testing.T) {
		b.pair.PauseReplay(ctx)
		b.create(t, ctx, "Plate") // no session: nobody's read-your-writes
		require.Eventually(t, func() bool { return !b.replica.Stats().Usable }, 3*replicaMaxLag, 20*time.Millisecond,
			"the probe must find the paused replica lagging: %+v", b.replica.Stats())
		require.Greater(t, b.replica.Stats().Lag, replicaMaxLag)
		before := b.replica.Stats()
		require.ElementsMatch(t, []string{"Big Mug", "Bowl", "Plate"}, b.names(t, &b.customer))
		after := b.replica.Stats()
		require.Equal(t, before.ReplicaReads, after.ReplicaReads)
		require.Greater(t, after.PrimaryReads, before.PrimaryReads)

		b.pair.ResumeReplay(ctx)
		b.caughtUp(t)
	})

	t.Run("a replica that is down: reads go to the primary without an error", func(t *testing.T) {
		b.create(t, ctx, "Cup")
		b.caughtUp(t)
		// A second router whose probe runs only when it opens, and a catalog without a cache:
		// the reads after the stop are the ones that find the replica gone.
		slow, err := postgres.OpenReplica(ctx, b.pair.ReplicaURL, b.primary, postgres.ReplicaOptions{
			MaxLag: replicaMaxLag, ProbeInterval: time.Hour, MaxConns: 2})
		require.NoError(t, err)
		t.Cleanup(slow.Close)
		require.True(t, slow.Stats().Usable)
		uncached := catalog.NewService(b.primary, cache.New(cache.Disabled{}), slog.New(slog.NewTextHandler(io.Discard, nil)))
		uncached.UseReplica(slow)
		list := func(svc *catalog.Service, v *auth.Viewer) []string {
			page, err := svc.List(b.request(v), v, catalog.ListParams{})
			require.NoError(t, err)
			var out []string
			for _, p := range page.Products {
				out = append(out, p.Name)
			}
			return out
		}
		all := []string{"Big Mug", "Bowl", "Plate", "Cup"}
		require.ElementsMatch(t, all, list(uncached, &b.customer))
		require.Equal(t, uint64(1), slow.Stats().ReplicaReads)

		b.pair.StopReplica()
		require.ElementsMatch(t, all, list(uncached, &b.customer), "the read that finds the replica gone runs on the primary")
		require.ElementsMatch(t, all, list(uncached, nil))
		_, err = uncached.Categories(b.request(nil))
		require.NoError(t, err)
		s := slow.Stats()
		require.Equal(t, uint64(1), s.Fallbacks, "one read found it gone; the next went to the primary straight away")
		require.False(t, s.Usable)

		require.Eventually(t, func() bool { return !b.replica.Stats().Usable }, 5*time.Second, 20*time.Millisecond,
			"the probe finds it gone")
		require.False(t, b.replica.OwnWritesPending(b.request(&b.customer)),
			"a viewer who wrote nothing keeps the cache while the replica is down")
		for _, v := range []*auth.Viewer{&b.customer, nil} {
			require.ElementsMatch(t, all, b.names(t, v))
		}
		page, err := b.svc.List(b.request(&b.customer), &b.customer, catalog.ListParams{Filter: catalog.Filter{Search: ptr("cup")}})
		require.NoError(t, err)
		require.Len(t, page.Products, 1)
	})
}
