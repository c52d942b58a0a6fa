package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"regexp"
	"testing"

	"github.com/shopgraph/shopgraph/db"
)

// TestSQLAloneFollowsQueries keeps bench/pgbench/checkout_sql.sql, the SQL alone that
// checkout.sh measures beside C1, in step with the statements the server sends: each of them
// is marked with its sqlc query and a hash of that query's text, and a query changed since
// (or one of an iteration left out) fails here until the script is brought up to date.
func TestSQLAloneFollowsQueries(t *testing.T) {
	script, err := os.ReadFile("../pgbench/checkout_sql.sql")
	if err != nil {
		t.Fatal(err)
	}
	// One C1 iteration, in the order the server sends them: two cartItemAdd (lock, put, view),
	// then checkout and the payment record.
	want := []string{
		"CartLockForUser", "CartItemPut", "CartViewQueued",
		"CartLockForUser", "CartItemPut", "CartViewQueued",
		"CheckoutBegin", "CheckoutLines", "StockReserve", "CheckoutPlaceOrder", "PaymentInsert",
	}
	queries := map[string]string{
		"CartLockForUser": db.CartLockForUser, "CartItemPut": db.CartItemPut, "CartViewQueued": db.CartViewQueued,
		"CheckoutBegin": db.CheckoutBegin, "CheckoutLines": db.CheckoutLines, "StockReserve": db.StockReserve,
		"CheckoutPlaceOrder": db.CheckoutPlaceOrder, "PaymentInsert": db.PaymentInsert,
	}
	marks := regexp.MustCompile(`(?m)^-- sqlc: (\w+) ([0-9a-f]{12})$`).FindAllStringSubmatch(string(script), -1)
	if len(marks) != len(want) {
		t.Fatalf("%d marked statements, want %d (%v)", len(marks), len(want), want)
	}
	for i, m := range marks {
		name, hash := m[1], m[2]
		if name != want[i] {
			t.Errorf("statement %d is %s, want %s", i+1, name, want[i])
			continue
		}
		sum := sha256.Sum256([]byte(queries[name]))
		if now := hex.EncodeToString(sum[:])[:12]; now != hash {
			t.Errorf("%s has changed since bench/pgbench/checkout_sql.sql copied it (hash %s, now %s): update the script's statement and its mark", name, hash, now)
		}
	}
}
