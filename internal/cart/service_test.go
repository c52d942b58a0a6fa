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

// A cart's ID is known before its row exists and stays when the first change creates the row:
// reading a cart writes nothing, the first add (however many race) creates one row under the
// owner, and ByID gives the cart to its owner only.
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
	var variant int64
	require.NoError(t, d.Pool.QueryRow(ctx, `
		WITH p AS (INSERT INTO products (name, slug, currency) VALUES ('Mug', 'mug', 'USD') RETURNING id)
		INSERT INTO product_variants (product_id, sku, price_amount, currency, stock)
		SELECT id, 'MUG', 1000, 'USD', 100 FROM p RETURNING id`).Scan(&variant))
	carts := func(t *testing.T, where string, args ...any) int {
		var n int
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT count(*) FROM carts WHERE `+where, args...).Scan(&n))
		return n
	}
	// race runs f n times at once and returns the carts' IDs.
	race := func(t *testing.T, n int, f func() (cart.Cart, error)) []string {
		errs, ids := make(chan error, n), make(chan string, n)
		start := make(chan struct{})
		for range n {
			go func() {
				<-start
				c, err := f()
				errs <- err
				ids <- c.GlobalID()
			}()
		}
		close(start)
		out := make([]string, 0, n)
		for range n {
			require.NoError(t, <-errs)
			out = append(out, <-ids)
		}
		return out
	}
	requireAll := func(t *testing.T, want string, ids []string, msg string) {
		t.Helper()
		for _, id := range ids {
			require.Equal(t, want, id, msg)
		}
	}
	notFound := func(t *testing.T, o cart.Owner, id, who string) {
		t.Helper()
		_, err := s.ByID(ctx, o, id)
		require.True(t, apperr.Is(err, apperr.NotFound), "%s: %v", who, err)
	}

	t.Run("a customer", func(t *testing.T) {
		alice, bob := user("alice@example.com"), user("bob@example.com")
		looked, err := s.Get(ctx, cart.Owner{UserID: &alice})
		require.NoError(t, err)
		id := looked.GlobalID()
		require.NotEmpty(t, id)
		require.Empty(t, looked.Token)
		requireAll(t, id, race(t, 4, func() (cart.Cart, error) { return s.Get(ctx, cart.Owner{UserID: &alice}) }), "every look sees one ID")
		require.Zero(t, carts(t, "user_id = $1", alice), "a look creates no cart")

		requireAll(t, id, race(t, 4, func() (cart.Cart, error) { return s.AddItem(ctx, cart.Owner{UserID: &alice}, variant, 1) }), "the first adds keep the ID")
		require.Equal(t, 1, carts(t, "user_id = $1", alice), "racing first adds create one cart")
		c, err := s.ByID(ctx, cart.Owner{UserID: &alice}, id)
		require.NoError(t, err)
		require.Equal(t, id, c.GlobalID())
		require.Equal(t, 4, c.TotalQuantity())

		guest, err := s.Get(ctx, cart.Owner{})
		require.NoError(t, err)
		guestToken := guest.Token
		bobs, err := s.Get(ctx, cart.Owner{UserID: &bob})
		require.NoError(t, err)
		require.NotEqual(t, id, bobs.GlobalID())
		c, err = s.ByID(ctx, cart.Owner{UserID: &bob}, bobs.GlobalID())
		require.NoError(t, err, "a customer without a cart row resolves their cart's ID")
		require.Empty(t, c.Lines)
		require.Zero(t, carts(t, "user_id = $1", bob), "ByID creates no cart")
		for name, o := range map[string]cart.Owner{
			"another customer": {UserID: &bob},
			"anonymous":        {},
			"a guest":          {Token: guestToken},
		} {
			notFound(t, o, id, name)
		}
	})

	t.Run("a guest", func(t *testing.T) {
		issued, err := s.Get(ctx, cart.Owner{})
		require.NoError(t, err)
		token, id := issued.Token, issued.GlobalID()
		require.NotEmpty(t, token, "a guest without a token is issued one")
		require.NotEmpty(t, id)
		require.NotContains(t, id, token[:8], "the ID does not reveal the token")
		guest := cart.Owner{Token: token}
		again, err := s.Get(ctx, guest)
		require.NoError(t, err)
		require.Equal(t, id, again.GlobalID())
		require.Empty(t, again.Token, "a token is issued once")
		require.Zero(t, carts(t, "user_id IS NULL"), "a look creates no cart")

		requireAll(t, id, race(t, 4, func() (cart.Cart, error) { return s.AddItem(ctx, guest, variant, 1) }), "the first adds keep the ID")
		require.Equal(t, 1, carts(t, "user_id IS NULL"), "racing first adds create one cart, under the issued token")
		c, err := s.Get(ctx, guest)
		require.NoError(t, err)
		require.Equal(t, id, c.GlobalID())
		require.Equal(t, 4, c.TotalQuantity())
		c, err = s.ByID(ctx, guest, id)
		require.NoError(t, err)
		require.Equal(t, 4, c.TotalQuantity())

		other, err := s.Get(ctx, cart.Owner{})
		require.NoError(t, err)
		require.NotEqual(t, token, other.Token)
		require.NotEqual(t, id, other.GlobalID())
		carol := user("carol@example.com")
		for name, o := range map[string]cart.Owner{
			"another guest":         {Token: other.Token},
			"a customer":            {UserID: &carol},
			"no token":              {},
			"a malformed token":     {Token: token[:20]},
			"a token's ID as token": {Token: id},
		} {
			notFound(t, o, id, name)
		}

		// A token that is not well formed is never used: the guest is issued a new one.
		for _, bad := range []string{"no-such-token", token + "A", token[:42] + "!"} {
			c, err := s.AddItem(ctx, cart.Owner{Token: bad}, variant, 1)
			require.NoError(t, err)
			require.NotEmpty(t, c.Token, bad)
			require.NotEqual(t, bad, c.Token)
			require.NotEqual(t, id, c.GlobalID())
		}
	})

	t.Run("signing in merges a guest cart into the customer's, which keeps its ID", func(t *testing.T) {
		dave := user("dave@example.com")
		mine, err := s.Get(ctx, cart.Owner{UserID: &dave})
		require.NoError(t, err)
		issued, err := s.Get(ctx, cart.Owner{})
		require.NoError(t, err)
		_, err = s.AddItem(ctx, cart.Owner{Token: issued.Token}, variant, 2)
		require.NoError(t, err)
		const guestRow = "user_id IS NULL AND token_hash = sha256($1::text::bytea)"
		require.Equal(t, 1, carts(t, guestRow, issued.Token))
		merged, err := s.Get(ctx, cart.Owner{UserID: &dave, Token: issued.Token})
		require.NoError(t, err)
		require.True(t, merged.Merged)
		require.Equal(t, mine.GlobalID(), merged.GlobalID())
		require.Equal(t, 2, merged.TotalQuantity())
		c, err := s.ByID(ctx, cart.Owner{UserID: &dave, Token: issued.Token}, issued.GlobalID())
		require.NoError(t, err, "the token's holder still owns its guest cart's ID")
		require.Empty(t, c.Lines, "whose lines moved to the customer's cart")
		require.Zero(t, carts(t, guestRow, issued.Token))
	})
}
