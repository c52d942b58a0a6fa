package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyRule holds the layering of ../shared/GUIDE.md §2 with a test rather than by
// review: transport → domain → infrastructure, and no cycles between domains.
func TestDependencyRule(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/shopgraph/shopgraph/"
	domains := []string{"account", "product", "inventory", "cart", "checkout", "order", "payment"}
	type rule struct {
		from, to, why string
	}
	var rules []rule
	for _, d := range domains {
		rules = append(rules,
			rule{mod + "internal/" + d, mod + "graph", "domains never import the GraphQL layer"},
			rule{mod + "internal/" + d, "github.com/99designs/gqlgen", "domains never import gqlgen"},
		)
		if d != "payment" { // the payment provider adapter speaks HTTP to Stripe
			rules = append(rules, rule{mod + "internal/" + d, "net/http", "domains never import net/http"})
		}
	}
	rules = append(rules,
		rule{mod + "graph", mod + "db", "graph calls services, not sqlc"},
		rule{mod + "graph", "github.com/jackc/pgx", "graph never touches pgx"},
		rule{mod + "internal/order", mod + "internal/checkout", "order must not import checkout"},
		rule{mod + "internal/order", mod + "internal/payment", "order must not import payment"},
		rule{mod + "internal/inventory", mod + "internal/order", "inventory is below order"},
		rule{mod + "internal/product", mod + "internal/cart", "the catalog is below carts"},
	)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg, imports := fields[0], fields[1:]
		for _, r := range rules {
			if pkg != r.from && !strings.HasPrefix(pkg, r.from+"/") {
				continue
			}
			for _, imp := range imports {
				if imp == r.to || strings.HasPrefix(imp, r.to+"/") {
					t.Errorf("%s imports %s: %s", pkg, imp, r.why)
				}
			}
		}
	}
}
