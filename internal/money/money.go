// Package money is amounts in integer minor units with an ISO 4217 currency code. There are no
// floats anywhere in shopgraph's money path: Stripe and every ledger speak minor units.
package money

import (
	"errors"
	"fmt"
	"math"
)

// Money is an amount in minor units (cents for USD) of Currency.
type Money struct {
	Amount   int64
	Currency string
}

// New returns Money; it does not validate.
func New(amount int64, currency string) Money { return Money{Amount: amount, Currency: currency} }

// ValidCurrency reports whether code looks like an ISO 4217 code (three upper-case letters).
func ValidCurrency(code string) bool {
	if len(code) != 3 {
		return false
	}
	for _, c := range code {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// ErrCurrencyMismatch is returned when adding amounts of different currencies.
var ErrCurrencyMismatch = errors.New("currency mismatch")

// ErrOverflow is returned when an amount does not fit in int64.
var ErrOverflow = errors.New("amount overflows int64")

// Add returns m + o; both must be in the same currency.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("%w: %s + %s", ErrCurrencyMismatch, m.Currency, o.Currency)
	}
	if (o.Amount > 0 && m.Amount > math.MaxInt64-o.Amount) || (o.Amount < 0 && m.Amount < math.MinInt64-o.Amount) {
		return Money{}, ErrOverflow
	}
	return Money{Amount: m.Amount + o.Amount, Currency: m.Currency}, nil
}

// Mul returns m × n.
func (m Money) Mul(n int64) (Money, error) {
	if n != 0 && (m.Amount > math.MaxInt64/n || m.Amount < math.MinInt64/n) {
		return Money{}, ErrOverflow
	}
	return Money{Amount: m.Amount * n, Currency: m.Currency}, nil
}

func (m Money) String() string { return fmt.Sprintf("%d %s", m.Amount, m.Currency) }
