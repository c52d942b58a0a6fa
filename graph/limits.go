package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

// Limits bound what one request may ask for. gqlgen enforces none of them by default.
type Limits struct {
	// Complexity is the highest cost of one operation: every field costs 1, and a list
	// multiplies its children by its page size (or an estimate of its length).
	Complexity int
	// Depth is the deepest selection, counted through fragments.
	Depth int
	// Fields is the most fields (aliases included) one operation may select, through fragments.
	Fields int
	// Aliases is the most aliased fields one operation may select.
	Aliases int
	// ParserTokens bounds the query text (CVE-2023-49559: unbounded parsing).
	ParserTokens int
}

// DefaultParserTokens bounds the query text: ten times what the largest storefront query
// needs. The other limits are settings (internal/config).
const DefaultParserTokens = 15000

// Estimated lengths of lists that have no page size.
const (
	estVariants   = 5
	estLines      = 10
	estEvents     = 10
	estCategories = 10
	estChildren   = 3
	// estAddresses is an address book's usual length (it holds at most 50).
	estAddresses = 5
)

// complexityRoot prices the list fields by their page size or an estimate.
func complexityRoot() ComplexityRoot {
	var c ComplexityRoot
	// A page size beyond the maximum is refused by its resolver with BAD_USER_INPUT; it is
	// priced at the maximum so that the clearer error wins.
	page := func(first, last *int) int {
		switch {
		case first != nil:
			return min(max(*first, 1), catalog.MaxPageSize)
		case last != nil:
			return min(max(*last, 1), catalog.MaxPageSize)
		}
		return catalog.DefaultPageSize
	}
	c.Query.Products = func(child int, first *int, _ *string, last *int, _ *string, _ *model.ProductFilter, _ *catalog.Sort) int {
		return 1 + child*page(first, last)
	}
	c.Category.Products = func(child int, first *int, _ *string, last *int, _ *string, _ *catalog.Sort) int {
		return 1 + child*page(first, last)
	}
	c.Query.Orders = func(child int, first *int, _ *string, _ *model.OrderFilter) int {
		return 1 + child*page(first, nil)
	}
	c.Vendor.Products = func(child int, first *int, _ *string, last *int, _ *string, _ *catalog.Sort) int {
		return 1 + child*page(first, last)
	}
	c.Query.Vendors = func(child int, first *int, _ *string, _ *model.VendorFilter) int {
		return 1 + child*page(first, nil)
	}
	c.Vendor.History = func(child int) int { return 1 + child*estEvents }
	c.Vendor.LedgerEntries = func(child int, first *int, _ *string) int {
		return 1 + child*page(first, nil)
	}
	c.Query.Categories = func(child int) int { return 1 + child*estCategories }
	c.Category.Children = func(child int) int { return 1 + child*estChildren }
	c.Product.Variants = func(child int) int { return 1 + child*estVariants }
	c.Order.Lines = func(child int) int { return 1 + child*estLines }
	c.Order.Events = func(child int) int { return 1 + child*estEvents }
	c.Cart.Lines = func(child int) int { return 1 + child*estLines }
	c.User.Addresses = func(child int) int { return 1 + child*estAddresses }
	return c
}

type cost struct{ requested, limit int }

// limitExtension refuses, after validation and before any resolver, operations beyond the
// limits, with a top-level error whose extensions.code names the limit.
type limitExtension struct {
	limits Limits
	es     graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &limitExtension{}

func (l *limitExtension) ExtensionName() string { return "shopgraph-limits" }

func (l *limitExtension) Validate(es graphql.ExecutableSchema) error {
	l.es = es
	return nil
}

func (l *limitExtension) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Doc.Operations.ForName(oc.OperationName)
	if op == nil || isIntrospection(op) {
		// Introspection (GraphiQL's schema query is 15 levels deep) is switched on or off as
		// a whole; it reads the schema, never the database.
		return nil
	}
	depth, fields, aliases := measure(op.SelectionSet, 1)
	refuse := func(code, msg string, ext map[string]any) *gqlerror.Error {
		if ext == nil {
			ext = map[string]any{}
		}
		ext["code"] = code
		return &gqlerror.Error{Message: msg, Extensions: ext}
	}
	switch {
	case depth > l.limits.Depth:
		return refuse("QUERY_TOO_DEEP", fmt.Sprintf("The operation is %d levels deep; the limit is %d.", depth, l.limits.Depth),
			map[string]any{"depth": depth, "limit": l.limits.Depth})
	case fields > l.limits.Fields:
		return refuse("TOO_MANY_FIELDS", fmt.Sprintf("The operation selects %d fields; the limit is %d.", fields, l.limits.Fields),
			map[string]any{"fields": fields, "limit": l.limits.Fields})
	case aliases > l.limits.Aliases:
		return refuse("TOO_MANY_ALIASES", fmt.Sprintf("The operation uses %d aliases; the limit is %d.", aliases, l.limits.Aliases),
			map[string]any{"aliases": aliases, "limit": l.limits.Aliases})
	}
	requested := complexity.Calculate(ctx, l.es, op, oc.Variables)
	oc.Stats.SetExtension("shopgraph-cost", cost{requested: requested, limit: l.limits.Complexity})
	if requested > l.limits.Complexity {
		return refuse("QUERY_TOO_COMPLEX",
			fmt.Sprintf("The operation costs %d; the limit is %d. Ask for smaller pages or fewer fields.", requested, l.limits.Complexity),
			map[string]any{"cost": map[string]int{"requested": requested, "limit": l.limits.Complexity}})
	}
	return nil
}

// measure returns the depth, field count and alias count of a selection set, following
// fragment spreads and inline fragments (a fragment counts where it is spread).
func measure(set ast.SelectionSet, level int) (depth, fields, aliases int) {
	depth = level - 1
	for _, sel := range set {
		var d, f, a int
		switch s := sel.(type) {
		case *ast.Field:
			f, a = 1, 0
			if s.Alias != "" && s.Alias != s.Name {
				a = 1
			}
			cd, cf, ca := measure(s.SelectionSet, level+1)
			d, f, a = max(level, cd), f+cf, a+ca
		case *ast.InlineFragment:
			d, f, a = measure(s.SelectionSet, level)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				d, f, a = measure(s.Definition.SelectionSet, level)
			}
		}
		depth, fields, aliases = max(depth, d), fields+f, aliases+a
	}
	return depth, fields, aliases
}

// costOf is the operation's cost as computed by the limit extension.
func costOf(ctx context.Context) (cost, bool) {
	if !graphql.HasOperationContext(ctx) {
		return cost{}, false
	}
	c, ok := graphql.GetOperationContext(ctx).Stats.GetExtension("shopgraph-cost").(cost)
	return c, ok
}

// isIntrospection reports whether an operation asks only for __schema, __type or __typename.
func isIntrospection(op *ast.OperationDefinition) bool {
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok || len(f.Name) < 2 || f.Name[:2] != "__" {
			return false
		}
	}
	return len(op.SelectionSet) > 0
}
