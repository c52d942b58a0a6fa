package money

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
)

func TestValidCurrency(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{"USD": true, "EUR": true, "usd": false, "US": false, "USDX": false, "U1D": false, "": false} {
		require.Equal(t, want, ValidCurrency(code), code)
	}
}

func TestAdd(t *testing.T) {
	t.Parallel()
	sum, err := New(1999, "USD").Add(New(1, "USD"))
	require.NoError(t, err)
	require.Equal(t, New(2000, "USD"), sum)

	_, err = New(1, "USD").Add(New(1, "EUR"))
	require.ErrorIs(t, err, ErrCurrencyMismatch)
	_, err = New(math.MaxInt64, "USD").Add(New(1, "USD"))
	require.ErrorIs(t, err, ErrOverflow)
	_, err = New(math.MinInt64, "USD").Add(New(-1, "USD"))
	require.ErrorIs(t, err, ErrOverflow)
}

func TestMul(t *testing.T) {
	t.Parallel()
	p, err := New(250, "EUR").Mul(4)
	require.NoError(t, err)
	require.Equal(t, New(1000, "EUR"), p)
	_, err = New(math.MaxInt64/2+1, "EUR").Mul(2)
	require.ErrorIs(t, err, ErrOverflow)
	z, err := New(5, "EUR").Mul(0)
	require.NoError(t, err)
	require.Zero(t, z.Amount)
}

// The case: a price of MaxInt64 times two wrapped to a subtotal of 0 (or was dropped).
// Every product and sum beyond ±MaxAmount is an error, never a wrapped or oversized amount.
func TestArithmeticAtTheBounds(t *testing.T) {
	t.Parallel()
	usd := func(n int64) Money { return New(n, "USD") }
	line, err := usd(MaxPrice).Mul(MaxQuantity)
	require.NoError(t, err)
	require.Equal(t, usd(10_000_000_000_000), line, "a line at both bounds")

	for name, tc := range map[string]struct {
		m    Money
		n    int64
		want int64 // when ok
		ok   bool
	}{
		"max amount × 1":           {usd(MaxAmount), 1, MaxAmount, true},
		"max amount × -1":          {usd(MaxAmount), -1, -MaxAmount, true},
		"max amount × 2":           {usd(MaxAmount), 2, 0, false},
		"max amount + 1 × 1":       {usd(MaxAmount + 1), 1, 0, false},
		"MaxInt64 × 2 (the issue)": {usd(math.MaxInt64), 2, 0, false},
		"MaxInt64 × 0":             {usd(math.MaxInt64), 0, 0, true},
		"MinInt64 × -1":            {usd(math.MinInt64), -1, 0, false},
		"1 × MaxInt64":             {usd(1), math.MaxInt64, 0, false},
		"1 × MinInt64":             {usd(1), math.MinInt64, 0, false},
		"10^8 × 10^7":              {usd(100_000_000), 10_000_000, MaxAmount, true},
		"10^8 × 10^7 + 1":          {usd(100_000_000), 10_000_001, 0, false},
		"-10^8 × 10^7":             {usd(-100_000_000), 10_000_000, -MaxAmount, true},
		"-10^8 × -(10^7+1)":        {usd(-100_000_000), -10_000_001, 0, false},
	} {
		got, err := tc.m.Mul(tc.n)
		if tc.ok {
			require.NoError(t, err, name)
			require.Equal(t, usd(tc.want), got, name)
		} else {
			require.ErrorIs(t, err, ErrOverflow, name)
		}
	}

	sum, err := usd(MaxAmount - 1).Add(usd(1))
	require.NoError(t, err)
	require.Equal(t, usd(MaxAmount), sum)
	_, err = usd(MaxAmount).Add(usd(1))
	require.ErrorIs(t, err, ErrOverflow)
	_, err = usd(-MaxAmount).Add(usd(-1))
	require.ErrorIs(t, err, ErrOverflow)
	_, err = usd(math.MaxInt64).Add(usd(math.MaxInt64))
	require.ErrorIs(t, err, ErrOverflow)
	require.True(t, usd(MaxAmount).InBounds())
	require.False(t, usd(MaxAmount+1).InBounds())
	require.False(t, usd(-MaxAmount-1).InBounds())
}

// Total is the one checked sum behind a cart's subtotal and an order's total: exact at the
// bound, an error (and the sum left as it was) one minor unit beyond it or across currencies.
func TestTotal(t *testing.T) {
	t.Parallel()
	var total Total
	require.Equal(t, Money{}, total.Sum())
	line, err := total.AddLine(New(MaxPrice, "USD"), MaxQuantity)
	require.NoError(t, err)
	require.Equal(t, New(MaxPrice*MaxQuantity, "USD"), line)
	for total.Sum().Amount < MaxAmount {
		_, err = total.AddLine(New(MaxPrice, "USD"), MaxQuantity)
		require.NoError(t, err)
	}
	require.Equal(t, New(MaxAmount, "USD"), total.Sum())

	_, err = total.AddLine(New(1, "USD"), 1)
	require.ErrorIs(t, err, ErrOverflow)
	_, err = total.AddLine(New(math.MaxInt64, "USD"), 2)
	require.ErrorIs(t, err, ErrOverflow)
	_, err = total.AddLine(New(0, "EUR"), 1)
	require.ErrorIs(t, err, ErrCurrencyMismatch)
	require.Equal(t, New(MaxAmount, "USD"), total.Sum())

	tooLarge := TooLarge(err, "The order total", "check out fewer items")
	require.ErrorIs(t, tooLarge, ErrCurrencyMismatch)
	require.Equal(t, apperr.Internal, apperr.CodeOf(tooLarge), "only an overflow is AMOUNT_TOO_LARGE")
	_, err = total.AddLine(New(1, "USD"), 1)
	tooLarge = TooLarge(err, "The order total", "check out fewer items")
	require.Equal(t, apperr.AmountTooLarge, apperr.CodeOf(tooLarge))
	require.Equal(t, "The order total would be more than 1000000000000000 minor units; check out fewer items.", apperr.As(tooLarge).Message)
}
