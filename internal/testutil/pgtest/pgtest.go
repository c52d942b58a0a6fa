// Package pgtest gives tests their own real PostgreSQL database: each call clones a template
// database that was migrated once (per migration set) for every package, so test packages and
// parallel tests never share rows. The server is TEST_DATABASE_URL (an admin connection;
// `make test` finds or starts one), by default the local server on 127.0.0.1:5432.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/db/migrations"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

const defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL is the URL of the test server's maintenance database.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultAdminURL
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// NewURL creates a fresh, migrated database for t, dropped when t ends, and returns its URL.
func NewURL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(ctx) })
	if templateErr != nil {
		t.Fatalf("pgtest: template database: %v", templateErr)
	}
	name := "sgtest_" + randomHex(8)
	admin := connectAdmin(ctx, t)
	defer admin.Close(ctx)
	// Cloning fails while another session is connected to the template, e.g. a concurrent
	// clone from another package; retry briefly.
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		_, err = admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, templateName))
		if err == nil || !strings.Contains(err.Error(), "is being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	u := withDatabase(AdminURL(), name)
	renewInstallation(ctx, t, u)
	return testURL(u)
}

// renewInstallation gives a clone an installation id of its own: clones of one template would
// otherwise share the template's, and so share their Redis keys and channels (see
// migration 00009) with every other test database on the same Redis and key prefix.
func renewInstallation(ctx context.Context, t testing.TB, dbURL string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("pgtest: connect to the new database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := db.New(conn).InstallationRenew(ctx); err != nil {
		t.Fatalf("pgtest: renew the installation id: %v", err)
	}
}

// Pool settings of every test database URL. A test that waits for its parallel subtests
// keeps its server (and pools) alive without running anything; with the production idle time
// of minutes, the idle connections of every such test added up to most of PostgreSQL's
// max_connections. Connections idle for a few seconds are closed instead.
const (
	testMaxConnIdleTime   = "3s"
	testHealthCheckPeriod = "1s"
)

// testURL adds the test pool settings to a database URL, and the run's application_name
// (PGAPPNAME, which `make test` sets) so that a server started as a separate process is
// counted with the run's other connections.
func testURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(fmt.Sprintf("pgtest: bad database URL: %v", err))
	}
	q := u.Query()
	if q.Get("pool_max_conn_idle_time") == "" {
		q.Set("pool_max_conn_idle_time", testMaxConnIdleTime)
	}
	if q.Get("pool_health_check_period") == "" {
		q.Set("pool_health_check_period", testHealthCheckPeriod)
	}
	if app := os.Getenv("PGAPPNAME"); app != "" && q.Get("application_name") == "" {
		q.Set("application_name", app)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// New returns a pool on a fresh, migrated database for t, closed and dropped when t ends.
func New(t testing.TB, opts postgres.Options) *postgres.DB {
	t.Helper()
	d, err := postgres.Open(context.Background(), NewURL(t), opts)
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(d.Close) // registered after the drop, so it runs before it
	return d
}

func connectAdmin(ctx context.Context, t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("pgtest: connect to %s (is PostgreSQL running? `make test` starts one): %v", AdminURL(), err)
	}
	return conn
}

// ensureTemplate creates, once per migration set on the server, a migrated template database.
// An advisory lock serialises test binaries that start at the same moment.
func ensureTemplate(ctx context.Context) (string, error) {
	// _rN: river's migrations are part of it; _vN: the vendor id offset below.
	name := "sgtemplate_" + migrationsHash() + "_r1_v1"
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", fmt.Errorf("connect to %s (is PostgreSQL running? `make test` starts one): %w", AdminURL(), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(727272)"); err != nil {
		return "", err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(727272)") //nolint:errcheck

	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	if _, err := conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building)); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	d, err := postgres.Open(ctx, withDatabase(AdminURL(), building), postgres.Options{MaxConns: 2})
	if err != nil {
		return "", err
	}
	err = postgres.Migrate(ctx, d.Pool)
	if err == nil {
		err = jobs.Migrate(ctx, d.Pool)
	}
	if err == nil {
		// Vendor ids start far above account ids, so that a vendor id is never also the id of
		// an account in a test: code that mistakes one for the other (the vendor of a product
		// compared with the viewer's user id) fails its tests instead of passing by chance.
		_, err = d.Pool.Exec(ctx, `SELECT setval(pg_get_serial_sequence('vendors', 'id'), $1, false)`, vendorIDOffset)
	}
	d.Close()
	if err != nil {
		return "", err
	}
	for _, stmt := range []string{
		fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name),
		fmt.Sprintf("ALTER DATABASE %s WITH IS_TEMPLATE true", name),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return "", err
		}
	}
	return name, nil
}

// vendorIDOffset is the first vendor id of a test database.
const vendorIDOffset = 1_000_001

// migrationsHash names the template after the migrations' content, so a changed migration
// gets a new template instead of a stale one.
func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(fmt.Sprintf("pgtest: bad TEST_DATABASE_URL: %v", err))
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
