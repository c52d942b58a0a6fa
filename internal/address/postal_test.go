package address_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/address"
	"github.com/shopgraph/shopgraph/internal/apperr"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

func postal(country, code string) address.Postal {
	return address.Postal{Name: "Ada Lovelace", Line1: "1 Main St", City: "Springfield", PostalCode: code, Country: country}
}

func TestCleanPostalCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		country, in, want string // want "" refuses it with INVALID_POSTAL_CODE
	}{
		{"US", "12345", "12345"},
		{"US", "12345-6789", "12345-6789"},
		{"US", " 12345 ", "12345"},
		{"US", "1234", ""},
		{"US", "ABCDE", ""},
		{"CA", "K1A 0B1", "K1A 0B1"},
		{"CA", "k1a0b1", "K1A 0B1"},
		{"CA", "k1a   0b1", "K1A 0B1"},
		{"CA", "D1A 0B1", ""}, // D never starts a Canadian code
		{"GB", "SW1A 1AA", "SW1A 1AA"},
		{"GB", "sw1a1aa", "SW1A 1AA"},
		{"GB", "N1 9GU", "N1 9GU"},
		{"GB", "M1 1AE", "M1 1AE"},
		{"GB", "B33 8TH", "B33 8TH"},
		{"GB", "CR2 6XH", "CR2 6XH"},
		{"GB", "DN55 1PT", "DN55 1PT"},
		{"GB", "W1A 0AX", "W1A 0AX"},
		{"GB", "EC1A 1BB", "EC1A 1BB"},
		{"GB", "gir0aa", "GIR 0AA"},
		{"GB", "N1", ""},
		{"GB", "QQ1 1AA", ""},
		{"DE", "10115", "10115"},
		{"DE", "1011", ""},
		{"FR", "75001", "75001"},
		{"FR", "7500A", ""},
		{"NL", "1012 AB", "1012 AB"},
		{"NL", "1012ab", "1012 AB"},
		{"NL", "0123 AB", ""},
		{"AU", "2000", "2000"},
		{"AU", "20000", ""},
		{"JP", "100-0001", "100-0001"},
		{"JP", "1000001", "100-0001"},
		{"JP", "100-001", ""},
		// Countries without a format rule keep their code, spaces collapsed, case untouched.
		{"SE", "113  51", "113 51"},
		{"IE", "d02 x285", "d02 x285"},
	} {
		got, err := address.Clean(postal(tc.country, tc.in), "input")
		if tc.want == "" {
			require.Equal(t, []apperr.Code{address.InvalidPostalCode}, tf.Codes(err), "%s %q", tc.country, tc.in)
			require.Equal(t, []string{"input.postalCode"}, tf.Fields(err), "%s %q", tc.country, tc.in)
			continue
		}
		require.NoError(t, err, "%s %q", tc.country, tc.in)
		require.Equal(t, tc.want, got.PostalCode, "%s %q", tc.country, tc.in)
	}
}

func TestCleanCountries(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"US", "GB", "AQ", "ZW", "AX", "CW", "SS"} {
		_, err := address.Clean(postal(code, "1"), "input")
		if code == "US" || code == "GB" {
			continue // their postal rules refuse "1"
		}
		require.NoError(t, err, code)
	}
	for _, tc := range []struct {
		country string
		code    apperr.Code
	}{
		{"XX", address.InvalidCountry}, {"UK", address.InvalidCountry}, {"EU", address.InvalidCountry}, {"ZZ", address.InvalidCountry},
		{"gb", apperr.Invalid}, {"USA", apperr.Invalid}, {"G1", apperr.Invalid}, {"", apperr.Invalid},
	} {
		_, err := address.Clean(postal(tc.country, "12345"), "input", "shippingAddress")
		require.Equal(t, []apperr.Code{tc.code}, tf.Codes(err), tc.country)
		require.Equal(t, []string{"input.shippingAddress.country"}, tf.Fields(err), tc.country)
	}
}

func TestCleanFields(t *testing.T) {
	t.Parallel()
	got, err := address.Clean(address.Postal{Name: "  Ada ", Line1: " 1 Main St", City: "Paris ", PostalCode: "75001", Country: " FR ", Phone: " "}, "input")
	require.NoError(t, err)
	require.Equal(t, address.Postal{Name: "Ada", Line1: "1 Main St", City: "Paris", PostalCode: "75001", Country: "FR"}, got)

	_, err = address.Clean(address.Postal{Name: " ", Line1: strings.Repeat("x", 201), Line2: strings.Repeat("x", 201), City: "",
		Region: strings.Repeat("r", 101), PostalCode: strings.Repeat("9", 21), Country: "FR", Phone: strings.Repeat("1", 31)}, "input")
	require.Equal(t, []string{"input.name", "input.line1", "input.line2", "input.city", "input.region", "input.postalCode", "input.phone"}, tf.Fields(err))
	for _, c := range tf.Codes(err) {
		require.Equal(t, apperr.Invalid, c, "a postal code of the wrong length is INVALID, not checked for its format too")
	}
	// Lengths are counted in characters, not bytes.
	_, err = address.Clean(address.Postal{Name: strings.Repeat("é", 100), Line1: "1", City: "Köln", PostalCode: "50667", Country: "DE"}, "input")
	require.NoError(t, err)
}

func TestCountryListIsComplete(t *testing.T) {
	t.Parallel()
	n := 0
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			if address.IsCountry(string([]rune{a, b})) {
				n++
			}
		}
	}
	require.Equal(t, 249, n, "ISO 3166-1 assigns 249 alpha-2 codes")
}
