package address

import (
	"bufio"
	_ "embed"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/shopgraph/shopgraph/internal/apperr"
)

// Codes of the address rules, beside apperr's: schema/address.graphqls adds them to ErrorCode.
const (
	// InvalidCountry is a well-formed two-letter code that ISO 3166-1 does not assign. A code
	// that is not two capital letters at all is INVALID, as it always was for checkout.
	InvalidCountry apperr.Code = "INVALID_COUNTRY"
	// InvalidPostalCode is a postal code that does not have its country's format.
	InvalidPostalCode apperr.Code = "INVALID_POSTAL_CODE"
)

// Postal is a postal address as a customer types it: the book's entries and checkout's inline
// shipping address both keep to Clean's rules.
type Postal struct {
	Name       string
	Line1      string
	Line2      string
	City       string
	Region     string
	PostalCode string
	Country    string
	Phone      string
}

//go:embed countries.tsv
var countriesTSV string

// countries are the ISO 3166-1 alpha-2 codes with their English names.
var countries = func() map[string]string {
	out := make(map[string]string, 250)
	sc := bufio.NewScanner(strings.NewReader(countriesTSV))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		code, name, ok := strings.Cut(line, "\t")
		if !ok || len(code) != 2 {
			panic("address: malformed countries.tsv line " + line)
		}
		out[code] = name
	}
	return out
}()

// IsCountry reports whether code is an assigned ISO 3166-1 alpha-2 code (upper case).
func IsCountry(code string) bool { _, ok := countries[code]; return ok }

// postalFormat is one country's postal-code rule: normalise puts an accepted code into its
// one written form, which pattern must then match.
type postalFormat struct {
	pattern   *regexp.Regexp
	example   string
	normalise func(string) string
}

// postalFormats are the countries whose postal codes are checked; any other country's code
// is only bounded in length. Spaces are collapsed before normalise runs.
var postalFormats = map[string]postalFormat{
	"US": {regexp.MustCompile(`^[0-9]{5}(-[0-9]{4})?$`), "12345 or 12345-6789", nil},
	"CA": {regexp.MustCompile(`^[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z] [0-9][ABCEGHJ-NPRSTV-Z][0-9]$`), "K1A 0B1",
		splitBeforeLast(3)},
	"GB": {regexp.MustCompile(`^(GIR 0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY]) [0-9][ABD-HJLNP-UW-Z]{2})$`),
		"SW1A 1AA", splitBeforeLast(3)},
	"DE": {regexp.MustCompile(`^[0-9]{5}$`), "10115", nil},
	"FR": {regexp.MustCompile(`^[0-9]{5}$`), "75001", nil},
	"NL": {regexp.MustCompile(`^[1-9][0-9]{3} [A-Z]{2}$`), "1012 AB", splitBeforeLast(2)},
	"AU": {regexp.MustCompile(`^[0-9]{4}$`), "2000", nil},
	"JP": {regexp.MustCompile(`^[0-9]{3}-[0-9]{4}$`), "100-0001", func(s string) string {
		if len(s) == 7 && !strings.Contains(s, "-") {
			return s[:3] + "-" + s[3:]
		}
		return s
	}},
}

// splitBeforeLast upper-cases a code and writes it with one space before its last n
// characters (the inward code of a British or Canadian postcode, the letters of a Dutch one),
// whether the customer typed it with that space, without, or with several.
func splitBeforeLast(n int) func(string) string {
	return func(s string) string {
		s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
		if len(s) <= n {
			return s
		}
		return s[:len(s)-n] + " " + s[len(s)-n:]
	}
}

// Clean normalises p (surrounding spaces trimmed, runs of spaces in the postal code made one,
// the postal code in its country's written form) and checks it, reporting every problem at
// once with field paths under path (e.g. "input" or "input", "shippingAddress"): INVALID for a
// missing or too long field and a country that is not two capital letters, INVALID_COUNTRY
// for a code ISO 3166-1 does not assign, INVALID_POSTAL_CODE for a postal code not in its
// country's format.
func Clean(p Postal, path ...string) (Postal, error) {
	for _, f := range []*string{&p.Name, &p.Line1, &p.Line2, &p.City, &p.Region, &p.Country, &p.Phone} {
		*f = strings.TrimSpace(*f)
	}
	p.PostalCode = strings.Join(strings.Fields(p.PostalCode), " ")
	at := func(name string) []string { return append(append([]string(nil), path...), name) }
	var errs apperr.List
	postalOK := true
	for _, f := range []struct {
		value    string
		name     string
		min, max int
	}{
		{p.Name, "name", 1, 100}, {p.Line1, "line1", 1, 200}, {p.Line2, "line2", 0, 200}, {p.City, "city", 1, 100},
		{p.Region, "region", 0, 100}, {p.PostalCode, "postalCode", 1, 20}, {p.Phone, "phone", 0, 30},
	} {
		if n := utf8.RuneCountInString(f.value); n < f.min || n > f.max {
			errs = append(errs, apperr.FieldError(apperr.Invalid, fmt.Sprintf("Must be %d to %d characters.", f.min, f.max), at(f.name)...))
			postalOK = postalOK && f.name != "postalCode"
		}
	}
	switch {
	case len(p.Country) != 2 || strings.ToUpper(p.Country) != p.Country || !isLetters(p.Country):
		errs = append(errs, apperr.FieldError(apperr.Invalid, "Country must be an ISO 3166-1 alpha-2 code such as US.", at("country")...))
	case !IsCountry(p.Country):
		errs = append(errs, apperr.FieldError(InvalidCountry, fmt.Sprintf("%s is not an ISO 3166-1 country code.", p.Country), at("country")...))
	case postalOK:
		if rule, ok := postalFormats[p.Country]; ok {
			if rule.normalise != nil {
				p.PostalCode = rule.normalise(p.PostalCode)
			}
			if !rule.pattern.MatchString(p.PostalCode) {
				errs = append(errs, apperr.FieldError(InvalidPostalCode,
					fmt.Sprintf("This is not a postal code of %s (for example %s).", countries[p.Country], rule.example), at("postalCode")...))
			}
		}
	}
	return p, errs.Err()
}

func isLetters(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}
