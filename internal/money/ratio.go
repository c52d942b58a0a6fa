package money

import (
	"fmt"
	"math"
	"math/big"
)

// Part returns the part num/den of m, rounded down (Floor) or half up (HalfUp) on minor units:
// a commission (bps/10000 of a line) or a share (this vendor's gross / the order's total). num
// and den must satisfy 0 <= num <= den, den > 0, so the part lies between 0 and m; the product
// m × num is taken exactly (128 bits and more), never overflowing.
func (m Money) Part(num, den int64, r Rounding) (Money, error) {
	if den <= 0 || num < 0 || num > den || m.Amount < 0 || !m.InBounds() {
		return Money{}, fmt.Errorf("%w: %d × %d / %d", ErrOverflow, m.Amount, num, den)
	}
	p := new(big.Int).Mul(big.NewInt(m.Amount), big.NewInt(num))
	if r == HalfUp {
		// floor((2·a·n + d) / 2d) is a·n/d rounded half up for non-negative values.
		p.Mul(p, big.NewInt(2)).Add(p, big.NewInt(den))
		den *= 2
	}
	q := p.Quo(p, big.NewInt(den))
	return Money{Amount: q.Int64(), Currency: m.Currency}, nil
}

// PartRem is Part rounded down, with what was rounded away as a remainder over den
// (0 <= rem < den): m × num = part × den + rem. Remainders rank shares for the minor units
// that rounding down left over (largest remainder first).
func (m Money) PartRem(num, den int64) (part Money, rem int64, err error) {
	if den <= 0 || num < 0 || num > den || m.Amount < 0 || !m.InBounds() {
		return Money{}, 0, fmt.Errorf("%w: %d × %d / %d", ErrOverflow, m.Amount, num, den)
	}
	p := new(big.Int).Mul(big.NewInt(m.Amount), big.NewInt(num))
	q, r := p.QuoRem(p, big.NewInt(den), new(big.Int))
	return Money{Amount: q.Int64(), Currency: m.Currency}, r.Int64(), nil
}

// Rounding says how Part rounds a fraction of a minor unit.
type Rounding int

const (
	// Floor rounds down: 0.5 and 0.99 of a cent are 0.
	Floor Rounding = iota
	// HalfUp rounds to the nearest minor unit, a half up: 0.5 of a cent is 1, 0.49 is 0.
	HalfUp
)

// Sub returns m - o; both must be in the same currency, and the difference within ±MaxAmount.
func (m Money) Sub(o Money) (Money, error) {
	if o.Amount == math.MinInt64 { // it has no negation
		return Money{}, fmt.Errorf("%w: - %d", ErrOverflow, o.Amount)
	}
	return m.Add(Money{Amount: -o.Amount, Currency: o.Currency})
}
