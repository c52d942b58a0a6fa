// This file is the wiring: configuration in, pools and services out, and Close to let go of
// them. It is the one place that knows every dependency of the server; the HTTP handler
// (http.go), the server loop (serve.go) and the commands (commands.go) start from an App.

package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/address"
	"github.com/shopgraph/shopgraph/internal/analytics"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/cart"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/checkout"
	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/inventory"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/metrics"
	"github.com/shopgraph/shopgraph/internal/notify"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/pubsub"
	"github.com/shopgraph/shopgraph/internal/ratelimit"
	"github.com/shopgraph/shopgraph/internal/review"
	"github.com/shopgraph/shopgraph/internal/tracing"
	"github.com/shopgraph/shopgraph/internal/vendor"
	"github.com/shopgraph/shopgraph/internal/webhook"
)

// App is every long-lived dependency of the server, opened once by Open. Its services and
// pools are exported for the commands and for tests (internal/apitest), which drive them directly.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	DB       *postgres.DB
	Redis    *redis.Client
	Tokens   *auth.Tokens
	Accounts *account.Service
	Catalog  *catalog.Service
	Vendors  *vendor.Service
	// Ledger is the vendor ledger (earnings, refund reversals), told of every order move.
	Ledger *vendor.Ledger
	// Analytics is the sales reports, kept by the order moves (order.Service.Sales).
	Analytics *analytics.Service
	Carts     *cart.Service
	Orders    *order.Service
	Checkout  *checkout.Service
	// AddressBook is the customers' saved addresses (internal/address).
	AddressBook *address.Service
	// Reviews is the product reviews and ratings (internal/review).
	Reviews  *review.Service
	Notify   *notify.Service
	Webhooks *webhook.Service
	// Imports takes inventory imports and applies them (internal/inventory).
	Imports  *inventory.ImportService
	Payments *payment.Service
	Jobs     *jobs.Queue
	Cache    *cache.Cache
	Store    cache.Store
	Buckets  ratelimit.Buckets
	Bus      *pubsub.Bus
	// Bell rings followers of background work (inventory imports) on every instance.
	Bell    *pubsub.Bell
	JobsDB  *postgres.DB
	Metrics *metrics.Registry
	// JobsUI is River's web UI of the job queue, for admins (at JobsUIPath).
	JobsUI http.Handler
	// Replica serves the catalog's reads when DATABASE_REPLICA_URL is set; nil otherwise.
	Replica *postgres.Replica

	// ExternalAuth is social login (Google, Facebook, OpenID Connect providers).
	ExternalAuth *account.ExternalAuth
	// stopBus ends the Redis subscription that feeds the live-tracking hub.
	stopBus context.CancelFunc

	// Revocations keeps this instance's set of revoked sessions (Tokens.Revoked) true, so a
	// revoked session's access tokens stop working within seconds (account.RevocationWatcher).
	Revocations *account.RevocationWatcher
}

// Options are the choices of Open's callers.
type Options struct {
	// Migrate applies the database and job queue migrations first.
	Migrate bool
	// Work runs background jobs (the server does; one-shot commands only enqueue).
	Work bool
	// Tracer sees every SQL statement (tests count them).
	Tracer pgx.QueryTracer
	// Gateway replaces the Stripe gateway (tests use a stateful fake).
	Gateway payment.Gateway
	// PollOnly makes the job queue poll without a LISTEN connection (tests: fewer connections).
	PollOnly bool
	// RescueJobsAfter runs again, after this long, the jobs left running by a process that
	// died (jobs.Options.RescueAfter); 0: jobs.DefaultRescueAfter. The crash tests shorten it.
	RescueJobsAfter time.Duration
	// EmailWorkers is how many email jobs this instance works at once (0: the default,
	// jobs.DefaultEmailWorkers); the email benchmark varies it.
	EmailWorkers int
}

// Open connects to PostgreSQL (and Redis when configured), applies the migrations when asked,
// builds the services and starts the job queue. Close releases all of it.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (*App, error) {
	url := cfg.DatabaseURL
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/shopgraph?sslmode=disable"
	}
	d, err := postgres.Open(ctx, url, postgres.Options{MaxConns: cfg.DBMaxConns, Tracer: tracing.MultiTracer(opts.Tracer, tracing.PgxTracer())})
	if err != nil {
		return nil, err
	}
	if opts.Migrate {
		err := postgres.Migrate(ctx, d.Pool)
		if err == nil {
			err = jobs.Migrate(ctx, d.Pool)
		}
		if err != nil {
			d.Close()
			return nil, err
		}
	}
	a := &App{Config: cfg, Log: log, DB: d, Tokens: auth.NewTokens(cfg.JWTSecret, nil)}
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
		a.Redis = redis.NewClient(opts)
		if err := tracing.InstrumentRedis(a.Redis); err != nil {
			log.Warn("redis tracing", "err", err)
		}
		limiter = ratelimit.NewRedis(a.Redis, namespace+"ratelimit:")
		store = cache.NewRedis(a.Redis, namespace+"cache:", cache.RedisOptions{Logger: log})
	}
	a.Accounts = account.NewService(d, a.Tokens, limiter, account.LoginLimits{
		PerEmailIP: cfg.LoginAttemptsPerEmailIP, PerEmail: cfg.LoginAttemptsPerEmail,
		PerIP: cfg.LoginAttemptsPerIP, Window: cfg.LoginWindow,
	}, log)
	a.ExternalAuth = newExternalAuth(ctx, cfg.ExternalAuth, a.Accounts, log)
	if cfg.Cache == "off" {
		store = cache.Disabled{}
	}
	a.Store = store
	a.Metrics = metrics.New(metrics.Options{})
	if _, shared := store.(*cache.Redis); shared {
		a.Cache = cache.NewWithNear(store, cache.NearOptions{
			MaxEntries: cfg.NearCacheEntries, MaxBytes: int64(cfg.NearCacheMaxBytes), TTL: cfg.NearCacheTTL,
		})
	} else {
		a.Cache = cache.New(store)
	}
	a.Buckets = ratelimit.NewMemoryBuckets()
	if a.Redis != nil {
		a.Buckets = ratelimit.NewRedisBuckets(a.Redis, namespace+"buckets:")
	}
	a.Catalog = catalog.NewService(d, a.Cache, log)
	a.Vendors = vendor.NewService(d, a.Catalog, log)
	a.Carts = cart.NewService(d)
	a.AddressBook = address.NewService(d)
	a.Reviews = review.NewService(d, a.Catalog, log)
	a.Reviews.AutoApprove = cfg.ReviewsAutoApprove
	a.Bus = pubsub.NewBus(a.Redis, namespace+"order-events", log)
	busCtx, stopBus := context.WithCancel(context.WithoutCancel(ctx))
	a.stopBus = stopBus
	go a.Bus.Run(busCtx)
	a.Bell = pubsub.NewBell(a.Redis, namespace+"bell", log)
	go a.Bell.Run(busCtx)
	startRevocations(busCtx, a, log)
	a.Orders = order.NewService(d, a.Bus, a.Catalog, log)
	a.Ledger = vendor.NewLedger(d)
	a.Orders.Ledger = a.Ledger // vendors earn when an order is PAID, give back when it is refunded
	// Every payment and completed refund reaches the sales rollups in its own transaction.
	a.Analytics = analytics.NewService(d, log)
	a.Orders.Sales = a.Analytics
	a.Jobs = &jobs.Queue{}
	stripeGateway := payment.NewStripe(cfg.StripeSecretKey, cfg.StripeAPIBase)
	stripeGateway.Log = log
	var gateway payment.Gateway = stripeGateway
	if opts.Gateway != nil {
		gateway = opts.Gateway
	}
	a.Payments = payment.NewService(d, gateway, a.Orders, cfg.OrderPaymentTTL, log)
	a.Payments.Jobs = a.Jobs
	a.Payments.Observer = a.Metrics
	if cfg.PayPalClientID != "" {
		a.Payments.UsePayPal(payment.NewPayPal(cfg.PayPalAPIBase, cfg.PayPalClientID, cfg.PayPalClientSecret, cfg.PayPalWebhookID))
	}
	var mailer notify.Mailer // nil without SMTP_URL: emails are off
	if cfg.SMTPURL != "" {
		m, err := notify.NewSMTP(cfg.SMTPURL, cfg.MailFrom)
		if err != nil {
			a.stopBus()
			d.Close()
			return nil, err
		}
		mailer = m
	}
	// The templates are parsed and tried now: a broken override stops the start, rather than
	// every email failing later.
	templates, err := notify.LoadTemplates(cfg.EmailTemplatesDir)
	if err != nil {
		a.stopBus()
		d.Close()
		return nil, err
	}
	if len(templates.Overridden) > 0 {
		log.Info("email templates overridden", "dir", cfg.EmailTemplatesDir, "files", templates.Overridden)
	}
	a.Notify = notify.NewService(d, a.Jobs, mailer, log)
	a.Notify.Configure(notify.Options{Templates: templates,
		Rate: notify.RateLimit{Buckets: a.Buckets, PerSecond: cfg.MailRatePerSecond}, StorefrontURL: cfg.StorefrontURL})
	a.Checkout = checkout.NewService(d, a.Orders, a.Payments, log)
	a.Checkout.Observer = a.Metrics
	a.Imports = inventory.NewImportService(d, a.Jobs, a.Catalog, log)
	// Without SMTP_URL no email is owed: the order and checkout paths run as if notify did
	// not exist.
	if a.Notify.Enabled() {
		a.Checkout.Notifier = a.Notify
		a.Orders.Notifier = a.Notify
		a.Vendors.Notifier = a.Notify
		a.Accounts.Emails = a.Notify
		lowStock := lowStockNotices{notify: a.Notify}
		a.Catalog.LowStock, a.Checkout.LowStock, a.Imports.LowStock = lowStock, lowStock, lowStock
	}
	// Webhooks are always on: with no subscription, an event costs its source one statement.
	a.Webhooks = webhook.NewService(d, a.Jobs, log, webhook.Options{
		Timeout: cfg.WebhookTimeout, Guard: webhook.Guard{AllowPrivate: cfg.WebhookAllowPrivateTargets},
	})
	a.Checkout.Webhooks = a.Webhooks
	a.Orders.Webhooks = a.Webhooks
	a.Catalog.Webhooks = a.Webhooks
	a.Imports.Bell = a.Bell
	a.Imports.Hook = webhook.ImportHook{Webhooks: a.Webhooks}
	workers := river.NewWorkers()
	river.AddWorker(workers, &inventory.ImportWorker{Imports: a.Imports})
	river.AddWorker(workers, &payment.ExpireWorker{Payments: a.Payments})
	river.AddWorker(workers, &payment.RefundWorker{Payments: a.Payments})
	river.AddWorker(workers, &payment.SettleRefundWorker{Payments: a.Payments})
	river.AddWorker(workers, &cart.PurgeWorker{Carts: a.Carts, After: cfg.GuestCartTTL})
	river.AddWorker(workers, &analytics.CompactWorker{Analytics: a.Analytics})
	river.AddWorker(workers, &notify.OrderPlacedWorker{Notify: a.Notify})
	river.AddWorker(workers, &notify.OrderStatusWorker{Notify: a.Notify})
	river.AddWorker(workers, &notify.VendorOrderWorker{Notify: a.Notify})
	river.AddWorker(workers, &notify.LowStockWorker{Notify: a.Notify})
	river.AddWorker(workers, &notify.VendorApplicationWorker{Notify: a.Notify})
	river.AddWorker(workers, &notify.AccountEmailWorker{Notify: a.Notify})
	river.AddWorker(workers, &webhook.DeliverWorker{Webhooks: a.Webhooks})
	if err := a.openReplica(ctx, cfg, namespace, tracing.MultiTracer(opts.Tracer, tracing.PgxTracer())); err != nil {
		a.stopBus()
		d.Close()
		return nil, err
	}
	jobsDB, err := postgres.Open(ctx, url, postgres.Options{MaxConns: jobsPoolSize(opts.PollOnly)})
	if err != nil {
		a.closeReplica()
		d.Close()
		return nil, err
	}
	a.JobsDB = jobsDB
	a.Metrics.WatchPool(d.Pool)
	a.Metrics.WatchCache(a.Cache)
	a.Metrics.WatchSubscriptions(a.Bus.Hub)
	if a.Replica != nil {
		a.Metrics.WatchReplica(a.Replica)
	}
	a.Metrics.WatchJobQueue(metrics.PostgresJobCounter(jobsDB.Pool), 0)
	if err := a.Jobs.Start(ctx, jobsDB.Pool, workers, jobs.Options{
		Work: opts.Work, MaxWorkers: 5, Log: log, PollOnly: opts.PollOnly, RescueAfter: opts.RescueJobsAfter,
		EmailWorkers: opts.EmailWorkers, WebhookWorkers: cfg.WebhookWorkers,
		Periodic: []*river.PeriodicJob{jobs.GuestCartPurge(), jobs.AnalyticsCompaction()},
	}); err != nil {
		jobsDB.Close()
		a.closeReplica()
		d.Close()
		return nil, err
	}
	// River's UI is not started (Handler.Start): started, it would count the queue's jobs
	// every ten seconds on every instance, watched or not; unstarted, it counts them when an
	// admin asks.
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(a.Jobs.Client(), nil),
		Logger:    log,
		Prefix:    JobsUIPath,
	})
	if err != nil {
		_ = a.Jobs.Stop(ctx)
		jobsDB.Close()
		a.closeReplica()
		d.Close()
		return nil, fmt.Errorf("job queue UI: %w", err)
	}
	a.JobsUI = ui
	return a, nil
}

// JobsUIPath is where River's web UI of the job queue is served, to admins only.
const JobsUIPath = "/admin/jobs"

// Close stops the job queue and the live-tracking subscription and closes the pools.
func (a *App) Close() {
	a.stopBus()
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Jobs.Stop(stopCtx); err != nil {
		a.Log.Warn("stop job queue", "err", err)
	}
	if a.Redis != nil {
		_ = a.Redis.Close()
	}
	a.JobsDB.Close()
	a.closeReplica()
	a.DB.Close()
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
