package catalog

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSearch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want [][]clause
	}{
		{"Zephir  KEYBORD", [][]clause{{{text: "zephir"}}, {{text: "keybord"}}}},
		{`"desk lamp" -floor`, [][]clause{{{text: "desk lamp", phrase: true}}, {{text: "floor", negate: true}}}},
		{`kettle or skillet mug`, [][]clause{{{text: "kettle"}, {text: "skillet"}}, {{text: "mug"}}}},
		{`or kettle`, [][]clause{{{text: "or"}}, {{text: "kettle"}}}},
		{`-"laptop sleeve" bag,`, [][]clause{{{text: "laptop sleeve", phrase: true, negate: true}}, {{text: "bag"}}}},
		{`t-shirt 'it's' & | !`, [][]clause{{{text: "t-shirt"}}, {{text: "it's"}}}},
		{`"unclosed phrase`, [][]clause{{{text: "unclosed phrase", phrase: true}}}},
		{`  `, nil},
	}
	for _, c := range cases {
		require.Equal(t, c.want, parseSearch(c.in), c.in)
	}
}

func TestRenderSearch(t *testing.T) {
	t.Parallel()
	groups := parseSearch(`zephir keyboard -wireless "desk lamp" the`)
	forms := []termForms{
		{exact: "'zephir'", prefix: "'zephir':*", alternatives: []string{"zephyr", "o'neil"}},
		{exact: "'keyboard'", prefix: "'keyboard':*", known: true},
		{exact: "'wireless'", prefix: "'wireless':*", known: true},
		{phrase: "'desk' <-> 'lamp'"},
		{known: true}, // a stop word: dropped
	}
	q := renderSearch(groups, forms, CompileOptions{})
	require.Equal(t, `( ( ('zephir') | ('zephir':*) | 'zephyr' | 'o''neil' ) ) & ( ( ('keyboard') ) ) & ( !( ('wireless') ) ) & ( ( ('desk' <-> 'lamp') ) )`, q.Match,
		"an unknown word: exact, prefix and close words; a known one exact; an exclusion exact only")
	require.Equal(t, `( ( ('zephir':A) | ('zephir':*A) | 'zephyr':A | 'o''neil':A ) ) & ( ( ('keyboard':A) ) ) & ( !( ('wireless':A) ) ) & ( ( ('desk':A <-> 'lamp':A) ) )`, q.Name)

	q = renderSearch(parseSearch("mechanical keyb"), []termForms{{exact: "'mechan'", known: true, prefix: "'mechan':*"}, {exact: "'keyb'", prefix: "'keyb':*", known: true}}, CompileOptions{LastIsPrefix: true})
	require.Equal(t, `( ( ('mechan') ) ) & ( ( ('keyb') | ('keyb':*) ) )`, q.Match, "as you type, the last word is a prefix")

	require.False(t, q.NameRanksFirst, "a word read as a prefix too stands for several lexemes")
	require.True(t, renderSearch(parseSearch(`keyboard -wireless "desk lamp"`), forms[1:4], CompileOptions{}).NameRanksFirst,
		"known words, exclusions and phrases: a name match ranks first")
	require.False(t, renderSearch(groups, forms, CompileOptions{}).NameRanksFirst, "typo alternatives")
	require.False(t, renderSearch(parseSearch("kettle or skillet"), []termForms{{exact: "'kettl'", known: true}, {exact: "'skillet'", known: true}}, CompileOptions{}).NameRanksFirst, "or")

	require.True(t, renderSearch(parseSearch("-red"), []termForms{{exact: "'red'", known: true}}, CompileOptions{}).Empty, "only exclusions")
	require.True(t, renderSearch(parseSearch("the"), []termForms{{known: true}}, CompileOptions{}).Empty, "only stop words")
}
