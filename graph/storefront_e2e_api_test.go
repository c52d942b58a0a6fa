package graph_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

// storefrontDir is the reference storefront (examples/storefront); the tests run in graph/.
var storefrontDir = filepath.Join("..", "examples", "storefront")

// storefrontInstall runs `npm ci` in examples/storefront once per test binary.
var storefrontInstall struct {
	once sync.Once
	out  []byte
	err  error
}

// TestStorefrontInBrowser is issue 21's end-to-end test: the reference storefront, built
// against a real server and served from another origin (CORS and the WebSocket origin check
// as deployed), driven in headless Chromium by examples/storefront/e2e/storefront.spec.mjs. A
// guest searches, adds two products, signs in (the guest cart merges into the customer's),
// checks out with a new address-book entry, pays with the development "Simulate payment"
// button and sees PAID arrive over the subscription; the vendor ships its lines and the
// shopper's open page shows SHIPPED. axe-core checks every page.
//
// Screenshots of each step go to $E2E_ARTIFACTS/storefront (CI keeps them), else a temporary
// directory. Skipped without Chromium or node; `npm ci` installs the app's pinned packages
// when examples/storefront/node_modules lacks them.
func TestStorefrontInBrowser(t *testing.T) {
	t.Parallel()
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no Chromium at %s (apt-get install chromium): %v", chromium, err)
	}
	node := storefrontNode(t)
	start := time.Now()

	// The storefront's origin is needed before the server starts: it must allow it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	origin := "http://" + ln.Addr().String()
	e := apitest.NewEnv(t, apitest.EnvOptions{Redis: true, Env: map[string]string{"CORS_ORIGINS": origin}})

	vendorUser := e.InsertUsers(t, auth.RoleVendor, 1)[0]
	vd := e.NewVendor(t, "Lamplight Goods", vendorUser)
	lantern := e.Product(t, apitest.ProductOptions{Name: "Storm Lantern", VendorID: &vd.ID, Variants: []catalog.VariantInput{
		{Name: "Small", Price: 2450, Stock: 20}, {Name: "Large", Price: 3900, Stock: 12},
	}})
	e.Product(t, apitest.ProductOptions{Name: "Lantern Oil", VendorID: &vd.ID, Variants: []catalog.VariantInput{{Name: "1 litre", Price: 850, Stock: 40}}})
	kettle := e.Product(t, apitest.ProductOptions{Name: "Copper Kettle", VendorID: &vd.ID, Variants: []catalog.VariantInput{{Name: "Default", Price: 5600, Stock: 5}}})
	customer, customerID := e.Customer(t)
	// The customer's own cart already holds a line: after sign-in the guest's two join it.
	mustAdd(t, customer, kettle[0].GID, 1)
	emailOf := func(id int64) string {
		var email string
		require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(), `SELECT email FROM users WHERE id = $1`, id).Scan(&email))
		return email
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	dist := t.TempDir()
	build := exec.CommandContext(ctx, node, filepath.Join("node_modules", "vite", "bin", "vite.js"), "build", "--outDir", dist, "--emptyOutDir", "--logLevel", "warn")
	build.Dir = storefrontDir
	build.Env = append(os.Environ(), "VITE_GRAPHQL_URL="+e.Server.URL+"/graphql", "VITE_STRIPE_PUBLISHABLE_KEY=")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "vite build: %s", out)
	built := time.Since(start)

	static := &http.Server{Handler: spaHandler(dist), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := static.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("static server: %v", err)
		}
	}()
	t.Cleanup(func() { _ = static.Close() })

	shots := t.TempDir()
	if dir := os.Getenv("E2E_ARTIFACTS"); dir != "" {
		shots = filepath.Join(dir, "storefront")
		require.NoError(t, os.MkdirAll(shots, 0o755))
	}
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "storefront.spec.mjs"))
	cmd.Dir = storefrontDir
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium, "SF_URL="+origin, "SCREENSHOTS="+shots,
		"SHOPPER_EMAIL="+emailOf(customerID), "VENDOR_EMAIL="+emailOf(vendorUser), "PASSWORD="+apitest.Password,
		"SEARCH=lantern", "PRODUCT_A="+lantern[0].ProductName, "VARIANT_A=Large", "PRODUCT_B=Lantern Oil")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var lines []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		t.Logf("browser: %s", sc.Text())
		lines = append(lines, sc.Text())
	}
	waitErr := cmd.Wait()
	output := strings.Join(lines, "\n")
	require.NoError(t, waitErr, "the browser script failed:\n%s\nstderr:\n%s", output, stderr.String())

	require.Contains(t, lines, "GUEST_CART_LINES 2")
	require.Contains(t, lines, "MERGED_CART_LINES 3", "the guest cart did not merge into the customer's on sign-in")
	require.Contains(t, lines, "OK paid-live")
	require.Contains(t, lines, "OK shipped-live")
	require.NotContains(t, output, "AXE_VIOLATION")

	// What the browser showed is what the shop holds.
	var orderGID string
	for _, l := range lines {
		if id, ok := strings.CutPrefix(l, "ORDER "); ok {
			orderGID = id
		}
	}
	require.NotEmpty(t, orderGID, "the script never reached the order page")
	require.Equal(t, "SHIPPED", e.OrderStatus(t, trackDBID(t, orderGID)))
	require.Equal(t, 1, e.OrdersOf(t, customerID))
	require.Equal(t, 12-1, e.Stock(t, lantern[1]), "one Large lantern sold")

	entries, err := os.ReadDir(shots)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(entries), 12, "a screenshot per step")
	for _, en := range entries {
		info, err := en.Info()
		require.NoError(t, err)
		require.Positive(t, info.Size(), en.Name())
	}
	t.Logf("screenshots in %s; vite build %s, whole test %s", shots, built.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// spaHandler serves a built single-page app: its files, and index.html for any other path
// (the app's own routes, such as /orders/…), as any static host of it is set up to do.
func spaHandler(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := os.Stat(filepath.Join(dir, filepath.Clean("/"+r.URL.Path))); err != nil || r.URL.Path == "/" {
			http.ServeFile(w, r, filepath.Join(dir, "index.html"))
			return
		}
		files.ServeHTTP(w, r)
	})
}

// storefrontNode returns node's path, skipping without node, and runs `npm ci` in
// examples/storefront once when its node_modules lacks vite, playwright-core or axe-core.
func storefrontNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skipf("no node on PATH (apt-get install nodejs npm): %v", err)
	}
	missing := func() []string {
		var m []string
		for _, p := range []string{"vite", "playwright-core", "axe-core"} {
			if _, err := os.Stat(filepath.Join(storefrontDir, "node_modules", p, "package.json")); err != nil {
				m = append(m, p)
			}
		}
		return m
	}
	if len(missing()) > 0 {
		storefrontInstall.once.Do(func() {
			npm, err := exec.LookPath("npm")
			if err != nil {
				storefrontInstall.err = err
				return
			}
			c := exec.Command(npm, "ci", "--no-audit", "--no-fund")
			c.Dir = storefrontDir
			storefrontInstall.out, storefrontInstall.err = c.CombinedOutput()
		})
		require.NoError(t, storefrontInstall.err, "examples/storefront/node_modules lacks %v; npm ci: %s", missing(), storefrontInstall.out)
		require.Empty(t, missing(), "npm ci did not install them")
	}
	return node
}
