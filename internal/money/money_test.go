package money

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
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
