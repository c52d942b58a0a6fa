// Package config reads shopgraph's typed configuration from the environment. Every setting has
// a development default so `make run` needs none; APP_ENV=production refuses to start with a
// missing or development secret and names it.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Environments.
const (
	EnvDevelopment = "development"
	EnvTest        = "test"
	EnvProduction  = "production"
)

// DevJWTSecret is the JWT secret used when none is configured outside production. It is public
// (it is in this source file), so production refuses it.
const DevJWTSecret = "shopgraph-dev-jwt-secret-do-not-use-in-production"

// DevStripeWebhookSecret is the webhook signing secret used in development.
const DevStripeWebhookSecret = "whsec_shopgraph_dev"

// DevStripeSecretKey and DevStripeAPIBase point development at a local stripe-mock.
const (
	DevStripeSecretKey = "sk_test_shopgraphdev"
	DevStripeAPIBase   = "http://127.0.0.1:12111"
)

// DevPayPalClientID, DevPayPalClientSecret, DevPayPalWebhookID and DevPayPalAPIBase point
// development at the local PayPal stand-in (cmd/paypal-standin; make run starts one).
const (
	DevPayPalClientID     = "shopgraph-dev"
	DevPayPalClientSecret = "shopgraph-dev-secret"
	DevPayPalWebhookID    = "WH-shopgraph-dev"
	DevPayPalAPIBase      = "http://127.0.0.1:12140"
	// PayPalLiveAPIBase is PayPal's live API, PAYPAL_API_BASE's default when PAYPAL_CLIENT_ID
	// is set; its sandbox is https://api-m.sandbox.paypal.com.
	PayPalLiveAPIBase = "https://api-m.paypal.com"
)

// Config is the whole configuration.
type Config struct {
	AppEnv string
	// ListenHost is the address the HTTP server binds to: loopback outside production, so a
	// development server (which prints its admin password) is not reachable from the network;
	// empty means every interface.
	ListenHost  string
	Port        int
	DatabaseURL string
	// DatabaseReplicaURL, when set, is a streaming replica of DatabaseURL that serves the
	// catalog's reads (postgres.Replica); empty: every read goes to the primary.
	DatabaseReplicaURL string
	// DatabaseReplicaMaxLag is how far behind the primary the replica may fall (measured by a
	// background probe) before the catalog reads from the primary instead.
	DatabaseReplicaMaxLag time.Duration
	RedisURL              string
	// Cache is "on" (Redis when REDIS_URL is set, else in-process) or "off" (measurements).
	Cache string
	// NearCacheEntries, NearCacheMaxBytes and NearCacheTTL bound the near cache that each
	// instance keeps in front of Redis for the catalog's versioned entries (list pages and
	// anonymous responses; cache.NearOptions): defaults 4096 entries, 32 MiB, 5s. 0 entries
	// turns it off. Unused without Redis, where the whole cache is in process.
	NearCacheEntries  int
	NearCacheMaxBytes int
	NearCacheTTL      time.Duration
	// RedisKeyPrefix starts every Redis key, so that several shops (or test runs) can share one Redis.
	RedisKeyPrefix      string
	JWTSecret           string
	StripeSecretKey     string
	StripeWebhookSecret string
	StripeAPIBase       string
	// PayPal, the second provider: on when PayPalClientID is set (in development, the local
	// stand-in's when none is). PayPalWebhookID is the webhook whose deliveries are verified.
	PayPalClientID     string
	PayPalClientSecret string
	PayPalWebhookID    string
	PayPalAPIBase      string
	// OrderPaymentTTL is how long an order may stay unpaid before it is cancelled.
	OrderPaymentTTL time.Duration
	// GuestCartTTL is how long a guest cart may stay unchanged before it is purged.
	GuestCartTTL    time.Duration
	CORSOrigins     []string
	ShutdownTimeout time.Duration
	DBMaxConns      int32
	LogLevel        slog.Level
	// Sign-in attempts allowed per LoginWindow: per (email, client IP) pair, per email and per
	// client IP. The pair's limit stops a guesser; the per-email ceiling is much higher, so that
	// a guesser on one address cannot lock the owner out from another (account.LoginLimits).
	LoginAttemptsPerEmailIP int
	LoginAttemptsPerEmail   int
	LoginAttemptsPerIP      int
	LoginWindow             time.Duration

	// Limits of one GraphQL operation.
	QueryComplexityLimit int
	QueryDepthLimit      int
	QueryFieldLimit      int
	QueryAliasLimit      int
	MaxBodyBytes         int
	// MaxUploadBytes bounds a multipart /graphql request (a file upload: inventoryImport).
	MaxUploadBytes int
	RequestTimeout time.Duration
	// Introspection and Playground default to on outside production, off in it.
	Introspection bool
	Playground    bool
	// Request budgets per minute (token buckets): every request per client IP and per
	// signed-in user; and stricter ones for registration (per IP, per hour) and checkout
	// (per user, per minute). 0 turns a budget off.
	RateLimitPerIP       int
	RateLimitPerUser     int
	RegisterPerIPPerHour int
	CheckoutPerUser      int
	// AdminAddr is the loopback address of the pprof/admin listener; empty turns it off.
	AdminAddr string
	// SMTPURL is the mail server of transactional emails: smtp://[user:pass@]host[:port]
	// (STARTTLS when the server offers it) or smtps://… (TLS); empty sends no email.
	SMTPURL string
	// MailFrom is the From address of every email.
	MailFrom string
	// WebhookTimeout bounds one webhook delivery attempt (WEBHOOK_TIMEOUT, default 5s).
	WebhookTimeout time.Duration
	// WebhookWorkers deliver webhooks at once, on their own queue (WEBHOOK_WORKERS, default 50).
	WebhookWorkers int
	// WebhookAllowPrivateTargets lets webhooks go to private, loopback and link-local
	// addresses (WEBHOOK_ALLOW_PRIVATE_TARGETS, default false: refused, against SSRF); for
	// development and tests only.
	WebhookAllowPrivateTargets bool
	// ReviewsAutoApprove approves new and edited product reviews at once
	// (REVIEWS_AUTO_APPROVE, default false: they wait, PENDING, for an admin's reviewModerate).
	ReviewsAutoApprove bool
	// EmailTemplatesDir is a directory whose files override the embedded email templates, file
	// by file, under the same names (internal/notify.TemplateNames); empty uses the embedded
	// ones. They are parsed and tried at start-up: a broken one stops the start.
	EmailTemplatesDir string
	// StorefrontURL is the storefront the account emails' links open
	// (<StorefrontURL>/account/verify-email?token=…, /account/reset-password?token=…).
	StorefrontURL string
	// MailRatePerSecond bounds the emails sent per second by every instance together (shared
	// through Redis when REDIS_URL is set); sends over it wait. 0 sends as fast as it can.
	MailRatePerSecond int
	// ExternalAuth is social login: its providers and redirect URIs (external_auth.go).
	ExternalAuth ExternalAuth
}

// DefaultMailRatePerSecond is MAIL_RATE_PER_SECOND's default, under what common providers
// allow a new account (Amazon SES's sandbox: 1/s; production accounts: 14/s and more).
const DefaultMailRatePerSecond = 10

// DefaultStorefrontURL is STOREFRONT_URL's default: the example storefront in development.
const DefaultStorefrontURL = "http://localhost:3000"

// DefaultMailFrom is MAIL_FROM's default.
const DefaultMailFrom = "shopgraph <shop@shopgraph.local>"

// IsProduction reports whether APP_ENV is production.
func (c Config) IsProduction() bool { return c.AppEnv == EnvProduction }

// IsDevelopment reports whether APP_ENV is development (cookies without Secure, and so on).
func (c Config) IsDevelopment() bool { return c.AppEnv == EnvDevelopment || c.AppEnv == EnvTest }

// Load reads the configuration through getenv and validates it.
func Load(getenv func(string) string) (Config, error) {
	var errs []error
	str := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	num := func(key string, def int) int {
		v := getenv(key)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("%s must be a non-negative integer, got %q", key, v))
			return def
		}
		return n
	}
	dur := func(key string, def time.Duration) time.Duration {
		v := getenv(key)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s must be a duration such as 10s, got %q", key, v))
			return def
		}
		return d
	}

	c := Config{
		AppEnv:                  strings.ToLower(str("APP_ENV", EnvDevelopment)),
		Port:                    num("PORT", 8080),
		DatabaseURL:             str("DATABASE_URL", ""),
		DatabaseReplicaURL:      str("DATABASE_REPLICA_URL", ""),
		DatabaseReplicaMaxLag:   dur("DATABASE_REPLICA_MAX_LAG", 5*time.Second),
		RedisURL:                str("REDIS_URL", ""),
		RedisKeyPrefix:          str("REDIS_KEY_PREFIX", "shopgraph:"),
		Cache:                   strings.ToLower(str("CACHE", "on")),
		NearCacheEntries:        num("NEAR_CACHE_ENTRIES", 4096),
		NearCacheMaxBytes:       num("NEAR_CACHE_MAX_BYTES", 32<<20),
		NearCacheTTL:            dur("NEAR_CACHE_TTL", 5*time.Second),
		JWTSecret:               str("JWT_SECRET", ""),
		StripeSecretKey:         str("STRIPE_SECRET_KEY", ""),
		StripeWebhookSecret:     str("STRIPE_WEBHOOK_SECRET", ""),
		StripeAPIBase:           str("STRIPE_API_BASE", ""),
		PayPalClientID:          str("PAYPAL_CLIENT_ID", ""),
		PayPalClientSecret:      str("PAYPAL_CLIENT_SECRET", ""),
		PayPalWebhookID:         str("PAYPAL_WEBHOOK_ID", ""),
		PayPalAPIBase:           str("PAYPAL_API_BASE", ""),
		OrderPaymentTTL:         dur("ORDER_PAYMENT_TTL", 30*time.Minute),
		GuestCartTTL:            dur("GUEST_CART_TTL", 30*24*time.Hour),
		ShutdownTimeout:         dur("SHUTDOWN_TIMEOUT", 15*time.Second),
		DBMaxConns:              int32(num("DB_MAX_CONNS", 20)),
		LoginAttemptsPerEmailIP: num("LOGIN_ATTEMPTS_PER_EMAIL_IP", 10),
		LoginAttemptsPerEmail:   num("LOGIN_ATTEMPTS_PER_EMAIL", 100),
		LoginAttemptsPerIP:      num("LOGIN_ATTEMPTS_PER_IP", 100),
		LoginWindow:             dur("LOGIN_WINDOW", 15*time.Minute),
		QueryComplexityLimit:    num("QUERY_COMPLEXITY_LIMIT", 5000),
		QueryDepthLimit:         num("QUERY_DEPTH_LIMIT", 12),
		QueryFieldLimit:         num("QUERY_FIELD_LIMIT", 500),
		QueryAliasLimit:         num("QUERY_ALIAS_LIMIT", 50),
		MaxBodyBytes:            num("MAX_BODY_BYTES", 1<<20),
		MaxUploadBytes:          num("MAX_UPLOAD_BYTES", 10<<20),
		RequestTimeout:          dur("REQUEST_TIMEOUT", 10*time.Second),
		RateLimitPerIP:          num("RATE_LIMIT_PER_IP", 1200),
		RateLimitPerUser:        num("RATE_LIMIT_PER_USER", 1200),
		RegisterPerIPPerHour:    num("REGISTER_PER_IP_PER_HOUR", 20),
		CheckoutPerUser:         num("CHECKOUT_PER_USER", 30),
		SMTPURL:                 str("SMTP_URL", ""),
		MailFrom:                str("MAIL_FROM", DefaultMailFrom),
		WebhookTimeout:          dur("WEBHOOK_TIMEOUT", 5*time.Second),
		WebhookWorkers:          num("WEBHOOK_WORKERS", 50),
		EmailTemplatesDir:       str("EMAIL_TEMPLATES_DIR", ""),
		StorefrontURL:           str("STOREFRONT_URL", DefaultStorefrontURL),
		MailRatePerSecond:       num("MAIL_RATE_PER_SECOND", DefaultMailRatePerSecond),
	}
	boolean := func(key string, def bool) bool {
		switch strings.ToLower(strings.TrimSpace(getenv(key))) {
		case "":
			return def
		case "1", "true", "yes", "on":
			return true
		case "0", "false", "no", "off":
			return false
		}
		errs = append(errs, fmt.Errorf("%s must be true or false, got %q", key, getenv(key)))
		return def
	}
	for _, o := range strings.Split(getenv("CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(str("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %w", err))
	}
	switch c.AppEnv {
	case EnvDevelopment, EnvTest, EnvProduction:
	default:
		errs = append(errs, fmt.Errorf("APP_ENV must be development, test or production, got %q", c.AppEnv))
	}
	if c.GuestCartTTL == 0 { // 0 would purge every guest cart, however fresh
		errs = append(errs, errors.New("GUEST_CART_TTL must be a positive duration such as 720h"))
	}
	if c.DatabaseReplicaMaxLag <= 0 {
		errs = append(errs, errors.New("DATABASE_REPLICA_MAX_LAG must be a positive duration such as 5s"))
	}
	c.Introspection = boolean("INTROSPECTION", c.AppEnv != EnvProduction)
	c.Playground = boolean("PLAYGROUND", c.AppEnv != EnvProduction)
	c.WebhookAllowPrivateTargets = boolean("WEBHOOK_ALLOW_PRIVATE_TARGETS", false)
	c.ReviewsAutoApprove = boolean("REVIEWS_AUTO_APPROVE", false)
	if c.WebhookTimeout == 0 || c.WebhookTimeout > time.Minute {
		errs = append(errs, fmt.Errorf("WEBHOOK_TIMEOUT must be between 1ms and 1m, got %s", c.WebhookTimeout))
	}
	c.ListenHost = str("LISTEN_HOST", "")
	if c.ListenHost == "" && c.AppEnv != EnvProduction {
		c.ListenHost = "127.0.0.1"
	}
	if c.ListenHost != "" && !validHost(c.ListenHost) {
		errs = append(errs, fmt.Errorf("LISTEN_HOST must be an IP address or a host name such as 127.0.0.1, 0.0.0.0 or ::, got %q", c.ListenHost))
	}
	c.AdminAddr = str("ADMIN_ADDR", "")
	if c.AdminAddr == "" && c.AppEnv == EnvDevelopment {
		c.AdminAddr = "127.0.0.1:6060"
	}
	if c.NearCacheTTL <= 0 && c.NearCacheEntries > 0 {
		errs = append(errs, errors.New("NEAR_CACHE_TTL must be a positive duration such as 5s (NEAR_CACHE_ENTRIES=0 turns the near cache off)"))
	}
	if c.Cache != "on" && c.Cache != "off" {
		errs = append(errs, fmt.Errorf("CACHE must be on or off, got %q", c.Cache))
	}
	if c.SMTPURL != "" {
		u, err := url.Parse(c.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			errs = append(errs, errors.New("SMTP_URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465"))
		}
	}
	if u, err := url.Parse(c.StorefrontURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("STOREFRONT_URL must be an http(s) URL such as %s, got %q", DefaultStorefrontURL, c.StorefrontURL))
	}
	if _, err := mail.ParseAddress(c.MailFrom); err != nil {
		errs = append(errs, fmt.Errorf("MAIL_FROM must be an address such as %q, got %q", DefaultMailFrom, c.MailFrom))
	}
	if c.Port > 65535 {
		errs = append(errs, fmt.Errorf("PORT must be 0-65535, got %d", c.Port))
	}
	for _, o := range c.CORSOrigins {
		// An origin is exactly scheme://host[:port]: browsers send it that way, and the CORS
		// check compares it verbatim, so anything more could never match.
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#") {
			errs = append(errs, fmt.Errorf("CORS_ORIGINS: %q is not an origin like https://shop.example.com (no path, no trailing slash)", o))
		}
	}

	externalAuth, externalAuthErrs := loadExternalAuth(getenv, c.IsProduction())
	c.ExternalAuth, errs = externalAuth, append(errs, externalAuthErrs...)

	if c.IsProduction() {
		errs = append(errs, c.productionSecretErrors()...)
	} else {
		if c.JWTSecret == "" {
			c.JWTSecret = DevJWTSecret
		}
		if c.StripeWebhookSecret == "" {
			c.StripeWebhookSecret = DevStripeWebhookSecret
		}
		if c.StripeSecretKey == "" {
			// Without a key, development talks to a local stripe-mock (make run starts one).
			c.StripeSecretKey = DevStripeSecretKey
			if c.StripeAPIBase == "" {
				c.StripeAPIBase = DevStripeAPIBase
			}
		}
		if c.PayPalClientID == "" {
			// Without credentials, development talks to the local PayPal stand-in.
			c.PayPalClientID, c.PayPalClientSecret, c.PayPalWebhookID = DevPayPalClientID, DevPayPalClientSecret, DevPayPalWebhookID
			if c.PayPalAPIBase == "" {
				c.PayPalAPIBase = DevPayPalAPIBase
			}
		}
	}
	if c.PayPalClientID != "" {
		if c.PayPalAPIBase == "" {
			c.PayPalAPIBase = PayPalLiveAPIBase
		}
		if c.PayPalClientSecret == "" {
			errs = append(errs, errors.New("PAYPAL_CLIENT_SECRET is required with PAYPAL_CLIENT_ID"))
		}
		if c.PayPalWebhookID == "" {
			errs = append(errs, errors.New("PAYPAL_WEBHOOK_ID is required with PAYPAL_CLIENT_ID: without it no PayPal webhook can be verified"))
		}
		if u, err := url.Parse(c.PayPalAPIBase); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, errors.New("PAYPAL_API_BASE must be an http(s) URL"))
		} else if c.IsProduction() && u.Scheme != "https" {
			errs = append(errs, errors.New("PAYPAL_API_BASE must be https in production"))
		}
	}
	return c, errors.Join(errs...)
}

// productionSecretErrors names every secret that is missing, too weak or a development default.
func (c Config) productionSecretErrors() []error {
	var errs []error
	switch {
	case c.JWTSecret == "":
		errs = append(errs, errors.New("JWT_SECRET is required in production"))
	case c.JWTSecret == DevJWTSecret:
		errs = append(errs, errors.New("JWT_SECRET is the development default; set a random secret"))
	case len(c.JWTSecret) < 32:
		errs = append(errs, errors.New("JWT_SECRET must be at least 32 characters in production"))
	}
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required in production"))
	}
	switch {
	case c.StripeSecretKey == "":
		errs = append(errs, errors.New("STRIPE_SECRET_KEY is required in production"))
	case !strings.HasPrefix(c.StripeSecretKey, "sk_") && !strings.HasPrefix(c.StripeSecretKey, "rk_"):
		errs = append(errs, errors.New("STRIPE_SECRET_KEY must be a Stripe secret key (sk_… or rk_…)"))
	}
	switch {
	case c.StripeWebhookSecret == "":
		errs = append(errs, errors.New("STRIPE_WEBHOOK_SECRET is required in production"))
	case c.StripeWebhookSecret == DevStripeWebhookSecret:
		errs = append(errs, errors.New("STRIPE_WEBHOOK_SECRET is the development default"))
	}
	return errs
}

// validHost reports whether h is an IP address or a DNS host name (no port, no brackets).
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

// LogValue masks secrets when the configuration is logged.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("app_env", c.AppEnv),
		slog.String("listen_host", c.ListenHost),
		slog.Int("port", c.Port),
		slog.String("database_url", maskURL(c.DatabaseURL)),
		slog.String("database_replica_url", maskURL(c.DatabaseReplicaURL)),
		slog.Duration("database_replica_max_lag", c.DatabaseReplicaMaxLag),
		slog.String("redis_url", maskURL(c.RedisURL)),
		slog.Bool("jwt_secret_set", c.JWTSecret != "" && c.JWTSecret != DevJWTSecret),
		slog.Bool("stripe_secret_key_set", c.StripeSecretKey != "" && c.StripeSecretKey != DevStripeSecretKey),
		slog.String("stripe_api_base", c.StripeAPIBase),
		slog.Bool("paypal_client_secret_set", c.PayPalClientSecret != "" && c.PayPalClientSecret != DevPayPalClientSecret),
		slog.String("paypal_api_base", c.PayPalAPIBase),
		slog.Any("cors_origins", c.CORSOrigins),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.String("smtp_url", maskURL(c.SMTPURL)),
		slog.String("mail_from", c.MailFrom),
		slog.Duration("webhook_timeout", c.WebhookTimeout),
		slog.Bool("webhook_allow_private_targets", c.WebhookAllowPrivateTargets),
		slog.Bool("reviews_auto_approve", c.ReviewsAutoApprove),
		slog.String("email_templates_dir", c.EmailTemplatesDir),
		slog.String("storefront_url", c.StorefrontURL),
		slog.Int("mail_rate_per_second", c.MailRatePerSecond),
		slog.Any("external_auth", c.ExternalAuth),
	)
}

// maskURL hides passwords in a connection string, whichever form pgx or go-redis accept:
// URL user info, password query parameters, or keyword/value pairs. What it cannot parse it
// does not log at all.
func maskURL(raw string) string {
	if raw == "" {
		return ""
	}
	if !strings.Contains(raw, "://") {
		fields := strings.Fields(raw)
		for i, f := range fields {
			if k, _, ok := strings.Cut(f, "="); ok && strings.Contains(strings.ToLower(k), "password") {
				fields[i] = k + "=xxxxx"
			}
		}
		return strings.Join(fields, " ")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable>"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
