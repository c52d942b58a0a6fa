package catalog

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/money"
)

// FuzzSlugify checks that any product name, however odd, gives an empty slug or one that the
// slug validator accepts, and that slugifying a slug changes nothing.
func FuzzSlugify(f *testing.F) {
	for _, s := range []string{
		"Organic Cotton T-Shirt", "  --Hello,   World!--  ", "Ünïcödé Çafé", "日本語の商品", "KELVIN \u212a SIGN",
		"İstanbul", "a\x00b", "\xff\xfe", strings.Repeat("ab-", 60), strings.Repeat("x", 99) + " y", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		s := Slugify(name)
		if s == "" {
			return
		}
		if len(s) > 100 || !slugPattern.MatchString(s) {
			t.Fatalf("Slugify(%q) = %q: not a valid slug", name, s)
		}
		var v validator
		v.slug(s, "slug")
		if err := v.err(); err != nil {
			t.Fatalf("Slugify(%q) = %q, which the validator refuses: %v", name, s, err)
		}
		if again := Slugify(s); again != s {
			t.Fatalf("Slugify(%q) = %q but Slugify(%q) = %q", name, s, s, again)
		}
	})
}

// FuzzCreateInputValidate checks that product input validation never panics, refuses only
// with INVALID field errors under "input", accepts only input that meets every documented
// bound, and gives the same verdict when run again on the input it normalised.
func FuzzCreateInputValidate(f *testing.F) {
	f.Add("Cotton Tee", "", "Soft.", "USD", "material", "cotton", "https://cdn.example.com/tee.jpg", "TEE-1", "Small", int64(1999), 10, uint8(1))
	f.Add("  ", "Bad Slug", "", "usd", "", "", "javascript:alert(1)", "", "", int64(-1), -5, uint8(0))
	f.Add("!!!", "", "", "EUR", "k", "v", "http://", "S", "", int64(0), 1_000_000_001, uint8(3))
	f.Add(strings.Repeat("é", 201), "a--b", strings.Repeat("d", 10_001), "EURO", strings.Repeat("k", 51), "v", "https://x", "SKU", "n", int64(1), 1, uint8(2))
	f.Add("Mug", "mug", "", "GBP", "color", "red", "", "MUG", "", int64(9223372036854775807), 0, uint8(7))
	f.Fuzz(func(t *testing.T, name, slug, description, currency, attrKey, attrValue, imageURL, sku, variantName string, price int64, stock int, variants uint8) {
		in := CreateInput{Name: name, Slug: slug, Description: description, Currency: currency}
		if attrKey != "" || attrValue != "" {
			in.Attributes = []KV{{Key: attrKey, Value: attrValue}, {Key: attrKey + "2", Value: attrValue}}
		}
		if imageURL != "" {
			in.ImageURLs = []string{imageURL}
		}
		for i := range int(variants % 5) {
			s := sku
			if i == 1 || i == 2 {
				s += "-" + strconv.Itoa(i) // variant 3 repeats variant 0's SKU: refused as a duplicate
			}
			in.Variants = append(in.Variants, VariantInput{SKU: s, Name: variantName, Options: []KV{{Key: "size", Value: variantName}}, Price: price, Stock: stock})
		}

		err := in.validate()
		if err != nil {
			var list apperr.List
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("validate returned %T %v, want a non-empty apperr.List", err, err)
			}
			for _, e := range list {
				if e.Code != apperr.Invalid || len(e.Field) == 0 || e.Field[0] != "input" || e.Message == "" {
					t.Fatalf("malformed field error %+v", e)
				}
			}
		} else {
			requireValid(t, in)
		}

		again := in.validate()
		if (err == nil) != (again == nil) {
			t.Fatalf("validate changed its verdict on its own normalised input: %v, then %v", err, again)
		}
	})
}

// requireValid fails unless in meets every bound validate documents.
func requireValid(t *testing.T, in CreateInput) {
	t.Helper()
	if in.Name != strings.TrimSpace(in.Name) {
		t.Fatalf("name %q accepted untrimmed", in.Name)
	}
	if n := utf8.RuneCountInString(in.Name); n < 1 || n > 200 {
		t.Fatalf("name of %d characters accepted", n)
	}
	if len(in.Slug) > 100 || !slugPattern.MatchString(in.Slug) {
		t.Fatalf("slug %q accepted", in.Slug)
	}
	if utf8.RuneCountInString(strings.TrimSpace(in.Description)) > 10_000 {
		t.Fatalf("description too long accepted")
	}
	if !money.ValidCurrency(in.Currency) {
		t.Fatalf("currency %q accepted", in.Currency)
	}
	for _, raw := range in.ImageURLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("image URL %q accepted", raw)
		}
	}
	if len(in.Variants) < 1 || len(in.Variants) > 100 {
		t.Fatalf("%d variants accepted", len(in.Variants))
	}
	skus := map[string]bool{}
	for _, v := range in.Variants {
		if skus[v.SKU] {
			t.Fatalf("duplicate SKU %q accepted", v.SKU)
		}
		skus[v.SKU] = true
		if n := utf8.RuneCountInString(strings.TrimSpace(v.SKU)); n < 1 || n > 64 {
			t.Fatalf("SKU %q accepted", v.SKU)
		}
		if v.Price < 0 || v.Stock < 0 || v.Stock > MaxStock {
			t.Fatalf("price %d / stock %d accepted", v.Price, v.Stock)
		}
	}
}
