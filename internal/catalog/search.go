package catalog

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// Searcher is the one door to product search: the product lists, their counts and the search
// box's suggestions go through it, so that another engine (OpenSearch, Meilisearch) could be
// put behind it without touching the resolvers. The PostgreSQL one, PGSearcher, compiles what a
// shopper typed into one tsquery that the list statements match with `p.search @@ query`.
type Searcher interface {
	// Compile turns what a shopper typed into the query the product lists match with, once
	// per request.
	Compile(ctx context.Context, text string, opts CompileOptions) (SearchQuery, error)
	// Suggest returns up to n distinct names of products the scope sees that start like
	// prefix, best first.
	Suggest(ctx context.Context, sc scope, prefix string, n int) ([]string, error)
}

// CompileOptions tune how a query is read.
type CompileOptions struct {
	// LastIsPrefix reads the last word as the start of a word (as-you-type). Words the
	// dictionary does not know are always read as prefixes too.
	LastIsPrefix bool
}

// SearchQuery is a compiled search. For PostgreSQL, Match and Name are tsquery texts; Empty
// means the text holds nothing to search for (only stop words or punctuation), which matches
// no product.
type SearchQuery struct {
	// Match is what a product must match: AND across the words (or the groups joined by
	// `or`), OR across each word's forms (exact stem, prefix, close dictionary words).
	Match string
	// Name is Match with every lexeme restricted to names (weight A): the candidates ranked
	// first.
	Name  string
	Empty bool
	// NameRanksFirst: every word stands for one lexeme (no typo alternatives, no `or`), so a
	// product matching in its name ranks above every product matching only elsewhere. With
	// alternatives it may not: ts_rank divides by the number of the query's lexemes, and a
	// description repeating several of them can outscore a name holding one.
	NameRanksFirst bool
}

// Search tuning. A word's typo alternatives are its closest dictionary words; the relevance
// order ranks a bounded set of candidates, so that a word that matches half the catalog costs
// no more than a rare one: up to searchCandidates products matching in the name and as many of
// the others matching anywhere (the second set only when the first may not hold the top:
// SearchQuery.NameRanksFirst). Beyond that, the order of the remaining matches is the index's,
// and a page after the last candidate continues below its cursor's rank.
const (
	searchMinSimilarity   = 0.35
	searchMaxAlternatives = 3
	searchCandidates      = 200
	// MaxSuggestions bounds productSuggest's first.
	MaxSuggestions = 20
)

// PGSearcher searches with PostgreSQL's full-text search and the search_words dictionary
// (migration 00032).
type PGSearcher struct {
	db      *postgres.DB
	replica *postgres.Replica // UseReplica's
}

// UseReplica sends the searcher's reads to r as the catalog's (Service.UseReplica).
func (s *PGSearcher) UseReplica(r *postgres.Replica) { s.replica = r }

func (s *PGSearcher) reads(ctx context.Context) postgres.Reads { return readsOf(ctx, s.db, s.replica) }

// NewPGSearcher returns the PostgreSQL searcher over d.
func NewPGSearcher(d *postgres.DB) *PGSearcher { return &PGSearcher{db: d} }

// Compile implements Searcher with one statement: every term's forms from the dictionary.
func (s *PGSearcher) Compile(ctx context.Context, text string, opts CompileOptions) (SearchQuery, error) {
	groups := parseSearch(text)
	var terms []string
	for _, g := range groups {
		for _, c := range g {
			terms = append(terms, c.text)
		}
	}
	if len(terms) == 0 {
		return SearchQuery{Empty: true}, nil
	}
	rows, err := s.reads(ctx).SearchTermsExpand(ctx, db.SearchTermsExpandParams{
		Terms: terms, MinSimilarity: searchMinSimilarity, MaxAlternatives: searchMaxAlternatives,
	})
	if err != nil {
		return SearchQuery{}, fmt.Errorf("expand search terms: %w", err)
	}
	forms := make([]termForms, len(rows))
	for i, r := range rows {
		forms[i] = termForms{exact: r.Exact, phrase: r.Phrase, prefix: r.Prefix, known: r.Known, alternatives: r.Alternatives}
	}
	return renderSearch(groups, forms, opts), nil
}

// Suggest implements Searcher: names matching every word in the name, the last as a prefix.
func (s *PGSearcher) Suggest(ctx context.Context, sc scope, prefix string, n int) ([]string, error) {
	q, err := s.Compile(ctx, prefix, CompileOptions{LastIsPrefix: true})
	if err != nil || q.Empty {
		return []string{}, err
	}
	names, err := s.reads(ctx).ProductSuggest(ctx, db.ProductSuggestParams{
		SearchQuery: q.Name, SeeArchived: sc.SeeArchived, ViewerVendorID: sc.VendorID,
		Candidates: searchCandidates, Lim: int32(n),
	})
	if err != nil {
		return nil, fmt.Errorf("suggest products: %w", err)
	}
	return names, nil
}

// Suggest returns up to first product names that v may see for a search box's prefix.
// Errors: BAD_USER_INPUT (first out of 1..MaxSuggestions).
func (s *Service) Suggest(ctx context.Context, v *auth.Viewer, prefix string, first int) ([]string, error) {
	if first < 1 || first > MaxSuggestions {
		return nil, apperr.FieldError(apperr.BadUserInput, fmt.Sprintf("first must be between 1 and %d.", MaxSuggestions), "first")
	}
	p := normalizedSearch(&prefix)
	if p == nil {
		return []string{}, nil
	}
	return s.search.Suggest(ctx, listScope(v), *p, first)
}

// clause is one element of a query: a word or a quoted phrase, maybe excluded (-word).
type clause struct {
	text   string
	phrase bool
	negate bool
}

// parseSearch reads web-search syntax: words, "quoted phrases", -exclusions, and `or` between
// two clauses. The result is groups ANDed together, each an OR of clauses.
func parseSearch(text string) [][]clause {
	var (
		groups [][]clause
		or     bool
	)
	add := func(c clause) {
		if or && len(groups) > 0 {
			groups[len(groups)-1] = append(groups[len(groups)-1], c)
		} else {
			groups = append(groups, []clause{c})
		}
		or = false
	}
	rs := []rune(strings.ToLower(text))
	for i := 0; i < len(rs); {
		if unicode.IsSpace(rs[i]) {
			i++
			continue
		}
		negate := false
		if rs[i] == '-' && i+1 < len(rs) && !unicode.IsSpace(rs[i+1]) {
			negate = true
			i++
		}
		if rs[i] == '"' {
			end := i + 1
			for end < len(rs) && rs[end] != '"' {
				end++
			}
			if p := strings.TrimSpace(string(rs[i+1 : end])); p != "" {
				add(clause{text: p, phrase: true, negate: negate})
			}
			i = end + 1
			continue
		}
		end := i
		for end < len(rs) && !unicode.IsSpace(rs[end]) && rs[end] != '"' {
			end++
		}
		w := strings.TrimFunc(string(rs[i:end]), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		i = end
		switch {
		case w == "":
		case w == "or" && !negate && len(groups) > 0:
			or = true
		default:
			add(clause{text: w, negate: negate})
		}
	}
	return groups
}

// termForms is what the dictionary says a clause may stand for (tsquery texts and lexemes).
type termForms struct {
	exact, phrase, prefix string
	known                 bool
	alternatives          []string
}

// renderSearch builds the tsquery texts from the clauses and their forms, in clause order.
func renderSearch(groups [][]clause, forms []termForms, opts CompileOptions) SearchQuery {
	var (
		ands     []string
		k        int
		positive bool
		single   = true // every positive clause stands for one lexeme
	)
	last := len(forms) - 1
	for _, g := range groups {
		var ors []string
		for _, c := range g {
			f := forms[k]
			isLast := k == last
			k++
			var alts []string
			switch {
			case c.phrase:
				alts = appendNonEmpty(alts, f.phrase)
			case c.negate:
				alts = appendNonEmpty(alts, f.exact)
			default:
				alts = appendNonEmpty(alts, f.exact)
				if (opts.LastIsPrefix && isLast) || !f.known {
					alts = appendNonEmpty(alts, f.prefix)
				}
				if !f.known {
					for _, l := range f.alternatives {
						alts = append(alts, quoteLexeme(l))
					}
				}
			}
			if len(alts) == 0 {
				continue // a stop word, or nothing searchable
			}
			e := "( " + strings.Join(alts, " | ") + " )"
			if c.negate {
				e = "!" + e
			} else {
				positive = true
				single = single && len(alts) == 1 && len(g) == 1
			}
			ors = append(ors, e)
		}
		if len(ors) > 0 {
			ands = append(ands, "( "+strings.Join(ors, " | ")+" )")
		}
	}
	// A query that only excludes ("-red") would match almost everything, which no search
	// box means: it searches for nothing instead.
	if !positive {
		return SearchQuery{Empty: true}
	}
	match := strings.Join(ands, " & ")
	return SearchQuery{Match: match, Name: lexemeRe.ReplaceAllStringFunc(match, nameOnly), NameRanksFirst: single}
}

func appendNonEmpty(s []string, v string) []string {
	if v == "" {
		return s
	}
	return append(s, "("+v+")")
}

// quoteLexeme quotes a lexeme for tsquery input: quotes doubled, backslashes escaped.
func quoteLexeme(l string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(l, `\`, `\\`), "'", "''") + "'"
}

// lexemeRe finds each quoted lexeme of a tsquery text with its prefix mark, if any.
var lexemeRe = regexp.MustCompile(`'(?:[^'\\]|''|\\.)*'(:\*)?`)

// nameOnly restricts one lexeme to weight A (the product's name).
func nameOnly(l string) string {
	if strings.HasSuffix(l, ":*") {
		return l + "A"
	}
	return l + ":A"
}
