package cart_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/cart"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// A customer's cart has one ID from the first look, even when several first looks race, and
// ByID gives it to that customer only.
func TestCustomerCartID(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t, postgres.Options{MaxConns: 4})
	ctx := context.Background()
	s := cart.NewService(d)
	user := func(email string) int64 {
		var id int64
		require.NoError(t, d.Pool.QueryRow(ctx, `INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`, email).Scan(&id))
		return id
	}
	alice, bob := user("alice@example.com"), user("bob@example.com")

	const looks = 8
	type result struct {
		id  int64
		err error
	}
	results := make(chan result, looks)
	start := make(chan struct{})
	for range looks {
		go func() {
			<-start
			c, err := s.Get(ctx, cart.Owner{UserID: &alice})
			results <- result{c.ID, err}
		}()
	}
	close(start)
	var id int64
	for range looks {
		r := <-results
		require.NoError(t, r.err)
		require.NotZero(t, r.id)
		if id == 0 {
			id = r.id
		}
		require.Equal(t, id, r.id, "every first look sees the same cart")
	}
	var carts int
	require.NoError(t, d.Pool.QueryRow(ctx, `SELECT count(*) FROM carts WHERE user_id = $1`, alice).Scan(&carts))
	require.Equal(t, 1, carts)

	c, err := s.ByID(ctx, cart.Owner{UserID: &alice}, id)
	require.NoError(t, err)
	require.Equal(t, id, c.ID)
	require.Empty(t, c.Lines)
	for name, o := range map[string]cart.Owner{
		"another customer": {UserID: &bob},
		"anonymous":        {},
		"a token":          {Token: "some-token"},
	} {
		_, err := s.ByID(ctx, o, id)
		require.True(t, apperr.Is(err, apperr.NotFound), "%s: %v", name, err)
	}
	_, err = s.ByID(ctx, cart.Owner{UserID: &alice}, id+1000)
	require.True(t, apperr.Is(err, apperr.NotFound), "a missing cart: %v", err)
}
