// Command shopgraph is the shopgraph GraphQL commerce server and its admin commands.
//
//	shopgraph [serve]                  run the server (the default)
//	shopgraph migrate                  apply database migrations and exit
//	shopgraph admin create --email E   create or promote an admin; the password is read from
//	                                   SHOPGRAPH_ADMIN_PASSWORD or the first line of stdin
//	shopgraph seed --products N        add N generated demo products (and the demo categories
//	                                   and vendors when missing)
//	shopgraph stripe-event TYPE --order ID [--url URL]
//	                                   send a correctly signed Stripe event about an order's
//	                                   payment to a running server's webhook (local testing)
//	shopgraph help [COMMAND]           the commands, or one command's usage
//
// Every command answers -h or --help with its usage, without reading the configuration or
// connecting to anything. Configuration comes from the environment; see README.md.
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"

	"github.com/shopgraph/shopgraph/graph"
	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/cart"
	"github.com/shopgraph/shopgraph/internal/checkout"
	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/httpapi"
	"github.com/shopgraph/shopgraph/internal/httpapi/playground"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/metrics"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/product"
	"github.com/shopgraph/shopgraph/internal/pubsub"
	"github.com/shopgraph/shopgraph/internal/ratelimit"
	"github.com/shopgraph/shopgraph/internal/seed"
	"github.com/shopgraph/shopgraph/internal/tracing"
	"github.com/shopgraph/shopgraph/internal/tracking"
)

// Development admin, created by `make run` when the database has no admin, and the size of
// the demo catalog seeded into an empty database.
const (
	devCatalogSize   = 240
	devAdminEmail    = "admin@shopgraph.local"
	devAdminPassword = "shopgraph-admin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "shopgraph:", err)
		os.Exit(1)
	}
}

// run is main without globals, so that tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	// Help comes first: before the configuration is loaded (production refuses to load without
	// its secrets) and before anything connects, migrates or listens.
	if text, ok := helpText(args); ok {
		_, err := io.WriteString(stdout, text)
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	// Log lines carry the trace id of their request when tracing is on.
	log := slog.New(tracing.LogHandler(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel})))
	shutdownTracing, err := tracing.Setup(ctx, "shopgraph", getenv)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shutdownTracing(flushCtx)
	}()

	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		if len(args) > 0 {
			return usageError("serve", "takes no arguments, got %q", args)
		}
		return serveCommand(ctx, cfg, log, stdout)
	case "migrate":
		if len(args) > 0 {
			return usageError("migrate", "takes no arguments, got %q", args)
		}
		app, err := openApp(ctx, cfg, log, appOptions{migrate: true})
		if err != nil {
			return err
		}
		defer app.Close()
		log.Info("migrations applied")
		return nil
	case "admin":
		return adminCommand(ctx, cfg, log, args, getenv, stdin, stdout)
	case "seed":
		return seedCommand(ctx, cfg, log, args, stdout)
	case "stripe-event":
		return stripeEventCommand(ctx, cfg, log, args, stdout)
	}
	return fmt.Errorf("unknown command %q; `shopgraph help` lists the commands", cmd)
}

// commands are the subcommands, in the order the help lists them.
var commands = []struct{ name, args, short, summary, settings string }{
	{"serve", "", "run the HTTP server (the default)", "Run the HTTP server until SIGINT or SIGTERM (the default command). Outside production it\n" +
		"applies the migrations first, and in development it creates the dev admin and seeds an\n" +
		"empty catalog, printing their credentials.",
		"APP_ENV, LISTEN_HOST, PORT, DATABASE_URL, DB_MAX_CONNS, REDIS_URL, JWT_SECRET, STRIPE_*, ..."},
	{"migrate", "", "apply the database migrations and exit", "Apply the database migrations to DATABASE_URL and exit.", "DATABASE_URL"},
	{"admin create", "--email EMAIL", "create or promote an admin", "Create an admin, or promote an existing account to admin. The password is read from\n" +
		"SHOPGRAPH_ADMIN_PASSWORD, or else from the first line of stdin.",
		"DATABASE_URL, SHOPGRAPH_ADMIN_PASSWORD"},
	{"seed", "[--products N]", "add generated demo products", "Add N generated demo products, and the demo categories and vendors when missing\n" +
		"(benchmarks).", "DATABASE_URL"},
	{"stripe-event", "TYPE --order ID [--url URL] [--amount N]", "send a signed Stripe event to a running server", "Send a correctly signed Stripe event about an order's payment to a running server's\n" +
		"webhook, playing Stripe's part in local testing. TYPE is one of:\n  " + strings.Join(payment.EventTypes, ", "),
		"DATABASE_URL (to find the order's payment intent), STRIPE_WEBHOOK_SECRET, PORT"},
	{"help", "[COMMAND]", "list the commands, or show one's usage", "List the commands, or show one command's usage.", ""},
}

// settingsPointer ends every help text: the settings are environment variables, documented
// in one place.
const settingsPointer = "Settings are environment variables; README.md's \"Configuration\" section lists each one\n" +
	"with its default (APP_ENV, LISTEN_HOST, PORT, DATABASE_URL, REDIS_URL, ...).\n"

// helpText is the help that args ask for: `help [COMMAND]`, `-h`/`--help` alone, or a known
// command with -h, -help or --help among its arguments.
func helpText(args []string) (string, bool) {
	if len(args) == 0 {
		return "", false
	}
	if args[0] == "help" || isHelpFlag(args[0]) {
		if text, ok := commandHelp(args[1:]); ok {
			return text, true
		}
		return topHelp(), true
	}
	for _, a := range args[1:] {
		if a == "--" {
			break
		}
		if isHelpFlag(a) {
			return commandHelp(args)
		}
	}
	return "", false
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

func topHelp() string {
	var b strings.Builder
	b.WriteString("shopgraph: the shopgraph GraphQL commerce server and its admin commands.\n\n")
	b.WriteString("Usage: shopgraph [COMMAND] [ARGUMENTS]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-14s %s\n", c.name, c.short)
	}
	b.WriteString("\nWithout a command, shopgraph serves. `shopgraph COMMAND --help` shows a command's usage.\n\n")
	b.WriteString(settingsPointer)
	return b.String()
}

// commandHelp is the usage of the command that args name ("admin create" is two words).
func commandHelp(args []string) (string, bool) {
	if len(args) == 0 {
		return "", false
	}
	name := args[0]
	if name == "admin" {
		if len(args) < 2 || args[1] != "create" {
			return "usage: shopgraph admin create --email EMAIL\n\n`admin` has one subcommand, create; `shopgraph admin create --help` describes it.\n\n" + settingsPointer, true
		}
		name = "admin create"
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "usage: shopgraph %s", c.name)
		if c.args != "" {
			fmt.Fprintf(&b, " %s", c.args)
		}
		fmt.Fprintf(&b, "\n\n%s\n", c.summary)
		if fs := commandFlags(c.name); fs != nil {
			b.WriteString("\nFlags:\n")
			fs.SetOutput(&b)
			fs.PrintDefaults()
		}
		if c.settings != "" {
			fmt.Fprintf(&b, "\nSettings it reads: %s\n", c.settings)
		}
		b.WriteString("\n" + settingsPointer)
		return b.String(), true
	}
	return "", false
}

// commandFlags is the flag set of a command that has flags, as the command itself parses them.
func commandFlags(name string) *flag.FlagSet {
	switch name {
	case "admin create":
		fs, _ := adminCreateFlags()
		return fs
	case "seed":
		fs, _ := seedFlags()
		return fs
	case "stripe-event":
		fs, _ := stripeEventFlags()
		return fs
	}
	return nil
}

// usageError is a command's misuse, with its usage.
func usageError(name, format string, a ...any) error {
	text, _ := commandHelp(strings.Fields(name))
	return fmt.Errorf("%s %s\n%s", name, fmt.Sprintf(format, a...), text)
}

// app is every long-lived dependency, opened once.
type app struct {
	cfg      config.Config
	log      *slog.Logger
	db       *postgres.DB
	redis    *redis.Client
	tokens   *auth.Tokens
	accounts *account.Service
	catalog  *product.Service
	carts    *cart.Service
	orders   *order.Service
	checkout *checkout.Service
	payments *payment.Service
	jobs     *jobs.Queue
	cache    *cache.Cache
	store    cache.Store
	buckets  ratelimit.Buckets
	bus      *pubsub.Bus
	jobsDB   *postgres.DB
	metrics  *metrics.Registry
	// stopBus ends the Redis subscription that feeds the live-tracking hub.
	stopBus context.CancelFunc
}

// appOptions are the choices of openApp's callers.
type appOptions struct {
	migrate bool
	// work runs background jobs (the server does; one-shot commands only enqueue).
	work bool
	// tracer sees every SQL statement (tests count them).
	tracer pgx.QueryTracer
	// gateway replaces the Stripe gateway (tests use a stateful fake).
	gateway payment.Gateway
	// pollOnly makes the job queue poll without a LISTEN connection (tests: fewer connections).
	pollOnly bool
}

func openApp(ctx context.Context, cfg config.Config, log *slog.Logger, opts appOptions) (*app, error) {
	url := cfg.DatabaseURL
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/shopgraph?sslmode=disable"
	}
	d, err := postgres.Open(ctx, url, postgres.Options{MaxConns: cfg.DBMaxConns, Tracer: tracing.MultiTracer(opts.tracer, tracing.PgxTracer())})
	if err != nil {
		return nil, err
	}
	if opts.migrate {
		err := postgres.Migrate(ctx, d.Pool)
		if err == nil {
			err = jobs.Migrate(ctx, d.Pool)
		}
		if err != nil {
			d.Close()
			return nil, err
		}
	}
	a := &app{cfg: cfg, log: log, db: d, tokens: auth.NewTokens(cfg.JWTSecret, nil)}
	var limiter ratelimit.Limiter = ratelimit.NewMemory(nil)
	var store cache.Store = cache.NewMemory(0)
	// namespace starts every Redis key and channel of this shop: REDIS_KEY_PREFIX, then the
	// database's installation id. Empty without Redis.
	var namespace string
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("parse REDIS_URL: %w", err)
		}
		opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 2*time.Second, time.Second, time.Second
		// Calls the cache abandons at its own short timeout then free their connection.
		opts.ContextTimeoutEnabled = true
		// Two shops on one Redis with the same prefix (the default one, say) must still never
		// read each other's cached catalog, rate limits or order events: the database's own
		// identity goes into every key and channel.
		installation, err := d.InstallationID(ctx)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("read the installation id (migration 00009; run `shopgraph migrate`): %w", err)
		}
		namespace = cfg.RedisKeyPrefix + installation.String() + ":"
		a.redis = redis.NewClient(opts)
		if err := tracing.InstrumentRedis(a.redis); err != nil {
			log.Warn("redis tracing", "err", err)
		}
		limiter = ratelimit.NewRedis(a.redis, namespace+"ratelimit:")
		store = cache.NewRedis(a.redis, namespace+"cache:", cache.RedisOptions{Logger: log})
	}
	a.accounts = account.NewService(d, a.tokens, limiter, account.LoginLimits{
		PerEmailIP: cfg.LoginAttemptsPerEmailIP, PerEmail: cfg.LoginAttemptsPerEmail,
		PerIP: cfg.LoginAttemptsPerIP, Window: cfg.LoginWindow,
	}, log)
	if cfg.Cache == "off" {
		store = cache.Disabled{}
	}
	a.store = store
	a.metrics = metrics.New(metrics.Options{})
	a.cache = cache.New(store)
	a.buckets = ratelimit.NewMemoryBuckets()
	if a.redis != nil {
		a.buckets = ratelimit.NewRedisBuckets(a.redis, namespace+"buckets:")
	}
	a.catalog = product.NewService(d, a.cache, log)
	a.carts = cart.NewService(d)
	a.bus = pubsub.NewBus(a.redis, namespace+"order-events", log)
	busCtx, stopBus := context.WithCancel(context.WithoutCancel(ctx))
	a.stopBus = stopBus
	go a.bus.Run(busCtx)
	a.orders = order.NewService(d, a.bus, a.catalog, log)
	a.jobs = &jobs.Queue{}
	stripeGateway := payment.NewStripe(cfg.StripeSecretKey, cfg.StripeAPIBase)
	stripeGateway.Log = log
	var gateway payment.Gateway = stripeGateway
	if opts.gateway != nil {
		gateway = opts.gateway
	}
	a.payments = payment.NewService(d, gateway, a.orders, cfg.OrderPaymentTTL, log)
	a.payments.Jobs = a.jobs
	a.payments.Observer = a.metrics
	a.checkout = checkout.NewService(d, a.orders, a.payments, log)
	a.checkout.Observer = a.metrics
	workers := river.NewWorkers()
	river.AddWorker(workers, &payment.ExpireWorker{Payments: a.payments})
	river.AddWorker(workers, &payment.RefundWorker{Payments: a.payments})
	river.AddWorker(workers, &payment.SettleRefundWorker{Payments: a.payments})
	river.AddWorker(workers, &cart.PurgeWorker{Carts: a.carts, After: cfg.GuestCartTTL})
	jobsDB, err := postgres.Open(ctx, url, postgres.Options{MaxConns: jobsPoolSize(opts.pollOnly)})
	if err != nil {
		d.Close()
		return nil, err
	}
	a.jobsDB = jobsDB
	a.metrics.WatchPool(d.Pool)
	a.metrics.WatchCache(a.cache)
	a.metrics.WatchSubscriptions(a.bus.Hub)
	a.metrics.WatchJobQueue(metrics.PostgresJobCounter(jobsDB.Pool), 0)
	if err := a.jobs.Start(ctx, jobsDB.Pool, workers, jobs.Options{
		Work: opts.work, MaxWorkers: 5, Log: log, PollOnly: opts.pollOnly,
		Periodic: []*river.PeriodicJob{jobs.GuestCartPurge()},
	}); err != nil {
		jobsDB.Close()
		d.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) Close() {
	a.stopBus()
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.jobs.Stop(stopCtx); err != nil {
		a.log.Warn("stop job queue", "err", err)
	}
	if a.redis != nil {
		_ = a.redis.Close()
	}
	a.jobsDB.Close()
	a.db.Close()
}

// handler builds the whole HTTP handler; tests build the same one.
func (a *app) handler() http.Handler {
	resolver := &graph.Resolver{
		Accounts: a.accounts, Catalog: a.catalog, Carts: a.carts,
		CheckoutService: a.checkout, OrderService: a.orders, Payments: a.payments, Log: a.log,
		Tracking: tracking.NewService(a.bus.Hub, a.orders, a.accounts),
	}
	persisted := httpapi.PersistedQueryStore{Store: a.store, TTL: 24 * time.Hour}
	gql := graph.NewHandler(resolver, graph.HandlerOptions{
		Log:            a.log,
		Extensions:     []graphql.HandlerExtension{a.metrics.GraphQLMiddleware(), tracing.GraphQLExtension()},
		Introspection:  a.cfg.Introspection,
		AllowedOrigins: a.cfg.CORSOrigins,
		WebsocketInit:  websocketAuth(a.tokens),
		Limits: graph.Limits{
			Complexity: a.cfg.QueryComplexityLimit, Depth: a.cfg.QueryDepthLimit, Fields: a.cfg.QueryFieldLimit,
			Aliases: a.cfg.QueryAliasLimit, ParserTokens: graph.DefaultParserTokens,
		},
		HideSuggestions:  a.cfg.IsProduction(),
		RequestTimeout:   a.cfg.RequestTimeout,
		PersistedQueries: persisted,
		ReportStatements: a.cfg.IsDevelopment(),
		Buckets:          a.buckets,
		FieldBudgets: map[string]graph.FieldBudget{
			"Mutation.accountRegister": {N: a.cfg.RegisterPerIPPerHour, Period: time.Hour, PerIP: true},
			"Mutation.checkout":        {N: a.cfg.CheckoutPerUser, Period: time.Minute},
		},
	})
	deps := httpapi.Deps{
		Log:           a.log,
		Tokens:        a.tokens,
		GraphQL:       a.metrics.Instrument("/graphql", httpapi.PublicResponseCache(a.cache, persisted, gql)),
		Ready:         a.ready,
		SecureCookies: !a.cfg.IsDevelopment(),
		CORSOrigins:   a.cfg.CORSOrigins,
		MaxBodyBytes:  int64(a.cfg.MaxBodyBytes),
		Budget:        httpapi.RequestBudget{Buckets: a.buckets, PerIP: a.cfg.RateLimitPerIP, PerUser: a.cfg.RateLimitPerUser},
		Extra: map[string]http.Handler{
			"POST /webhooks/stripe": a.metrics.Instrument("/webhooks/stripe",
				httpapi.StripeWebhook(a.cfg.StripeWebhookSecret, a.payments.HandleStripeEvent, a.log)),
			"GET /metrics": a.metrics.Handler(),
		},
	}
	if a.cfg.Playground {
		deps.Playground = playground.Page("/graphql")
		deps.PlaygroundAssets = playground.Handler("/graphql")
	}
	// Outermost, so the request log line already runs inside the request's span.
	return tracing.Middleware(httpapi.NewRouter(deps))
}

func (a *app) ready(ctx context.Context) map[string]error {
	checks := map[string]error{"postgres": a.db.Pool.Ping(ctx)}
	if a.redis != nil {
		checks["redis"] = a.redis.Ping(ctx).Err()
	}
	return checks
}

// websocketAuth authenticates a WebSocket from the connection_init payload's token, for
// clients that cannot set headers on the upgrade request. The cookie or header of the upgrade
// request already authenticated it otherwise.
func websocketAuth(tokens *auth.Tokens) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		token := payload.Authorization()
		if token == "" {
			if s, ok := payload["authToken"].(string); ok {
				token = s
			}
		}
		ctx = tracking.WithSubscriptionCounter(ctx)
		token = strings.TrimSpace(strings.TrimPrefix(token, "Bearer "))
		if token == "" {
			return ctx, nil, nil
		}
		v, err := tokens.Verify(token)
		if err != nil {
			// graphql-ws's "Forbidden" close code, rather than a normal closure.
			return transport.WithWebsocketCloseCode(ctx, 4403), nil,
				apperr.Wrap(err, apperr.Unauthenticated, "the access token is invalid or expired")
		}
		return auth.WithViewer(ctx, v), nil, nil
	}
}

func serveCommand(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	log.Info("starting", "config", cfg)
	opts := appOptions{migrate: !cfg.IsProduction(), work: true}
	if cfg.IsDevelopment() {
		// The handler reports each request's statements in development (sqlStatements and
		// sqlRoundTrips); this tracer is what counts them.
		opts.tracer = &postgres.StatementCounter{}
	}
	a, err := openApp(ctx, cfg, log, opts)
	if err != nil {
		return err
	}
	defer a.Close()
	if cfg.IsDevelopment() {
		if err := a.ensureDevAdmin(ctx, stdout); err != nil {
			return err
		}
		seeded, err := seed.IfEmpty(ctx, a.accounts, a.catalog, devCatalogSize)
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
		admin, err := metrics.AdminServer(cfg.AdminAddr, a.metrics)
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
	return serve(ctx, ln, a.handler(), cfg.ShutdownTimeout, log)
}

// jobsPoolSize is the size of the job queue's own pool, which keeps background work from taking
// the API's connections and from showing in per-request statement counts. Fetching jobs,
// completing them (up to five workers at once), leader election, table maintenance and the
// queue-depth metric share it: three, so that one slow statement does not hold up the rest.
// River's LISTEN connection comes on top: River takes it from the pool and hijacks it, so it
// no longer counts against the pool's size (a server holds 3 + 1). A polling-only queue (the
// test servers, dozens of which run at once, under the suite's cap) has no LISTEN connection
// and makes do with one.
func jobsPoolSize(pollOnly bool) int32 {
	if pollOnly {
		return 1
	}
	return 3
}

// browseHost is the host of the server's URL as printed: the listen host, or localhost when
// the server listens on every interface.
func browseHost(listenHost string) string {
	if ip := net.ParseIP(listenHost); listenHost == "" || ip != nil && ip.IsUnspecified() {
		return "localhost"
	}
	return listenHost
}

func (a *app) ensureDevAdmin(ctx context.Context, stdout io.Writer) error {
	exists, err := a.accounts.AdminExists(ctx)
	if err != nil {
		return fmt.Errorf("check for an admin: %w", err)
	}
	if exists {
		fmt.Fprintf(stdout, "\n  Dev admin: %s / %s (unless you changed it)\n", devAdminEmail, devAdminPassword)
		return nil
	}
	if _, err := a.accounts.EnsureAdmin(ctx, devAdminEmail, devAdminPassword); err != nil {
		return fmt.Errorf("create dev admin: %w", err)
	}
	fmt.Fprintf(stdout, "\n  Created dev admin: %s / %s\n", devAdminEmail, devAdminPassword)
	return nil
}

// serve runs the HTTP server on ln until ctx ends, then shuts down gracefully: it stops
// accepting, cancels the base context (ending long-lived subscriptions) and waits up to timeout
// for in-flight requests.
func serve(ctx context.Context, ln net.Listener, h http.Handler, timeout time.Duration, log *slog.Logger) error {
	baseCtx, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
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
	if err := srv.Shutdown(shutdownCtx); err != nil {
		cancelBase()
		_ = srv.Close()
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("shutdown complete")
	return nil
}

func adminCommand(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: shopgraph admin create --email EMAIL (password from SHOPGRAPH_ADMIN_PASSWORD or stdin)")
	}
	fs, email := adminCreateFlags()
	fs.SetOutput(stdout)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("--email is required")
	}
	password := getenv("SHOPGRAPH_ADMIN_PASSWORD")
	if password == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password from stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	a, err := openApp(ctx, cfg, log, appOptions{migrate: !cfg.IsProduction()})
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.accounts.EnsureAdmin(ctx, *email, password)
	if err != nil {
		var list apperr.List
		if errors.As(err, &list) {
			msgs := make([]string, len(list))
			for i, e := range list {
				msgs[i] = e.Message
			}
			return errors.New(strings.Join(msgs, " "))
		}
		return err
	}
	fmt.Fprintf(stdout, "admin %s is ready (id %d)\n", u.Email, u.ID)
	return nil
}

func adminCreateFlags() (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	return fs, fs.String("email", "", "the admin's email (required)")
}

func seedFlags() (*flag.FlagSet, *int) {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	return fs, fs.Int("products", 1000, "how many products to generate")
}

func seedCommand(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs, n := seedFlags()
	fs.SetOutput(stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *n > 10_000_000 {
		return errors.New("--products must be between 1 and 10,000,000")
	}
	a, err := openApp(ctx, cfg, log, appOptions{migrate: !cfg.IsProduction()})
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	if err := seed.Catalog(ctx, a.accounts, a.catalog, *n); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d products in %s\n", *n, time.Since(start).Round(time.Millisecond))
	return nil
}

func stripeEventCommand(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	usage := "usage: shopgraph stripe-event TYPE --order ORDER_ID [--url URL] [--amount N]\n  TYPE: " + strings.Join(payment.EventTypes, ", ")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New(usage)
	}
	typ := args[0]
	fs, f := stripeEventFlags()
	fs.SetOutput(stdout)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	orderArg, url, amount := f.order, f.url, f.amount
	if *url == "" {
		*url = stripeWebhookURL(cfg)
	}
	orderID, err := parseOrderArg(*orderArg)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, usage)
	}
	a, err := openApp(ctx, cfg, log, appOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := a.payments.ForOrder(ctx, orderID)
	if err != nil {
		return fmt.Errorf("order %d has no payment intent yet (check out first): %w", orderID, err)
	}
	spec := payment.EventSpec{Type: typ, IntentID: p.IntentID, Amount: p.Amount.Amount, Currency: p.Amount.Currency}
	if typ == "charge.refunded" {
		spec.AmountRefunded = p.Amount.Amount
		if *amount > 0 {
			spec.AmountRefunded = *amount
		}
	} else if *amount > 0 {
		spec.Amount = *amount
	}
	status, body, err := payment.SendEvent(ctx, *url, cfg.StripeWebhookSecret, spec)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s for order %d (intent %s): HTTP %d %s\n", typ, orderID, p.IntentID, status, body)
	if status != http.StatusOK {
		return fmt.Errorf("webhook answered %d", status)
	}
	return nil
}

// stripeWebhookURL is the webhook of the server that cfg describes, at the host the server
// prints its own URLs with: a server told to listen on one address only is not on localhost.
func stripeWebhookURL(cfg config.Config) string {
	return "http://" + net.JoinHostPort(browseHost(cfg.ListenHost), strconv.Itoa(cfg.Port)) + "/webhooks/stripe"
}

// stripeEventArgs are stripe-event's flags.
type stripeEventArgs struct {
	order, url *string
	amount     *int64
}

func stripeEventFlags() (*flag.FlagSet, stripeEventArgs) {
	fs := flag.NewFlagSet("stripe-event", flag.ContinueOnError)
	return fs, stripeEventArgs{
		order:  fs.String("order", "", "the order: its global ID or its number (required)"),
		url:    fs.String("url", "", "the webhook URL (default http://$LISTEN_HOST:$PORT/webhooks/stripe, localhost when LISTEN_HOST is every interface)"),
		amount: fs.Int64("amount", 0, "amount (default: the order total; for charge.refunded, the amount refunded)"),
	}
}

// parseOrderArg accepts an order's global ID (as the API shows it) or its number.
func parseOrderArg(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("--order is required")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if typ, num, ok := strings.Cut(string(raw), ":"); err == nil && ok && typ == "Order" {
		if n, err := strconv.ParseInt(num, 10, 64); err == nil && n > 0 {
			return n, nil
		}
	}
	return 0, fmt.Errorf("--order %q is neither an order ID nor an order number", s)
}
