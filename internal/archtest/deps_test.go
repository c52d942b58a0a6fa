package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/shopgraph/shopgraph/"

// domains are the business packages under internal/: below the transports, above the
// infrastructure.
var domains = []string{"account", "catalog", "inventory", "cart", "checkout", "order", "payment", "notify", "webhook", "vendor", "analytics", "address", "review"}

// rule forbids a package (and its subpackages) from reaching another, except through the
// packages of via.
type rule struct {
	from, to, why string
	via           []string
}

// TestDependencyRule holds the layering of the guide with a test rather than by review:
// transport → domain → infrastructure, and no cycles between domains.
//
// Most rules are checked against a package's whole dependency set (`go list`'s .Deps), not only
// what it imports itself: a domain that reaches net/http through a helper package depends on
// it as surely as one that imports it. The rules about what graph may call directly are
// checked against its own imports, since graph calls domains, which use the database.
func TestDependencyRule(t *testing.T) {
	t.Parallel()
	var transitive, directRules []rule
	for _, d := range domains {
		transitive = append(transitive,
			rule{module + "internal/" + d, module + "graph", "domains never depend on the GraphQL layer", nil},
			rule{module + "internal/" + d, module + "internal/httpapi", "domains never depend on the HTTP layer", nil},
			rule{module + "internal/" + d, module + "internal/app", "domains never depend on the wiring", nil},
			rule{module + "internal/" + d, "github.com/99designs/gqlgen", "domains never depend on gqlgen", nil},
		)
		// The payment provider's adapter speaks HTTP to Stripe: a domain reaches net/http
		// through internal/payment or not at all.
		// The outbound webhooks post to their receivers: internal/webhook is the other narrow
		// exception, and nothing reaches net/http through it.
		if d != "payment" && d != "webhook" {
			transitive = append(transitive, rule{module + "internal/" + d, "net/http", "domains never depend on net/http", []string{module + "internal/payment"}})
		}
	}
	transitive = append(transitive,
		rule{module + "graph", module + "internal/app", "the transport never depends on the wiring", nil},
		rule{module + "internal/httpapi", module + "internal/app", "the transport never depends on the wiring", nil},
		rule{module + "internal/order", module + "internal/checkout", "order must not depend on checkout", nil},
		rule{module + "internal/order", module + "internal/payment", "order must not depend on payment", nil},
		rule{module + "internal/inventory", module + "internal/order", "inventory is below order", nil},
		rule{module + "internal/catalog", module + "internal/cart", "the catalog is below carts", nil},
		rule{module + "internal/notify", module + "internal/checkout", "notify is told by checkout through an interface", nil},
		rule{module + "internal/catalog", module + "internal/webhook", "the catalog tells webhooks through an interface", nil},
		rule{module + "internal/order", module + "internal/webhook", "order tells webhooks through an interface", nil},
		rule{module + "internal/order", module + "internal/vendor", "order tells the vendor ledger through its Ledger hook", nil},
		rule{module + "internal/payment", module + "internal/vendor", "payment moves orders; the vendor ledger hears of it from order", nil},
		rule{module + "internal/checkout", module + "internal/webhook", "checkout tells webhooks through an interface", nil},
		rule{module + "internal/inventory", module + "internal/webhook", "inventory imports tell webhooks through their StockHook", nil},
		rule{module + "internal/tracking", module + "graph", "tracking is below the GraphQL layer", nil},
		rule{module + "internal/tracking", module + "internal/httpapi", "tracking is below the HTTP layer", nil},
		rule{module + "internal/tracking", "github.com/99designs/gqlgen", "tracking never depends on gqlgen", nil},
		rule{module + "internal/tracking", "net/http", "tracking never depends on net/http", nil},
	)
	directRules = append(directRules,
		rule{module + "graph", module + "db", "graph calls services, not sqlc", nil},
		rule{module + "graph", "github.com/jackc/pgx", "graph never touches pgx", nil},
		rule{module + "graph", module + "internal/cache", "the response cache and persisted queries are httpapi's", nil},
		rule{module + "graph", module + "internal/pubsub", "the live-tracking engine is internal/tracking", nil},
		rule{module + "graph", module + "internal/ratelimit", "graph takes its Buckets as an interface", nil},
		rule{module + "graph", "github.com/redis/go-redis", "graph never touches Redis", nil},
	)

	imports := importGraph(t)
	check := func(t *testing.T, rules []rule, reach func(from string) map[string][]string) {
		for pkg := range imports {
			for _, r := range rules {
				if !within(pkg, r.from) {
					continue
				}
				for dep, chain := range reach(pkg) {
					if within(dep, r.to) && !within(chain[len(chain)-2], r.to) && !passesThrough(chain, r.via) {
						t.Errorf("%s depends on %s (%s): %s", pkg, dep, strings.Join(chain, " → "), r.why)
					}
				}
			}
		}
	}
	direct := func(from string) map[string][]string {
		out := map[string][]string{}
		for _, imp := range imports[from] {
			out[imp] = []string{from, imp}
		}
		return out
	}
	whole := func(from string) map[string][]string { return reachable(imports, from) }
	t.Run("whole dependency sets", func(t *testing.T) { check(t, transitive, whole) })
	t.Run("direct imports", func(t *testing.T) { check(t, directRules, direct) })
}

// passesThrough reports whether a chain of imports goes through one of the packages of via.
func passesThrough(chain, via []string) bool {
	for _, pkg := range chain {
		for _, v := range via {
			if within(pkg, v) {
				return true
			}
		}
	}
	return false
}

// within reports whether pkg is path or one of its subpackages.
func within(pkg, path string) bool {
	return pkg == path || strings.HasPrefix(pkg, path+"/")
}

// importGraph is every package the module's packages depend on, the standard library's
// included, with the packages each imports.
func importGraph(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`, root+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if fields := strings.Fields(line); len(fields) > 0 {
			graph[fields[0]] = fields[1:]
		}
	}
	return graph
}

// reachable is every package that from depends on, each with one chain of imports that leads
// there (from first), so that a failure says which import to remove.
func reachable(graph map[string][]string, from string) map[string][]string {
	chains := map[string][]string{from: {from}}
	queue := []string{from}
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		for _, imp := range graph[pkg] {
			if _, seen := chains[imp]; seen {
				continue
			}
			chains[imp] = append(append([]string(nil), chains[pkg]...), imp)
			queue = append(queue, imp)
		}
	}
	delete(chains, from)
	return chains
}
