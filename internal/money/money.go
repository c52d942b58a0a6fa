// Package money is amounts in integer minor units with an ISO 4217 currency code. There are no
// floats anywhere in shopgraph's money path: Stripe and every ledger speak minor units.
package money

import (
	"errors"
	"fmt"
	"math"

	"github.com/shopgraph/shopgraph/internal/apperr"
)

// Bounds on every amount shopgraph accepts or computes. They keep all sums far from int64's
// limit (about 9.2 × 10^18) and every amount exact in a JSON number read by a JavaScript
// client (integers are exact only up to 2^53, about 9.007 × 10^15): GraphQL Int64 is sent as a
// JSON number. The schema's descriptions of Money, prices and quantities state the same figures.
const (
	// MaxPrice is the highest unit price, in minor units: 10^10, i.e. 100,000,000.00 in a
	// two-decimal currency such as USD.
	MaxPrice int64 = 10_000_000_000
	// MaxQuantity is the most units of one variant a cart line or an order line holds.
	MaxQuantity = 1000
	// MaxAmount is the largest amount any total (a line, a cart, an order, a payment or a
	// refund) may reach, in minor units: 10^15. A line is at most MaxPrice × MaxQuantity =
	// 10^13, so 100 lines at both bounds still fit.
	MaxAmount int64 = 1_000_000_000_000_000
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

// ErrOverflow is returned when a result would be beyond ±MaxAmount (or would not fit in int64
// at all): arithmetic on money fails rather than wraps or grows past what clients can read.
var ErrOverflow = errors.New("amount out of bounds")

// Add returns m + o; both must be in the same currency, and the sum within ±MaxAmount.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("%w: %s + %s", ErrCurrencyMismatch, m.Currency, o.Currency)
	}
	if (o.Amount > 0 && m.Amount > math.MaxInt64-o.Amount) || (o.Amount < 0 && m.Amount < math.MinInt64-o.Amount) {
		return Money{}, fmt.Errorf("%w: %d + %d overflows int64", ErrOverflow, m.Amount, o.Amount)
	}
	return bounded(Money{Amount: m.Amount + o.Amount, Currency: m.Currency})
}

// Mul returns m × n, which must be within ±MaxAmount; so must m itself, unless the product is 0.
func (m Money) Mul(n int64) (Money, error) {
	if m.Amount == 0 || n == 0 {
		return Money{Amount: 0, Currency: m.Currency}, nil
	}
	if !m.InBounds() || n > MaxAmount || n < -MaxAmount {
		return Money{}, fmt.Errorf("%w: %d × %d", ErrOverflow, m.Amount, n)
	}
	// Both factors are now within ±10^15, so their absolute values cannot overflow, and the
	// division keeps the product from being computed before it is known to fit.
	if abs(m.Amount) > MaxAmount/abs(n) {
		return Money{}, fmt.Errorf("%w: %d × %d is beyond ±%d", ErrOverflow, m.Amount, n, MaxAmount)
	}
	return Money{Amount: m.Amount * n, Currency: m.Currency}, nil
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// InBounds reports whether m is within ±MaxAmount.
func (m Money) InBounds() bool { return m.Amount >= -MaxAmount && m.Amount <= MaxAmount }

func bounded(m Money) (Money, error) {
	if !m.InBounds() {
		return Money{}, fmt.Errorf("%w: %d is beyond ±%d", ErrOverflow, m.Amount, MaxAmount)
	}
	return m, nil
}

// Total is a checked sum of lines (unit price × quantity), the one loop behind a cart's
// subtotal and an order's total. The zero value is an empty sum; it takes the first line's
// currency.
type Total struct {
	sum     Money
	started bool
}

// AddLine adds price × quantity to the sum and returns that line's total. It fails with
// ErrOverflow when the line or the sum would be beyond MaxAmount, and with
// ErrCurrencyMismatch when price is not in the currency of the lines before it; the sum is
// then left as it was.
func (t *Total) AddLine(price Money, quantity int64) (Money, error) {
	line, err := price.Mul(quantity)
	if err != nil {
		return Money{}, err
	}
	sum := t.sum
	if !t.started {
		sum = New(0, price.Currency)
	}
	if sum, err = sum.Add(line); err != nil {
		return Money{}, err
	}
	t.sum, t.started = sum, true
	return line, nil
}

// Sum is the sum of the lines added so far (0 in no currency before the first).
func (t *Total) Sum() Money { return t.sum }

// TooLarge is the one place an ErrOverflow becomes the client-visible AMOUNT_TOO_LARGE: what
// names the amount ("The cart's total"), remedy tells the user what to do about it. Any other
// error is returned as it is.
func TooLarge(err error, what, remedy string) error {
	if !errors.Is(err, ErrOverflow) {
		return err
	}
	return apperr.Wrap(err, apperr.AmountTooLarge,
		fmt.Sprintf("%s would be more than %d minor units; %s.", what, MaxAmount, remedy))
}

func (m Money) String() string { return fmt.Sprintf("%d %s", m.Amount, m.Currency) }
