package vendor

import (
	"math/rand/v2"
	"testing"
)

func TestAllocateExample(t *testing.T) {
	// 3000 of 7998 between A (5997), B (1001) and the platform (1000): rounded down 2249, 375,
	// 375; the cent left goes to the largest remainder (B's 3750/7998).
	parts, err := allocate(3000, 7998, "USD", []share{{ID: 7, Gross: 5997, Left: 5997}, {ID: 9, Gross: 1001, Left: 1001}, {ID: 0, Gross: 1000, Left: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	if parts[0] != 2249 || parts[1] != 376 || parts[2] != 375 {
		t.Fatalf("parts %v", parts)
	}
	// Equal remainders: the lower vendor id first, the platform last.
	parts, err = allocate(1, 3, "USD", []share{{ID: 0, Gross: 1, Left: 1}, {ID: 9, Gross: 1, Left: 1}, {ID: 7, Gross: 1, Left: 1}})
	if err != nil || parts[0] != 0 || parts[1] != 0 || parts[2] != 1 {
		t.Fatalf("ties: %v, %v", parts, err)
	}
}

// Random orders refunded in random steps: each step's parts sum to it exactly, no share ever
// gives back more than it had, and a full refund gives back every share exactly.
func TestAllocateSteps(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := 1 + r.IntN(4)
		shares := make([]share, n)
		var total int64
		for i := range shares {
			g := r.Int64N(100_000)
			shares[i] = share{ID: int64(i), Gross: g, Left: g}
			total += g
		}
		if total == 0 {
			continue
		}
		refunded := int64(0)
		for refunded < total {
			step := 1 + r.Int64N(total-refunded)
			parts, err := allocate(step, total, "USD", shares)
			if err != nil {
				t.Fatal(err)
			}
			var sum int64
			for i, p := range parts {
				if p < 0 || p > shares[i].Left {
					t.Fatalf("share %d: part %d of %d left", i, p, shares[i].Left)
				}
				shares[i].Left -= p
				sum += p
			}
			if sum != step {
				t.Fatalf("parts %v sum to %d, not %d", parts, sum, step)
			}
			refunded += step
		}
		for i, s := range shares {
			if s.Left != 0 {
				t.Fatalf("share %d: %d left after a full refund", i, s.Left)
			}
		}
	}
}
