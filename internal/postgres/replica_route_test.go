package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The replica runs what only reads: plain SELECTs and WITH queries none of whose parts
// writes (the catalog's ranked search and facets); everything else goes to the primary.
func TestReplicaCanRun(t *testing.T) {
	for sql, want := range map[string]bool{
		"-- name: ProductGet :one\nSELECT id FROM products WHERE id = $1":                                                        true,
		"-- name: ProductListRelevanceForward :many\n-- ranked\nWITH named AS (SELECT p.id FROM products p) SELECT * FROM named": true,
		"WITH sets AS MATERIALIZED (SELECT 1) SELECT * FROM sets":                                                                true,
		"WITH moved AS (UPDATE product_variants SET stock = stock - 1 RETURNING id) SELECT id FROM moved":                        false,
		"WITH gone AS (DELETE FROM carts WHERE id = $1 RETURNING id) SELECT id FROM gone":                                        false,
		"WITH n AS (SELECT 1) INSERT INTO t SELECT * FROM n":                                                                     false,
		"INSERT INTO products (name) VALUES ($1)":                                                                                false,
		"UPDATE products SET name = $1":                                                                                          false,
		"-- only a comment":                                                                                                      false,
	} {
		if got := replicaCanRun(sql); got != want {
			t.Errorf("replicaCanRun(%q) = %v, want %v", sql, got, want)
		}
	}
}

// TestMemoryMarksRaise: without Redis, a session's mark only rises too, and expires.
func TestMemoryMarksRaise(t *testing.T) {
	ctx := context.Background()
	m := &memoryMarks{m: map[string]memoryMark{}}
	get := func(key string) string {
		got, err := m.Get(ctx, key)
		require.NoError(t, err)
		return string(got[key])
	}
	require.NoError(t, m.Raise(ctx, "s", 10, time.Minute))
	require.NoError(t, m.Raise(ctx, "s", 5, time.Minute))
	require.Equal(t, "10", get("s"))
	require.NoError(t, m.Raise(ctx, "s", 12, time.Minute))
	require.Equal(t, "12", get("s"))

	require.NoError(t, m.Raise(ctx, "gone", 50, time.Nanosecond))
	time.Sleep(time.Millisecond)
	require.Empty(t, get("gone"), "expired")
	require.NoError(t, m.Raise(ctx, "gone", 7, time.Minute))
	require.Equal(t, "7", get("gone"), "an expired mark does not hold a later one down")
}
