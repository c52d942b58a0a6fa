package graph_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const productSuggestQuery = `query S($prefix: String!, $first: Int) { productSuggest(prefix: $prefix, first: $first) }`

func TestSearchSuggestAPI(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	createProduct(t, e.Admin, productIn("Zephyr Mechanical Keyboard"))
	createProduct(t, e.Admin, productIn("Aurora Wireless Keyboard"))
	createProduct(t, e.Admin, productIn("Studio Headphones"))
	gone := createProduct(t, e.Admin, productIn("Zephyr Desk Mat"))
	require.Empty(t, mutate(t, e.Admin, productArchiveMutation, map[string]any{"id": gone.ID}).UserErrors)
	anon := e.Anon(t)

	suggest := func(t *testing.T, prefix string, first any) []string {
		t.Helper()
		var out struct{ ProductSuggest []string }
		anon.Do(productSuggestQuery, map[string]any{"prefix": prefix, "first": first}).Decode(t, &out)
		return out.ProductSuggest
	}

	t.Run("names whose words start like the prefix, typos forgiven", func(t *testing.T) {
		require.ElementsMatch(t, []string{"Zephyr Mechanical Keyboard", "Aurora Wireless Keyboard"}, suggest(t, "keyb", nil))
		require.Equal(t, []string{"Zephyr Mechanical Keyboard"}, suggest(t, "zephir keyb", nil), "archived products are not suggested")
	})
	t.Run("two statements: the query's words, then the names", func(t *testing.T) {
		resp := anon.Do(productSuggestQuery, map[string]any{"prefix": "head"})
		require.Empty(t, resp.Errors)
		require.EqualValues(t, 2, resp.SQLStatements(t))
	})
	t.Run("first bounds the answer and is checked", func(t *testing.T) {
		require.Len(t, suggest(t, "keyboard", 1), 1)
		for _, n := range []int{0, 21} {
			resp := anon.Do(productSuggestQuery, map[string]any{"prefix": "keyboard", "first": n})
			require.Equal(t, "BAD_USER_INPUT", resp.Code())
		}
	})
	t.Run("a search forgives a typo in every word", func(t *testing.T) {
		conn := listProducts(t, anon, listArgs{Sort: "RELEVANCE", Filter: map[string]any{"search": "zephir keybord"}})
		require.Equal(t, []string{"Zephyr Mechanical Keyboard"}, conn.names())
		require.Equal(t, 1, conn.TotalCount)
	})
}
