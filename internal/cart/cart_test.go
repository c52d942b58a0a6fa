package cart

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/money"
)

func lineOf(price int64, quantity int) Line {
	return Line{UnitPrice: money.New(price, "USD"), Quantity: quantity}
}

// The case: a price of MaxInt64 times two units made a line total and a subtotal of 0.
// Totals at the bound are exact; beyond it they are AMOUNT_TOO_LARGE, never a wrapped amount
// or a line silently left out of the sum.
func TestTotalsAtTheBounds(t *testing.T) {
	t.Parallel()
	full := lineOf(money.MaxPrice, MaxLineQuantity)
	total, err := full.LineTotal()
	require.NoError(t, err)
	require.Equal(t, money.New(money.MaxPrice*MaxLineQuantity, "USD"), total)

	_, err = lineOf(math.MaxInt64, 2).LineTotal()
	require.Equal(t, apperr.AmountTooLarge, apperr.CodeOf(err))
	require.ErrorIs(t, err, money.ErrOverflow)

	var atBound Cart
	for range money.MaxAmount / total.Amount {
		atBound.Lines = append(atBound.Lines, full)
	}
	sub, err := atBound.Subtotal()
	require.NoError(t, err)
	require.Equal(t, &money.Money{Amount: money.MaxAmount, Currency: "USD"}, sub)

	for name, c := range map[string]Cart{
		"one minor unit over":       {Lines: append(append([]Line{}, atBound.Lines...), lineOf(1, 1))},
		"a line at MaxInt64 × 2":    {Lines: []Line{lineOf(100, 1), lineOf(math.MaxInt64, 2)}},
		"two lines at MaxInt64 × 1": {Lines: []Line{lineOf(math.MaxInt64, 1), lineOf(math.MaxInt64, 1)}},
	} {
		sub, err := c.Subtotal()
		require.Nil(t, sub, name)
		require.Equal(t, apperr.AmountTooLarge, apperr.CodeOf(err), name)
	}

	empty, err := Cart{}.Subtotal()
	require.NoError(t, err)
	require.Nil(t, empty)
}

// Only an overflow is AMOUNT_TOO_LARGE. Lines in two currencies (which adding to a cart
// refuses) are a broken invariant, not a total the customer can bring down by removing items.
func TestSubtotalMixedCurrencies(t *testing.T) {
	t.Parallel()
	c := Cart{Lines: []Line{lineOf(100, 1), {UnitPrice: money.New(100, "EUR"), Quantity: 1}}}
	sub, err := c.Subtotal()
	require.Nil(t, sub)
	require.ErrorIs(t, err, money.ErrCurrencyMismatch)
	require.Equal(t, apperr.Internal, apperr.CodeOf(err))
}

// A cart's ID follows from its owner alone: one per customer, one per well-formed token, none
// for anything else, and a guest's does not carry its token.
func TestIDOf(t *testing.T) {
	t.Parallel()
	token, err := newToken()
	require.NoError(t, err)
	require.True(t, validToken(token))
	other, err := newToken()
	require.NoError(t, err)
	one, two := int64(1), int64(2)

	require.Equal(t, idOf(Owner{UserID: &one}), idOf(Owner{UserID: &one, Token: token}), "a customer's cart is theirs whatever token they hold")
	require.NotEqual(t, idOf(Owner{UserID: &one}), idOf(Owner{UserID: &two}))
	require.Equal(t, idOf(Owner{Token: token}), guestCartID(token))
	require.NotEqual(t, idOf(Owner{Token: token}), idOf(Owner{Token: other}))
	require.NotContains(t, idOf(Owner{Token: token}), token[:6])
	typ, _, ok := gid.Decode(idOf(Owner{Token: token}))
	require.True(t, ok)
	require.Equal(t, gid.GuestCart, typ)
	typ, id, ok := gid.Decode(idOf(Owner{UserID: &two}))
	require.True(t, ok)
	require.Equal(t, gid.CustomerCart, typ)
	require.Equal(t, two, id)

	// The last of a 32-byte token's 43 characters carries 2 unused bits: flipping one spells
	// the same bytes differently, which is not a token the server issues.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, token[42])
	nonCanonical := token[:42] + string(alphabet[last^1])
	for _, bad := range []string{"", "no-such-token", token[:42], token + "A", token[:42] + "=", token[:42] + "+",
		strings.Repeat("A", 44), nonCanonical} {
		require.False(t, validToken(bad), "%q", bad)
		require.Empty(t, idOf(Owner{Token: bad}), "%q", bad)
	}
}
