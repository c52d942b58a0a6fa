package catalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

// loadSearchCatalog inserts testdata/search_catalog.json's products (ACTIVE, platform's) and
// returns their ids by name. Plain inserts: the dictionary must be kept by products' trigger,
// whatever writes them.
func loadSearchCatalog(t *testing.T, b testBundle) map[string]int64 {
	t.Helper()
	raw, err := os.ReadFile("testdata/search_catalog.json")
	require.NoError(t, err)
	var products []struct{ Name, Description string }
	require.NoError(t, json.Unmarshal(raw, &products))
	ids := make(map[string]int64, len(products))
	for i, p := range products {
		var id int64
		require.NoError(t, b.d.Pool.QueryRow(context.Background(),
			`INSERT INTO products (name, slug, description, currency) VALUES ($1, $2, $3, 'EUR') RETURNING id`,
			p.Name, fmt.Sprintf("search-%d", i), p.Description).Scan(&id))
		ids[p.Name] = id
	}
	return ids
}

// searchNames is the names of the first page of products matching text, best first.
func searchNames(t *testing.T, b testBundle, text string, n int) []string {
	t.Helper()
	page, err := b.svc.List(context.Background(), nil, catalog.ListParams{
		First: &n, Filter: catalog.Filter{Search: &text}, Sort: catalog.SortRelevance,
	})
	require.NoError(t, err)
	names := make([]string, len(page.Products))
	for i, p := range page.Products {
		names[i] = p.Name
	}
	return names
}

// TestSearchRelevance runs the relevance suite, testdata/relevance.json: for each query, the
// products that must be in the top 10 (and those an exclusion or a phrase must keep out).
// Recall@10 is the share of wanted products found in the top 10; it must be 100%.
func TestSearchRelevance(t *testing.T) {
	t.Parallel()
	b := setup(t)
	loadSearchCatalog(t, b)
	raw, err := os.ReadFile("testdata/relevance.json")
	require.NoError(t, err)
	var suite []struct {
		Kind, Query  string
		Want, Absent []string
	}
	require.NoError(t, json.Unmarshal(raw, &suite))
	require.GreaterOrEqual(t, len(suite), 40)

	var wanted, found int
	var misses []string
	for _, c := range suite {
		top := searchNames(t, b, c.Query, 10)
		for _, w := range c.Want {
			wanted++
			if slices.Contains(top, w) {
				found++
			} else {
				misses = append(misses, fmt.Sprintf("%s %q: %q not in top 10 %q", c.Kind, c.Query, w, top))
			}
		}
		for _, a := range c.Absent {
			if slices.Contains(top, a) {
				misses = append(misses, fmt.Sprintf("%s %q: %q must not match, got %q", c.Kind, c.Query, a, top))
			}
		}
	}
	t.Logf("relevance suite: %d queries, recall@10 %.1f%% (%d of %d wanted products)", len(suite), 100*float64(found)/float64(wanted), found, wanted)
	require.Empty(t, misses, strings.Join(misses, "\n"))
}

// TestSearchForgives pins the behaviours the suite measures, one by one.
func TestSearchForgives(t *testing.T) {
	t.Parallel()
	b := setup(t)
	loadSearchCatalog(t, b)
	ctx := context.Background()

	t.Run("a typo in every word", func(t *testing.T) {
		require.Equal(t, []string{"Zephyr Mechanical Keyboard"}, searchNames(t, b, "zephir keybord", 10))
	})
	t.Run("a word the catalog does not know reads as a prefix", func(t *testing.T) {
		require.ElementsMatch(t, []string{"Zephyr Mechanical Keyboard", "Aurora Wireless Keyboard"}, searchNames(t, b, "keyb", 10))
	})
	t.Run("plurals and case do not matter", func(t *testing.T) {
		require.ElementsMatch(t, []string{"Desk Lamp", "Floor Lamp"}, searchNames(t, b, "LAMPS", 10))
	})
	t.Run("a name match ranks above a description match", func(t *testing.T) {
		// "laptop" is in the stand's name and in three descriptions.
		require.Equal(t, "Aluminium Laptop Stand", searchNames(t, b, "laptop", 10)[0])
	})
	t.Run("a phrase keeps its words together and in order", func(t *testing.T) {
		require.Equal(t, []string{"Desk Lamp"}, searchNames(t, b, `"desk lamp"`, 10))
		require.Empty(t, searchNames(t, b, `"lamp desk"`, 10))
	})
	t.Run("an excluded word is never forgiven", func(t *testing.T) {
		got := searchNames(t, b, "keyboard -wireless", 10)
		require.Equal(t, []string{"Zephyr Mechanical Keyboard"}, got)
	})
	t.Run("or joins alternatives", func(t *testing.T) {
		require.ElementsMatch(t, []string{"Electric Kettle", "Cast Iron Skillet"}, searchNames(t, b, "kettle OR skillet", 10))
	})
	t.Run("only stop words, only exclusions or only punctuation match nothing", func(t *testing.T) {
		for _, q := range []string{"the", "-keyboard", `!!! ' " & |`, "a or the"} {
			require.Empty(t, searchNames(t, b, q, 10), q)
			n, err := b.svc.Count(ctx, nil, catalog.Filter{Search: &q})
			require.NoError(t, err)
			require.Zero(t, n, q)
		}
	})
	t.Run("tsquery syntax in the text is read as words", func(t *testing.T) {
		require.Equal(t, []string{"Zephyr Mechanical Keyboard"}, searchNames(t, b, `zephyr:* & 'keyboard'`, 10))
	})
	t.Run("the count counts what the list lists", func(t *testing.T) {
		q := "keybord"
		n, err := b.svc.Count(ctx, nil, catalog.Filter{Search: &q})
		require.NoError(t, err)
		require.Equal(t, 2, n)
	})
	t.Run("a new product's words join the dictionary", func(t *testing.T) {
		_, err := b.d.Pool.Exec(ctx, `INSERT INTO products (name, slug, description, currency) VALUES ('Quokka Plush', 'quokka', 'Soft toy.', 'EUR')`)
		require.NoError(t, err)
		require.Equal(t, []string{"Quokka Plush"}, searchNames(t, b, "qokka", 10))
	})
	t.Run("a renamed product's new words join the dictionary", func(t *testing.T) {
		_, err := b.d.Pool.Exec(ctx, `UPDATE products SET name = 'Xylograph Print' WHERE slug = 'search-0'`)
		require.NoError(t, err)
		require.Equal(t, []string{"Xylograph Print"}, searchNames(t, b, "xylografh", 10))
	})
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ids := loadSearchCatalog(t, b)
	ctx := context.Background()

	t.Run("names starting like the prefix, the last word as a prefix", func(t *testing.T) {
		got, err := b.svc.Suggest(ctx, nil, "head", 10)
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"Studio Headphones", "Noise Cancelling Headphones", "Headlamp"}, got)
		got, err = b.svc.Suggest(ctx, nil, "mechanical ke", 10)
		require.NoError(t, err)
		require.Equal(t, []string{"Zephyr Mechanical Keyboard"}, got)
	})
	t.Run("words match names only", func(t *testing.T) {
		got, err := b.svc.Suggest(ctx, nil, "bluetooth", 10)
		require.NoError(t, err)
		require.Equal(t, []string{"Portable Bluetooth Speaker"}, got) // not the keyboard that pairs over it
	})
	t.Run("a typo in the last word is forgiven", func(t *testing.T) {
		got, err := b.svc.Suggest(ctx, nil, "zephyr keybo4rd", 10)
		require.NoError(t, err)
		require.Equal(t, []string{"Zephyr Mechanical Keyboard"}, got)
	})
	t.Run("first bounds the names", func(t *testing.T) {
		got, err := b.svc.Suggest(ctx, nil, "l", 2)
		require.NoError(t, err)
		require.Len(t, got, 2)
	})
	t.Run("a blank prefix suggests nothing", func(t *testing.T) {
		got, err := b.svc.Suggest(ctx, nil, "  ", 10)
		require.NoError(t, err)
		require.Empty(t, got)
	})
	t.Run("customers are not told of archived products", func(t *testing.T) {
		_, err := b.d.Pool.Exec(ctx, `UPDATE products SET status = 'ARCHIVED' WHERE id = $1`, ids["Camping Tent"])
		require.NoError(t, err)
		got, err := b.svc.Suggest(ctx, &b.customer, "camping", 10)
		require.NoError(t, err)
		require.Empty(t, got)
		got, err = b.svc.Suggest(ctx, &b.admin, "camping", 10)
		require.NoError(t, err)
		require.Equal(t, []string{"Camping Tent"}, got)
	})
	t.Run("first out of range is refused", func(t *testing.T) {
		for _, n := range []int{0, catalog.MaxSuggestions + 1} {
			_, err := b.svc.Suggest(ctx, nil, "lamp", n)
			require.Equal(t, apperr.BadUserInput, apperr.CodeOf(err))
		}
	})
}

// TestSearchPagesThroughRelevance pages a ranked search three at a time: every product that
// matches, in the name or only in the description, comes exactly once, and every name match
// before every description-only one.
func TestSearchPagesThroughRelevance(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	want := map[string]bool{} // name -> matches in its name
	for i := range 7 {
		name := fmt.Sprintf("Walnut Tray %d", i)
		want[name] = true
		_, err := b.d.Pool.Exec(ctx, `INSERT INTO products (name, slug, description, currency) VALUES ($1, $2, 'A tray.', 'EUR')`, name, fmt.Sprintf("tray-%d", i))
		require.NoError(t, err)
	}
	for i := range 5 {
		name := fmt.Sprintf("Serving Board %d", i)
		want[name] = false
		_, err := b.d.Pool.Exec(ctx, `INSERT INTO products (name, slug, description, currency) VALUES ($1, $2, 'Oiled walnut.', 'EUR')`, name, fmt.Sprintf("board-%d", i))
		require.NoError(t, err)
	}
	text, n := "walnut", 3
	var seen []string
	params := catalog.ListParams{First: &n, Filter: catalog.Filter{Search: &text}, Sort: catalog.SortRelevance}
	for range 10 {
		page, err := b.svc.List(ctx, nil, params)
		require.NoError(t, err)
		for _, p := range page.Products {
			seen = append(seen, p.Name)
		}
		if !page.HasNextPage {
			break
		}
		params.After = page.Cursors[len(page.Cursors)-1]
	}
	require.Len(t, seen, len(want), "each match once: %q", seen)
	for _, name := range seen {
		_, ok := want[name]
		require.True(t, ok, "%q listed twice or not a match", name)
		delete(want, name)
	}
	require.Empty(t, want, "every match listed")
	for i := 1; i < len(seen); i++ {
		require.False(t, strings.HasPrefix(seen[i-1], "Serving") && strings.HasPrefix(seen[i], "Walnut"),
			"a name match after a description match: %q", seen)
	}
}

// TestSearchRanksDescriptionsAgainstAlternatives: a query of alternatives (`or`, a typo's
// close words) stands for several lexemes, and ts_rank divides by their number, so a
// description holding all of them can outrank a name holding one. With more name matches than
// the candidate set holds, the products matching anywhere must still be candidates.
func TestSearchRanksDescriptionsAgainstAlternatives(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	// The description's product first: the scan of matches reads the table in order, so it
	// is among the first candidates matching anywhere.
	_, err := b.d.Pool.Exec(ctx, `INSERT INTO products (name, slug, description, currency)
		VALUES ('Paint Box', 'paint-box', 'Colour, color, colours, colors: colour and color. Colour color colour color.', 'EUR')`)
	require.NoError(t, err)
	_, err = b.d.Pool.Exec(ctx, `INSERT INTO products (name, slug, description, currency)
		SELECT 'Colour Tray ' || i, 'tray-' || i, 'Plain.', 'EUR' FROM generate_series(1, 210) i`)
	require.NoError(t, err)

	const text = "colour or color"
	q, err := catalog.NewPGSearcher(b.d).Compile(ctx, text, catalog.CompileOptions{})
	require.NoError(t, err)
	require.False(t, q.NameRanksFirst)
	var best string
	require.NoError(t, b.d.Pool.QueryRow(ctx, `SELECT name FROM products WHERE search @@ $1::tsquery
		ORDER BY ts_rank(search, $1::tsquery) DESC, id DESC LIMIT 1`, q.Match).Scan(&best))
	require.Equal(t, "Paint Box", best, "the case this test is for: the description outranks every name (%s)", q.Match)
	require.Equal(t, "Paint Box", searchNames(t, b, text, 5)[0])
}
