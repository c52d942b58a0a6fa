// This file is the serve command and the server loop: listen, serve until the context ends,
// then shut down gracefully. It is apart from the wiring so that its shutdown order reads in
// one place.

package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/shopgraph/shopgraph/graph/ws"
	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/metrics"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/seed"
)

// Development admin, created by `make run` when the database has no admin, and the size of
// the demo catalog seeded into an empty database.
const (
	devCatalogSize   = 240
	devAdminEmail    = "admin@shopgraph.local"
	devAdminPassword = "shopgraph-admin"
)

func serveCommand(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	log.Info("starting", "config", cfg)
	opts := Options{Migrate: !cfg.IsProduction(), Work: true}
	if cfg.IsDevelopment() {
		// The handler reports each request's statements in development (sqlStatements and
		// sqlRoundTrips); this tracer is what counts them.
		opts.Tracer = &postgres.StatementCounter{}
	}
	a, err := Open(ctx, cfg, log, opts)
	if err != nil {
		return err
	}
	defer a.Close()
	if cfg.IsDevelopment() {
		if err := a.ensureDevAdmin(ctx, stdout); err != nil {
			return err
		}
		seeded, err := seed.IfEmpty(ctx, a.Accounts, a.Vendors, a.Catalog, devCatalogSize)
		if err != nil {
			return fmt.Errorf("seed demo catalog: %w", err)
		}
		if seeded {
			fmt.Fprintf(stdout, "  Seeded a demo catalog of %d products; its vendors sign in as:\n", devCatalogSize)
			for _, email := range seed.VendorEmails() {
				fmt.Fprintf(stdout, "    %s / %s\n", email, seed.VendorPassword)
			}
		}
	}
	// LISTEN_HOST is loopback by default outside production: a development server prints its
	// admin password and must not be reachable from the network.
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	graphqlURL := "http://" + net.JoinHostPort(browseHost(cfg.ListenHost), strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)) + "/graphql"
	log.Info("listening", "addr", ln.Addr().String(), "graphql", graphqlURL)
	if cfg.Playground {
		fmt.Fprintf(stdout, "\n  GraphiQL: %s\n\n", graphqlURL)
	}
	if cfg.AdminAddr != "" {
		admin, err := metrics.AdminServer(cfg.AdminAddr, a.Metrics)
		if err != nil {
			return fmt.Errorf("admin listener: %w", err)
		}
		go func() {
			if err := admin.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Warn("admin listener stopped", "err", err)
			}
		}()
		defer admin.Close()
		log.Info("admin listener (pprof, metrics)", "addr", cfg.AdminAddr)
	}
	return Serve(ctx, ln, a.Handler(), cfg.ShutdownTimeout, log)
}

// browseHost is the host of the server's URL as printed: the listen host, or localhost when
// the server listens on every interface.
func browseHost(listenHost string) string {
	if ip := net.ParseIP(listenHost); listenHost == "" || ip != nil && ip.IsUnspecified() {
		return "localhost"
	}
	return listenHost
}

func (a *App) ensureDevAdmin(ctx context.Context, stdout io.Writer) error {
	exists, err := a.Accounts.AdminExists(ctx)
	if err != nil {
		return fmt.Errorf("check for an admin: %w", err)
	}
	if exists {
		fmt.Fprintf(stdout, "\n  Dev admin: %s / %s (unless you changed it)\n", devAdminEmail, devAdminPassword)
		return nil
	}
	if _, err := a.Accounts.EnsureAdmin(ctx, devAdminEmail, devAdminPassword); err != nil {
		return fmt.Errorf("create dev admin: %w", err)
	}
	fmt.Fprintf(stdout, "\n  Created dev admin: %s / %s\n", devAdminEmail, devAdminPassword)
	return nil
}

// Serve runs the HTTP server on ln until ctx ends, then shuts down gracefully: it stops
// accepting, cancels the base context (ending long-lived subscriptions) and waits up to timeout
// for in-flight requests.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, timeout time.Duration, log *slog.Logger) error {
	baseCtx, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	// WebSockets outlive their upgrade request: they follow the base context itself.
	baseCtx = ws.WithServerLife(baseCtx)
	defer cancelBase()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		// No WriteTimeout: it would cut Server-Sent Events subscriptions.
		BaseContext: func(net.Listener) context.Context { return baseCtx },
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", timeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Shutdown does not wait for hijacked connections (WebSockets); ending the base context
	// is what ends their subscriptions. In-flight requests are given the grace period first.
	srv.RegisterOnShutdown(func() {
		select {
		case <-shutdownCtx.Done():
		case <-time.After(timeout / 2):
		}
		cancelBase()
	})
	err := srv.Shutdown(shutdownCtx)
	// Shutdown waits neither for the hook above nor for hijacked connections: the
	// WebSockets are closed now, and their 1001 close frames written before Serve returns
	// (the process may exit then).
	cancelBase()
	ws.AwaitClosed(baseCtx)
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("shutdown complete")
	return nil
}
