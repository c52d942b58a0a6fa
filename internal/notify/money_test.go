package notify_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/notify"
)

func TestFormatMoneyUsesEachCurrencysMinorUnits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   money.Money
		want string
	}{
		{money.New(1000, "USD"), "$ 10.00"},
		{money.New(123456789, "USD"), "$ 1,234,567.89"},
		{money.New(5, "USD"), "$ 0.05"},
		{money.New(1000, "JPY"), "¥ 1,000"},
		{money.New(1234, "KWD"), "KWD 1.234"},
		{money.New(1999, "EUR"), "€ 19.99"},
		{money.New(0, "GBP"), "£ 0.00"},
		{money.New(-250, "USD"), "$ -2.50"},
		{money.New(7, "XYZ"), "7 XYZ"}, // not an ISO 4217 code: amount and code, as stored
	} {
		require.Equal(t, tc.want, notify.FormatMoney(tc.in), "%d %s", tc.in.Amount, tc.in.Currency)
	}
}
