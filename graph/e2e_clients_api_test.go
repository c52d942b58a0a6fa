package graph_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// e2eDir holds the Node clients and their package.json (the tests run in graph/).
var e2eDir = filepath.Join("..", "e2e")

// expectedAuditWarnings are the SHOULD recommendations of the GraphQL-over-HTTP spec that
// graphql-http's audit finds the server not following, by audit id. A MUST it fails is an
// "error" and fails the test; a warning not listed here (or a listed one that passes) fails
// it too, so that a change of behaviour is seen and this list kept true. None today: the server
// follows every SHOULD the audit checks. 7B9B and 86EE, which the audit sends at once with
// different media types, once failed now and then, when the public response cache handed one
// request's uncached error to the other; a request now runs on its own when the shared answer
// is an error (TestPublicResponseCacheConcurrentMediaTypes).
var expectedAuditWarnings = []string{}

// TestRealClients runs real GraphQL clients, unmodified and with their defaults, against
// a running server (issue 14): graphql-http's GraphQL-over-HTTP audit, Apollo Client 3 and 4
// (queries, a validation error as a GraphQL error, a mutation, persisted queries by GET), urql
// (GET and POST queries, a mutation), Relay (a query through an Environment), and an order's
// status subscription over graphql-ws and graphql-sse, which must see the order paid. The
// client side is e2e/clients.spec.mjs; `npm ci --prefix e2e` installs the pinned clients, and
// this test runs that when they are missing.
func TestRealClients(t *testing.T) {
	t.Parallel()
	node := e2eNode(t)

	// A real server on a TCP port, a product, and a customer with an order awaiting payment.
	// The cache is the in-process one, not Redis: graphql-http's audit sends some sixty
	// requests at once, and on a loaded machine Redis calls then pass the store's 50 ms bound,
	// the cache bypasses Redis, and a persisted query registered meanwhile is forgotten (the
	// clients recover by sending the query again, but the exchanges this test checks change).
	e := &apitest.Env{Server: apitest.NewServer(t, nil)}
	e.AdminID = e.InsertUsers(t, auth.RoleAdmin, 1)[0]
	e.Admin = e.ClientFor(t, e.AdminID, auth.RoleAdmin)
	customer, _ := e.Customer(t)
	v := e.Variant(t, 4200, 10)
	o := buy(t, customer, v, 1)
	orderID := trackDBID(t, o.ID)

	ctx, cancel := context.WithTimeout(context.Background(), 75*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(e2eDir, "clients.spec.mjs"))
	cmd.Env = append(os.Environ(),
		"SG_URL="+e.Server.URL, "SG_TOKEN="+customer.Bearer,
		"SG_PRODUCT_ID="+v.ProductGID, "SG_PRODUCT_NAME="+v.ProductName,
		"SG_VARIANT_ID="+v.GID, "SG_ORDER_ID="+o.ID,
		"E2E_TIMEOUT_MS=10000",
	)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	var (
		lines    []string
		warnings []string
		paid     = make(chan string, 1)
		sentOnce sync.Once
	)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		t.Logf("clients: %s", line)
		lines = append(lines, line)
		if fields := strings.Fields(line); len(fields) >= 3 && fields[0] == "AUDIT" && fields[1] == "warn" {
			warnings = append(warnings, fields[2])
		}
		if line == "READY" {
			// Both subscriptions show the current status: pay the order, as Stripe would.
			sentOnce.Do(func() {
				go func() {
					status, body := postPaymentSucceeded(e.Server, orderID)
					if status != 200 {
						paid <- body
						return
					}
					paid <- ""
				}()
			})
		}
	}
	waitErr := cmd.Wait()
	output := strings.Join(lines, "\n")
	require.NoError(t, waitErr, "the clients failed:\n%s\nstderr:\n%s", failures(lines), stderr.String())
	require.Contains(t, lines, "DONE", "the script did not finish:\n%s", output)

	select {
	case failure := <-paid:
		require.Empty(t, failure, "the webhook was refused")
	case <-time.After(10 * time.Second):
		t.Fatal("the webhook never answered")
	}
	for _, want := range []string{
		"OK apollo3 query", "OK apollo3 validation error is a GraphQL error", "OK apollo3 mutation", "OK apollo3 persisted query by GET",
		"OK apollo4 query", "OK apollo4 validation error is a GraphQL error", "OK apollo4 mutation", "OK apollo4 persisted query by GET",
		"OK urql query", "OK urql mutation", "OK urql (POST queries) query", "OK urql (POST queries) mutation",
		"OK relay query",
		"OK graphql-ws first event", "OK graphql-sse first event", "STATUS ws PAID", "STATUS sse PAID",
		"OK graphql-ws sees PAID", "OK graphql-sse sees PAID",
	} {
		require.Contains(t, lines, want, "missing from the clients' output:\n%s", output)
	}
	require.ElementsMatch(t, expectedAuditWarnings, warnings,
		"graphql-http's SHOULD warnings changed; fix the server or update expectedAuditWarnings:\n%s", auditLines(lines, "warn"))
}

// failures picks the lines that say what went wrong.
func failures(lines []string) string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "FAIL ") || strings.HasPrefix(l, "AUDIT error ") {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return strings.Join(lines, "\n")
	}
	return strings.Join(out, "\n")
}

func auditLines(lines []string, status string) string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "AUDIT "+status+" ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// e2eInstall installs e2e's pinned packages once per test binary, for the tests that run
// node scripts side by side.
var e2eInstall struct {
	once sync.Once
	out  []byte
	err  error
}

// e2eNode returns node's path, skipping the test without node, and makes sure e2e/node_modules
// holds every package of e2e/package.json at its pinned version (running `npm ci --prefix e2e`
// once otherwise, so that an install from an older package.json is brought up to date).
func e2eNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skipf("no node on PATH (apt-get install nodejs npm): %v", err)
	}
	if missing := e2eMissingPackages(t); len(missing) > 0 {
		e2eInstall.once.Do(func() {
			npm, err := exec.LookPath("npm")
			if err != nil {
				e2eInstall.err = err
				return
			}
			e2eInstall.out, e2eInstall.err = exec.Command(npm, "ci", "--prefix", e2eDir, "--no-audit", "--no-fund").CombinedOutput()
		})
		require.NoError(t, e2eInstall.err, "e2e/node_modules lacks %v; npm ci --prefix e2e: %s", missing, e2eInstall.out)
		require.Empty(t, e2eMissingPackages(t), "npm ci --prefix e2e did not install them")
	}
	return node
}

// e2eMissingPackages lists e2e/package.json's dependencies that e2e/node_modules lacks or holds
// at another version.
func e2eMissingPackages(t *testing.T) []string {
	t.Helper()
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	b, err := os.ReadFile(filepath.Join(e2eDir, "package.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &pkg))
	var missing []string
	for name, spec := range pkg.Dependencies {
		// "npm:@apollo/client@3.14.1" installs that package under the alias's name.
		want := spec[strings.LastIndex(spec, "@")+1:]
		var installed struct {
			Version string `json:"version"`
		}
		b, err := os.ReadFile(filepath.Join(e2eDir, "node_modules", name, "package.json"))
		if err != nil || json.Unmarshal(b, &installed) != nil || installed.Version != want {
			missing = append(missing, name+"@"+want)
		}
	}
	slices.Sort(missing)
	return missing
}
