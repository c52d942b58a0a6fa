package gid_test

import (
	"strings"
	"testing"

	"github.com/shopgraph/shopgraph/internal/gid"
)

// FuzzDecode feeds Decode arbitrary client input (node(id:), every ID argument). It must
// never panic, must refuse with zero values, and whatever it accepts must be the one canonical
// spelling of that object's ID: Encode of the decoded pair gives the input back. Two spellings
// of one ID would split caches keyed by ID and let clients compare IDs wrongly.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		gid.Encode(gid.Product, 1),
		gid.Encode(gid.Order, 9223372036854775807),
		gid.Encode(gid.Variant, 42),
		"", "=", "UHJvZHVjdDox", "UHJvZHVjdDox==", "UHJvZHVjdDowMQ", "UHJvZHVjdDotMQ",
		"OjE", "UHJvZHVjdA", "UHJvZHVjdDo", "UHJvZHVjdDorMQ", "!!!!", strings.Repeat("QUFB", 30),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, id, ok := gid.Decode(s)
		if !ok {
			if typ != "" || id != 0 {
				t.Fatalf("Decode(%q) refused but returned (%q, %d)", s, typ, id)
			}
			return
		}
		if typ == "" || id <= 0 {
			t.Fatalf("Decode(%q) accepted an empty type or a non-positive id: (%q, %d)", s, typ, id)
		}
		if again := gid.Encode(typ, id); again != s {
			t.Fatalf("Decode(%q) = (%q, %d), which encodes as %q: more than one spelling of one ID is accepted", s, typ, id, again)
		}
	})
}

// FuzzRoundTrip checks that every ID Encode can produce for a plausible type decodes back
// to what was encoded.
func FuzzRoundTrip(f *testing.F) {
	f.Add(gid.Product, int64(1))
	f.Add(gid.Order, int64(9223372036854775807))
	f.Add("", int64(5))
	f.Add("Weird:Type", int64(3))
	f.Add(gid.User, int64(0))
	f.Add(gid.User, int64(-7))
	f.Fuzz(func(t *testing.T, typ string, id int64) {
		s := gid.Encode(typ, id)
		gotTyp, gotID, ok := gid.Decode(s)
		valid := typ != "" && !strings.Contains(typ, ":") && id > 0 && len(s) <= 100
		if ok != valid {
			t.Fatalf("Decode(Encode(%q, %d) = %q) ok = %v, want %v", typ, id, s, ok, valid)
		}
		if ok && (gotTyp != typ || gotID != id) {
			t.Fatalf("Decode(Encode(%q, %d)) = (%q, %d)", typ, id, gotTyp, gotID)
		}
	})
}
