package graph_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/auth"
)

// TestBrowserLiveTracking is issue 6's browser test: headless Chromium opens GraphiQL on a
// running server, signs in with accountLogin, subscribes to an order and sees the status
// change that a signed Stripe webhook causes. The browser side is e2e/subscription.spec.mjs
// (playwright-core driving Debian's chromium; `npm ci --prefix e2e` installs it, and this test
// runs that when e2e/node_modules lacks it).
//
// E2E_SCREENSHOT=/path/file.png keeps a screenshot of the subscription tab.
func TestBrowserLiveTracking(t *testing.T) {
	t.Parallel()
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no Chromium at %s (apt-get install chromium): %v", chromium, err)
	}
	// Installs e2e's packages once, shared with TestRealClients: two `npm ci` at once, or one
	// while the other test's script runs, would each delete the other's node_modules.
	node := e2eNode(t)

	// A real server on a TCP port (httptest.NewServer), with a customer who can sign in with
	// a password, and an order of theirs awaiting payment.
	e := newShopEnv(t)
	customer, customerID := e.Customer(t)
	var email string
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(), `SELECT email FROM users WHERE id = $1`, customerID).Scan(&email))
	o := buy(t, customer, e.Variant(t, 4200, 10), 1)
	orderID := trackDBID(t, o.ID)

	screenshot := os.Getenv("E2E_SCREENSHOT")
	if screenshot == "" {
		screenshot = filepath.Join(t.TempDir(), "subscription.png")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(e2eDir, "subscription.spec.mjs"), e.Server.URL, email, commercePassword, o.ID, screenshot)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium, "E2E_TIMEOUT_MS=30000")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	var (
		mu        sync.Mutex
		lines     []string
		webhookAt time.Time
		webhook   = make(chan string, 1)
	)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		t.Logf("browser: %s", line)
		mu.Lock()
		lines = append(lines, line)
		mu.Unlock()
		if line == "READY" {
			// The subscription shows the current status: pay the order, as Stripe would.
			webhookAt = time.Now()
			go func() {
				status, body := postPaymentSucceeded(e.Server, orderID)
				if status != 200 {
					webhook <- body
					return
				}
				webhook <- ""
			}()
		}
	}
	waitErr := cmd.Wait()
	output := strings.Join(lines, "\n")
	require.NoError(t, waitErr, "the browser script failed:\n%s\nstderr:\n%s", output, stderr.String())

	require.False(t, webhookAt.IsZero(), "the script never printed READY:\n%s", output)
	select {
	case failure := <-webhook:
		require.Empty(t, failure, "the webhook was refused")
	case <-time.After(10 * time.Second):
		t.Fatal("the webhook never answered")
	}
	require.Contains(t, lines, "FIRST 1 PENDING", "the subscription did not start with the current status")
	require.Contains(t, lines, "STATUS PAID", "the browser did not see the order paid")
	require.Contains(t, output, "LOGGED_IN "+email)
	require.Contains(t, output, auth.AccessCookie, "accountLogin did not set the HttpOnly session cookie")
	require.Contains(t, lines, "WEBSOCKET "+trackWSURL(e.Server.Server), "the subscription did not go over a WebSocket")
	for _, line := range lines {
		if strings.HasPrefix(line, "SCHEMA_") {
			// Checked last: the tracking above works without the schema.
			assert.Equal(t, "SCHEMA_LOADED", line, "GraphiQL could not introspect the schema")
			break
		}
	}
	info, err := os.Stat(screenshot)
	require.NoError(t, err, "no screenshot")
	require.Positive(t, info.Size())
	t.Logf("screenshot: %s", screenshot)
}
