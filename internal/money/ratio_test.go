package money

import "testing"

func TestPartRounding(t *testing.T) {
	cases := []struct {
		amount, num, den int64
		r                Rounding
		want             int64
	}{
		{1999, 1250, 10000, HalfUp, 250}, // 249.875 → 250
		{1999, 1250, 10000, Floor, 249},
		{1000, 1250, 10000, HalfUp, 125},
		{4, 1250, 10000, HalfUp, 1},                                 // 0.5 → 1 (half up)
		{3, 1250, 10000, HalfUp, 0},                                 // 0.375 → 0
		{12, 1250, 10000, HalfUp, 2},                                // 1.5 → 2
		{MaxAmount, MaxAmount - 1, MaxAmount, Floor, MaxAmount - 1}, // no overflow
		{777, 0, 10, HalfUp, 0},
		{777, 10, 10, HalfUp, 777},
	}
	for _, c := range cases {
		got, err := New(c.amount, "USD").Part(c.num, c.den, c.r)
		if err != nil || got.Amount != c.want || got.Currency != "USD" {
			t.Errorf("%d × %d/%d (%v) = %v, %v; want %d", c.amount, c.num, c.den, c.r, got, err, c.want)
		}
	}
	for _, bad := range [][3]int64{{10, 1, 0}, {10, -1, 2}, {10, 3, 2}, {-10, 1, 2}} {
		if _, err := New(bad[0], "USD").Part(bad[1], bad[2], Floor); err == nil {
			t.Errorf("Part(%v) should fail", bad)
		}
	}
}

func TestSub(t *testing.T) {
	got, err := New(10, "EUR").Sub(New(3, "EUR"))
	if err != nil || got.Amount != 7 {
		t.Fatalf("10 - 3 = %v, %v", got, err)
	}
	if _, err := New(10, "EUR").Sub(New(3, "USD")); err == nil {
		t.Fatal("currency mismatch should fail")
	}
}

func TestPartRem(t *testing.T) {
	p, r, err := New(1000, "USD").PartRem(1, 3)
	if err != nil || p.Amount != 333 || r != 1 {
		t.Fatalf("1000/3 = %v rem %d, %v", p, r, err)
	}
	p, r, err = New(MaxAmount, "USD").PartRem(MaxAmount-1, MaxAmount)
	if err != nil || p.Amount != MaxAmount-1 || r != 0 {
		t.Fatalf("no overflow: %v rem %d, %v", p, r, err)
	}
}
