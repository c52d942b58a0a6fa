package catalog

import "testing"

// Messages about the stock bound are built from MaxStock, so they cannot drift from it.
func TestWithThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 123456: "123,456", 1234567: "1,234,567", MaxStock: "1,000,000,000"} {
		if got := withThousands(n); got != want {
			t.Errorf("withThousands(%d) = %q, want %q", n, got, want)
		}
	}
}
