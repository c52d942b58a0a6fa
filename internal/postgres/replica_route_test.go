package postgres

import "testing"

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
