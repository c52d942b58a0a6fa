package cart_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/cart"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// The purge job deletes the guest carts left unchanged for its TTL, with their lines, however
// many there are; a guest cart changed since, and customers' carts however old, stay.
func TestPurgeGuestCarts(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	ctx := context.Background()
	s := cart.NewService(d)
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := d.Pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		require.NoError(t, d.Pool.QueryRow(ctx, sql, args...).Scan(&n))
		return n
	}
	var variant, alice int64
	require.NoError(t, d.Pool.QueryRow(ctx, `
		WITH p AS (INSERT INTO products (name, slug, currency) VALUES ('Mug', 'mug', 'USD') RETURNING id)
		INSERT INTO product_variants (product_id, sku, price_amount, currency, stock)
		SELECT id, 'MUG', 1000, 'USD', 100 FROM p RETURNING id`).Scan(&variant))
	require.NoError(t, d.Pool.QueryRow(ctx, `INSERT INTO users (email, password_hash) VALUES ('alice@example.com', 'x') RETURNING id`).Scan(&alice))
	guest := func() string {
		t.Helper()
		issued, err := s.Get(ctx, cart.Owner{})
		require.NoError(t, err)
		_, err = s.AddItem(ctx, cart.Owner{Token: issued.Token}, variant, 1)
		require.NoError(t, err)
		return issued.Token
	}
	const byToken = `token_hash = sha256($1::text::bytea)`
	age := func(where string, days int, args ...any) {
		t.Helper()
		exec(`UPDATE carts SET updated_at = now() - make_interval(days => `+strconv.Itoa(days)+`) WHERE `+where, args...)
	}

	left, changed, fresh := guest(), guest(), guest()
	age(byToken, 31, left)
	age(byToken, 31, changed)
	age(byToken, 29, fresh)
	_, err := s.AddItem(ctx, cart.Owner{Token: changed}, variant, 1) // a change marks it
	require.NoError(t, err)
	_, err = s.AddItem(ctx, cart.Owner{UserID: &alice}, variant, 1)
	require.NoError(t, err)
	age(`user_id = $1`, 400, alice)
	// More old guest carts than one batch deletes.
	exec(`INSERT INTO carts (token_hash, updated_at) SELECT sha256(g::text::bytea), now() - interval '40 days' FROM generate_series(1, 2500) g`)

	w := &cart.PurgeWorker{Carts: s, After: 30 * 24 * time.Hour}
	require.NoError(t, w.Work(ctx, &river.Job[jobs.PurgeGuestCartsArgs]{}))

	require.Zero(t, count(`SELECT count(*) FROM carts WHERE `+byToken, left), "a guest cart left unchanged for the TTL is purged")
	require.Zero(t, count(`SELECT count(*) FROM cart_lines l WHERE NOT EXISTS (SELECT FROM carts c WHERE c.id = l.cart_id)`), "with its lines")
	require.Equal(t, 1, count(`SELECT count(*) FROM carts WHERE `+byToken, changed), "a change since keeps a guest cart")
	require.Equal(t, 1, count(`SELECT count(*) FROM carts WHERE `+byToken, fresh), "a guest cart younger than the TTL stays")
	require.Equal(t, 1, count(`SELECT count(*) FROM carts WHERE user_id = $1`, alice), "a customer's cart stays however old")
	require.Equal(t, 3, count(`SELECT count(*) FROM carts`), "every old guest cart is purged, past the first batch")
}
