package address_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/address"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

type testBundle struct {
	d   *postgres.DB
	svc *address.Service
}

func setup(t *testing.T) testBundle {
	t.Helper()
	// Four connections: enough for the concurrent creates to race for the last places.
	d := pgtest.New(t, postgres.Options{MaxConns: 4})
	return testBundle{d: d, svc: address.NewService(d)}
}

func (b testBundle) customer(t *testing.T) auth.Viewer {
	t.Helper()
	return tf.NewUser(t, b.d, tf.UserOpts{}).Viewer()
}

func (b testBundle) create(t *testing.T, v auth.Viewer, p address.Postal) address.Address {
	t.Helper()
	a, err := b.svc.Create(context.Background(), v, p)
	require.NoError(t, err)
	return a
}

func (b testBundle) book(t *testing.T, userID int64) address.Book {
	t.Helper()
	books, err := b.svc.BooksByUserIDs(context.Background(), []int64{userID})
	require.NoError(t, err)
	return books[userID]
}

func ptr(s string) *string { return &s }

func TestService(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	t.Run("create saves the cleaned address; update patches it and checks the result", func(t *testing.T) {
		v := b.customer(t)
		a := b.create(t, v, address.Postal{Name: " Ada ", Line1: "1 Main St", City: "London", PostalCode: "sw1a1aa", Country: "GB"})
		require.Equal(t, "SW1A 1AA", a.PostalCode)
		require.Equal(t, "Ada", a.Name)
		require.Equal(t, v.UserID, a.UserID)

		// The country changes, and the postal code still there is checked against the new one.
		_, err := b.svc.Update(ctx, v, a.ID, address.Patch{Country: ptr("US")})
		require.Equal(t, []apperr.Code{address.InvalidPostalCode}, tf.Codes(err))
		require.Equal(t, []string{"input.postalCode"}, tf.Fields(err))
		require.Equal(t, "GB", b.book(t, v.UserID)[0].Country, "a refused update changes nothing")

		up, err := b.svc.Update(ctx, v, a.ID, address.Patch{Country: ptr("US"), PostalCode: ptr("12345"), Phone: ptr("+1 555 0100")})
		require.NoError(t, err)
		require.Equal(t, address.Postal{Name: "Ada", Line1: "1 Main St", City: "London", PostalCode: "12345", Country: "US", Phone: "+1 555 0100"}, up.Postal)
		up, err = b.svc.Update(ctx, v, a.ID, address.Patch{Phone: ptr("")})
		require.NoError(t, err)
		require.Empty(t, up.Phone, "an empty optional field clears it")
	})

	t.Run("an invalid address is refused with every field at fault", func(t *testing.T) {
		v := b.customer(t)
		_, err := b.svc.Create(ctx, v, address.Postal{Name: "", Line1: "x", City: "y", PostalCode: "1", Country: "XX"})
		require.Equal(t, []apperr.Code{apperr.Invalid, address.InvalidCountry}, tf.Codes(err))
		require.Equal(t, []string{"input.name", "input.country"}, tf.Fields(err))
		require.Empty(t, b.book(t, v.UserID))
	})

	t.Run("an account holds at most 50 addresses, even when they are added at once", func(t *testing.T) {
		v := b.customer(t)
		for i := range address.MaxPerAccount - 5 {
			b.create(t, v, postal("DE", fmt.Sprintf("%05d", 10000+i)))
		}
		// Ten concurrent creates for the last five places: five win, five are refused.
		errs := make(chan error, 10)
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := b.svc.Create(ctx, v, postal("DE", "10115"))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		refused := 0
		for err := range errs {
			if err != nil {
				require.Equal(t, []apperr.Code{address.LimitReached}, tf.Codes(err))
				refused++
			}
		}
		require.Equal(t, 5, refused)
		require.Len(t, b.book(t, v.UserID), address.MaxPerAccount)

		// Deleting one makes room for one.
		_, err := b.svc.Delete(ctx, v, b.book(t, v.UserID)[0].ID)
		require.NoError(t, err)
		b.create(t, v, postal("DE", "10115"))
		_, err = b.svc.Create(ctx, v, postal("DE", "10115"))
		require.Equal(t, []apperr.Code{address.LimitReached}, tf.Codes(err))
	})

	t.Run("one default per use moves between addresses; deleting it clears it", func(t *testing.T) {
		v := b.customer(t)
		home := b.create(t, v, postal("FR", "75001"))
		work := b.create(t, v, postal("FR", "75002"))

		_, err := b.svc.SetDefault(ctx, v, home.ID, address.Shipping)
		require.NoError(t, err)
		_, err = b.svc.SetDefault(ctx, v, home.ID, address.Billing)
		require.NoError(t, err)
		got, err := b.svc.SetDefault(ctx, v, work.ID, address.Shipping)
		require.NoError(t, err)
		require.True(t, got.DefaultShipping)

		book := b.book(t, v.UserID)
		ship, _ := book.DefaultFor(address.Shipping)
		bill, _ := book.DefaultFor(address.Billing)
		require.Equal(t, work.ID, ship.ID)
		require.Equal(t, home.ID, bill.ID)
		_, err = b.svc.SetDefault(ctx, v, work.ID, address.Shipping)
		require.NoError(t, err, "setting the default again is harmless")

		_, err = b.svc.Delete(ctx, v, home.ID)
		require.NoError(t, err)
		book = b.book(t, v.UserID)
		_, ok := book.DefaultFor(address.Billing)
		require.False(t, ok, "the deleted default is no default")
		ship, _ = book.DefaultFor(address.Shipping)
		require.Equal(t, work.ID, ship.ID)

		_, err = b.svc.SetDefault(ctx, v, work.ID, address.Use("HOME"))
		require.Equal(t, []apperr.Code{apperr.Invalid}, tf.Codes(err))
	})

	t.Run("another account's address is NOT_FOUND to every use case and changes nothing", func(t *testing.T) {
		owner, other := b.customer(t), b.customer(t)
		a := b.create(t, owner, postal("AU", "2000"))
		_, err := b.svc.SetDefault(ctx, owner, a.ID, address.Shipping)
		require.NoError(t, err)
		mine := b.create(t, other, postal("AU", "3000"))
		_, err = b.svc.SetDefault(ctx, other, mine.ID, address.Shipping)
		require.NoError(t, err)

		_, err = b.svc.Update(ctx, other, a.ID, address.Patch{Name: ptr("Mallory")})
		require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err))
		_, err = b.svc.Delete(ctx, other, a.ID)
		require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err))
		_, err = b.svc.SetDefault(ctx, other, a.ID, address.Shipping)
		require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err))
		_, err = b.svc.Get(ctx, other, a.ID)
		require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err))
		_, err = address.Owned(ctx, b.d.Queries, other.UserID, a.ID, "input", "shippingAddressId")
		require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err))

		ownerBook := b.book(t, owner.UserID)
		require.Len(t, ownerBook, 1)
		require.Equal(t, a.Postal, ownerBook[0].Postal, "unchanged")
		require.True(t, ownerBook[0].DefaultShipping, "still the owner's default")
		ship, _ := b.book(t, other.UserID).DefaultFor(address.Shipping)
		require.Equal(t, mine.ID, ship.ID, "the failed SetDefault did not clear the other account's own default")

		// The owner and admins see it.
		got, err := b.svc.Get(ctx, owner, a.ID)
		require.NoError(t, err)
		require.Equal(t, a.ID, got.ID)
		admin := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleAdmin}).Viewer()
		_, err = b.svc.Get(ctx, admin, a.ID)
		require.NoError(t, err)
		require.True(t, b.svc.Shows(admin, owner.UserID))
		require.False(t, b.svc.Shows(other, owner.UserID))
	})

	t.Run("deleting the account deletes its addresses", func(t *testing.T) {
		v := b.customer(t)
		b.create(t, v, postal("JP", "100-0001"))
		_, err := b.d.Pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, v.UserID)
		require.NoError(t, err)
		require.Zero(t, tf.Count(t, b.d, "addresses", "user_id = $1", v.UserID))
	})
}
