package config_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/config"
)

// env returns a getenv that reads only vars, so the test process's environment never leaks in.
func env(vars map[string]string) func(string) string {
	return func(key string) string { return vars[key] }
}

// with returns a copy of base with the changes applied; an empty value removes the variable.
func with(base map[string]string, changes map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(changes))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range changes {
		if v == "" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

const (
	prodJWTSecret     = "prod-jwt-secret-0123456789abcdefghijklmnop"
	prodStripeKey     = "sk_live_51NotARealKeyButLongEnough"
	prodWebhookSecret = "whsec_prod_0123456789"
	prodDBPassword    = "db-pa55word"
)

// validProduction is a complete production environment; cases break one piece of it.
var validProduction = map[string]string{
	"APP_ENV":               "production",
	"DATABASE_URL":          "postgres://shop:" + prodDBPassword + "@db.internal:5432/shop?sslmode=require",
	"JWT_SECRET":            prodJWTSecret,
	"STRIPE_SECRET_KEY":     prodStripeKey,
	"STRIPE_WEBHOOK_SECRET": prodWebhookSecret,
}

func TestLoadDevelopmentDefaults(t *testing.T) {
	t.Parallel()

	for _, appEnv := range []string{"", "development", "test", "TEST"} {
		t.Run("APP_ENV="+appEnv+" gets the development defaults", func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(map[string]string{"APP_ENV": appEnv}))
			require.NoError(t, err)
			require.True(t, c.IsDevelopment())
			require.False(t, c.IsProduction())
			require.Equal(t, config.DevJWTSecret, c.JWTSecret)
			require.Equal(t, config.DevStripeWebhookSecret, c.StripeWebhookSecret)
			require.Equal(t, 8080, c.Port)
			require.Equal(t, 15*time.Second, c.ShutdownTimeout)
			require.Equal(t, 30*24*time.Hour, c.GuestCartTTL)
			require.Equal(t, slog.LevelInfo, c.LogLevel)
			require.Empty(t, c.DatabaseURL)
			require.Empty(t, c.DatabaseReplicaURL, "no replica: every read goes to the primary")
			require.Equal(t, 5*time.Second, c.DatabaseReplicaMaxLag)
			require.Empty(t, c.RedisURL)
			require.Empty(t, c.CORSOrigins)
			require.Empty(t, c.SMTPURL, "no SMTP_URL: no email is sent")
			require.Equal(t, "shopgraph <shop@shopgraph.local>", c.MailFrom)
			require.Equal(t, 5*time.Second, c.WebhookTimeout)
			require.Equal(t, 50, c.WebhookWorkers)
			require.Equal(t, 4096, c.NearCacheEntries, "the near cache in front of Redis")
			require.Equal(t, 32<<20, c.NearCacheMaxBytes)
			require.Equal(t, 5*time.Second, c.NearCacheTTL)
			require.False(t, c.WebhookAllowPrivateTargets, "internal webhook targets are refused unless allowed")
			require.Empty(t, c.EmailTemplatesDir, "the embedded templates")
			require.Equal(t, 10, c.MailRatePerSecond)
		})
	}

	t.Run("empty APP_ENV means development", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(nil))
		require.NoError(t, err)
		require.Equal(t, config.EnvDevelopment, c.AppEnv)
	})

	t.Run("configured secrets win over the development defaults", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(map[string]string{
			"JWT_SECRET":            "short-is-fine-in-dev",
			"STRIPE_WEBHOOK_SECRET": "whsec_mine",
		}))
		require.NoError(t, err)
		require.Equal(t, "short-is-fine-in-dev", c.JWTSecret)
		require.Equal(t, "whsec_mine", c.StripeWebhookSecret)
	})

	t.Run("sign-in limits: per email and IP first, a much higher ceiling per email", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(nil))
		require.NoError(t, err)
		require.Equal(t, 10, c.LoginAttemptsPerEmailIP)
		require.Equal(t, 100, c.LoginAttemptsPerEmail)
		require.Equal(t, 100, c.LoginAttemptsPerIP)
		require.Equal(t, 15*time.Minute, c.LoginWindow)
		c, err = config.Load(env(map[string]string{"LOGIN_ATTEMPTS_PER_EMAIL_IP": "3", "LOGIN_ATTEMPTS_PER_EMAIL": "30"}))
		require.NoError(t, err)
		require.Equal(t, 3, c.LoginAttemptsPerEmailIP)
		require.Equal(t, 30, c.LoginAttemptsPerEmail)
	})

	t.Run("settings are read and trimmed", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(map[string]string{
			"PORT":                     "9090",
			"DATABASE_URL":             "  postgres://localhost/shop  ",
			"DATABASE_REPLICA_URL":     "postgres://replica/shop",
			"DATABASE_REPLICA_MAX_LAG": "2s",
			"SHUTDOWN_TIMEOUT":         "3s",
			"LOG_LEVEL":                "debug",
			"CORS_ORIGINS":             " https://shop.example.com , ,http://localhost:5173",
		}))
		require.NoError(t, err)
		require.Equal(t, 9090, c.Port)
		require.Equal(t, "postgres://localhost/shop", c.DatabaseURL)
		require.Equal(t, "postgres://replica/shop", c.DatabaseReplicaURL)
		require.Equal(t, 2*time.Second, c.DatabaseReplicaMaxLag)
		require.Equal(t, 3*time.Second, c.ShutdownTimeout)
		require.Equal(t, slog.LevelDebug, c.LogLevel)
		require.Equal(t, []string{"https://shop.example.com", "http://localhost:5173"}, c.CORSOrigins)
	})
}

func TestLoadListenHost(t *testing.T) {
	t.Parallel()

	// A development server prints its admin password: only this machine may reach it.
	for _, appEnv := range []string{"", "development", "test"} {
		t.Run("APP_ENV="+appEnv+" listens on loopback by default", func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(map[string]string{"APP_ENV": appEnv}))
			require.NoError(t, err)
			require.Equal(t, "127.0.0.1", c.ListenHost)
		})
	}

	t.Run("production listens on every interface by default", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(validProduction))
		require.NoError(t, err)
		require.Empty(t, c.ListenHost)
	})

	for _, host := range []string{"0.0.0.0", "::", "::1", "10.1.2.3", "localhost", "api.internal.example.com"} {
		t.Run("LISTEN_HOST="+host+" is used as given", func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(map[string]string{"LISTEN_HOST": host}))
			require.NoError(t, err)
			require.Equal(t, host, c.ListenHost)
			c, err = config.Load(env(with(validProduction, map[string]string{"LISTEN_HOST": host})))
			require.NoError(t, err)
			require.Equal(t, host, c.ListenHost)
		})
	}
}

func TestLoadProduction(t *testing.T) {
	t.Parallel()

	t.Run("a complete production configuration loads", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(validProduction))
		require.NoError(t, err)
		require.True(t, c.IsProduction())
		require.False(t, c.IsDevelopment())
		require.Equal(t, prodJWTSecret, c.JWTSecret)
		require.Equal(t, prodStripeKey, c.StripeSecretKey)
		require.Equal(t, prodWebhookSecret, c.StripeWebhookSecret)
	})

	t.Run("a restricted Stripe key is accepted", func(t *testing.T) {
		t.Parallel()
		_, err := config.Load(env(with(validProduction, map[string]string{"STRIPE_SECRET_KEY": "rk_live_restricted"})))
		require.NoError(t, err)
	})

	t.Run("APP_ENV is case-insensitive", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(with(validProduction, map[string]string{"APP_ENV": "Production"})))
		require.NoError(t, err)
		require.True(t, c.IsProduction())
	})

	tests := []struct {
		name    string
		changes map[string]string
		// wantVars must all be named in the error; every other secret variable must not be.
		wantVars []string
	}{
		{"refuses a missing JWT_SECRET", map[string]string{"JWT_SECRET": ""}, []string{"JWT_SECRET"}},
		{"refuses the development JWT secret", map[string]string{"JWT_SECRET": config.DevJWTSecret}, []string{"JWT_SECRET"}},
		{"refuses a short JWT secret", map[string]string{"JWT_SECRET": "0123456789abcdefghijklmnopqrstu"}, []string{"JWT_SECRET"}}, // 31 chars
		{"refuses a missing DATABASE_URL", map[string]string{"DATABASE_URL": ""}, []string{"DATABASE_URL"}},
		{"refuses a missing STRIPE_SECRET_KEY", map[string]string{"STRIPE_SECRET_KEY": ""}, []string{"STRIPE_SECRET_KEY"}},
		{"refuses a publishable key as STRIPE_SECRET_KEY", map[string]string{"STRIPE_SECRET_KEY": "pk_live_publishable"}, []string{"STRIPE_SECRET_KEY"}},
		{"refuses a missing STRIPE_WEBHOOK_SECRET", map[string]string{"STRIPE_WEBHOOK_SECRET": ""}, []string{"STRIPE_WEBHOOK_SECRET"}},
		{"refuses the development webhook secret", map[string]string{"STRIPE_WEBHOOK_SECRET": config.DevStripeWebhookSecret}, []string{"STRIPE_WEBHOOK_SECRET"}},
		{
			"names every bad variable at once",
			map[string]string{"JWT_SECRET": "short", "DATABASE_URL": "", "STRIPE_SECRET_KEY": "nope", "STRIPE_WEBHOOK_SECRET": ""},
			[]string{"JWT_SECRET", "DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"},
		},
		{
			"names every missing secret when only APP_ENV is set",
			map[string]string{"DATABASE_URL": "", "JWT_SECRET": "", "STRIPE_SECRET_KEY": "", "STRIPE_WEBHOOK_SECRET": ""},
			[]string{"JWT_SECRET", "DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"},
		},
	}
	secretVars := []string{"JWT_SECRET", "DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vars := with(validProduction, tt.changes)
			_, err := config.Load(env(vars))
			require.Error(t, err)
			msg := err.Error()
			for _, v := range secretVars {
				if contains(tt.wantVars, v) {
					require.Contains(t, msg, v)
				} else {
					require.NotContains(t, msg, v, "only the bad variables are named")
				}
			}
			// The message names the variable, never echoes the rejected secret.
			for _, k := range []string{"JWT_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"} {
				if v := vars[k]; len(v) > 3 {
					require.NotContains(t, msg, v)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestLoadRejectsBadValues(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		key     string
		value   string
		wantMsg string
	}{
		{"non-numeric PORT", "PORT", "http", "PORT"},
		{"SMTP_URL of another scheme", "SMTP_URL", "http://mail.example.com", "SMTP_URL"},
		{"SMTP_URL without a host", "SMTP_URL", "smtp://", "SMTP_URL"},
		{"MAIL_FROM not an address", "MAIL_FROM", "shop at example", "MAIL_FROM"},
		{"zero WEBHOOK_TIMEOUT", "WEBHOOK_TIMEOUT", "0s", "WEBHOOK_TIMEOUT"},
		{"WEBHOOK_TIMEOUT above a minute", "WEBHOOK_TIMEOUT", "2m", "WEBHOOK_TIMEOUT"},
		{"WEBHOOK_ALLOW_PRIVATE_TARGETS not a boolean", "WEBHOOK_ALLOW_PRIVATE_TARGETS", "sometimes", "WEBHOOK_ALLOW_PRIVATE_TARGETS"},
		{"negative PORT", "PORT", "-1", "PORT"},
		{"zero NEAR_CACHE_TTL", "NEAR_CACHE_TTL", "0s", "NEAR_CACHE_TTL"},
		{"negative NEAR_CACHE_ENTRIES", "NEAR_CACHE_ENTRIES", "-1", "NEAR_CACHE_ENTRIES"},
		{"non-numeric NEAR_CACHE_MAX_BYTES", "NEAR_CACHE_MAX_BYTES", "32MB", "NEAR_CACHE_MAX_BYTES"},
		{"PORT above 65535", "PORT", "65536", "PORT"},
		{"unparseable SHUTDOWN_TIMEOUT", "SHUTDOWN_TIMEOUT", "15", "SHUTDOWN_TIMEOUT"},
		{"negative SHUTDOWN_TIMEOUT", "SHUTDOWN_TIMEOUT", "-5s", "SHUTDOWN_TIMEOUT"},
		{"unparseable LOGIN_WINDOW", "LOGIN_WINDOW", "a while", "LOGIN_WINDOW"},
		{"non-numeric DB_MAX_CONNS", "DB_MAX_CONNS", "many", "DB_MAX_CONNS"},
		{"non-numeric LOGIN_ATTEMPTS_PER_IP", "LOGIN_ATTEMPTS_PER_IP", "1e3", "LOGIN_ATTEMPTS_PER_IP"},
		{"non-numeric LOGIN_ATTEMPTS_PER_EMAIL_IP", "LOGIN_ATTEMPTS_PER_EMAIL_IP", "ten", "LOGIN_ATTEMPTS_PER_EMAIL_IP"},
		{"negative MAIL_RATE_PER_SECOND", "MAIL_RATE_PER_SECOND", "-1", "MAIL_RATE_PER_SECOND"},
		{"non-numeric MAIL_RATE_PER_SECOND", "MAIL_RATE_PER_SECOND", "fast", "MAIL_RATE_PER_SECOND"},
		{"unknown APP_ENV", "APP_ENV", "staging", "APP_ENV"},
		{"unknown LOG_LEVEL", "LOG_LEVEL", "loud", "LOG_LEVEL"},
		{"CORS origin without a scheme", "CORS_ORIGINS", "shop.example.com", "CORS_ORIGINS"},
		{"CORS wildcard", "CORS_ORIGINS", "https://ok.example.com,*", "CORS_ORIGINS"},
		{"CORS origin without a host", "CORS_ORIGINS", "https://", "CORS_ORIGINS"},
		{"scheme-relative CORS origin", "CORS_ORIGINS", "//shop.example.com", "CORS_ORIGINS"},
		{"LISTEN_HOST with a port", "LISTEN_HOST", "127.0.0.1:8080", "LISTEN_HOST"},
		{"LISTEN_HOST as a URL", "LISTEN_HOST", "http://localhost", "LISTEN_HOST"},
		{"bracketed LISTEN_HOST", "LISTEN_HOST", "[::1]", "LISTEN_HOST"},
		{"zero GUEST_CART_TTL", "GUEST_CART_TTL", "0s", "GUEST_CART_TTL"},
		{"negative GUEST_CART_TTL", "GUEST_CART_TTL", "-1h", "GUEST_CART_TTL"},
	}
	for _, tt := range tests {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(env(map[string]string{tt.key: tt.value}))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.wantMsg)
		})
		t.Run("rejects "+tt.name+" in production too", func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(env(with(validProduction, map[string]string{tt.key: tt.value})))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.wantMsg)
		})
	}

	t.Run("names every bad setting at once", func(t *testing.T) {
		t.Parallel()
		_, err := config.Load(env(map[string]string{"PORT": "x", "SHUTDOWN_TIMEOUT": "y", "APP_ENV": "z", "CORS_ORIGINS": "w"}))
		require.Error(t, err)
		for _, v := range []string{"PORT", "SHUTDOWN_TIMEOUT", "APP_ENV", "CORS_ORIGINS"} {
			require.Contains(t, err.Error(), v)
		}
	})

	t.Run("accepts PORT 0 for an ephemeral port", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(map[string]string{"PORT": "0"}))
		require.NoError(t, err)
		require.Equal(t, 0, c.Port)
	})
}

// logConfig logs c the way the server does and returns the JSON line.
func logConfig(t *testing.T, c config.Config) string {
	t.Helper()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	require.True(t, json.Valid(buf.Bytes()), "log line is JSON: %s", buf.String())
	return buf.String()
}

func TestLogValueMasksSecrets(t *testing.T) {
	t.Parallel()

	t.Run("production secrets never reach the log", func(t *testing.T) {
		t.Parallel()
		const redisPassword = "redis-pa55word"
		c, err := config.Load(env(with(validProduction, map[string]string{
			"REDIS_URL": "redis://default:" + redisPassword + "@cache.internal:6379/0",
		})))
		require.NoError(t, err)
		line := logConfig(t, c)
		for _, secret := range []string{prodJWTSecret, prodStripeKey, prodWebhookSecret, prodDBPassword, redisPassword} {
			require.NotContains(t, line, secret)
		}

		var entry struct {
			Config map[string]any `json:"config"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &entry))
		// The log stays useful: where it connects and whether the secrets are set.
		require.Equal(t, "production", entry.Config["app_env"])
		require.Contains(t, entry.Config["database_url"], "db.internal:5432")
		require.Contains(t, entry.Config["database_url"], "shop:")
		require.Contains(t, entry.Config["redis_url"], "cache.internal:6379")
		require.Equal(t, true, entry.Config["jwt_secret_set"])
		require.Equal(t, true, entry.Config["stripe_secret_key_set"])
	})

	t.Run("the development JWT secret is not logged either", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(map[string]string{"STRIPE_SECRET_KEY": "sk_test_devkey123"}))
		require.NoError(t, err)
		line := logConfig(t, c)
		require.NotContains(t, line, config.DevJWTSecret)
		require.NotContains(t, line, "sk_test_devkey123")
		require.Contains(t, line, `"jwt_secret_set":false`)
	})

	t.Run("the SMTP password is masked", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(map[string]string{"SMTP_URL": "smtps://mailer:smtp-pa55word@mail.example.com:465"}))
		require.NoError(t, err)
		line := logConfig(t, c)
		require.NotContains(t, line, "smtp-pa55word")
		require.Contains(t, line, "mail.example.com:465")
	})

	t.Run("a password with URL-escaped characters is masked", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(map[string]string{"DATABASE_URL": "postgres://shop:p%40ss%2Fw0rd@db:5432/shop"}))
		require.NoError(t, err)
		line := logConfig(t, c)
		require.NotContains(t, line, "p%40ss%2Fw0rd")
		require.NotContains(t, line, "p@ss/w0rd")
		require.NotContains(t, line, "w0rd")
	})
}

func TestLogValueMasksEveryPasswordForm(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"host=db user=shop password=SECRETX dbname=shop",
		"postgres://db/shop?user=shop&password=SECRETX",
		"postgres://shop:SEC%zzRETX@db/shop",
		"postgres://shop:SECRETX@db/shop?sslpassword=SECRETX",
	} {
		logged := logDSN(t, dsn)
		require.NotContains(t, logged, "RETX", dsn)
	}
	require.Contains(t, logDSN(t, "host=db user=shop password=SECRETX"), "host=db")
}

func TestCORSOriginsMustBeBareOrigins(t *testing.T) {
	t.Parallel()
	for _, o := range []string{"https://shop.example.com/", "https://a.example.com/path?x=1", "https://u:p@a.example.com", "ftp://a.example.com"} {
		_, err := config.Load(func(k string) string {
			if k == "CORS_ORIGINS" {
				return o
			}
			return ""
		})
		require.ErrorContains(t, err, "CORS_ORIGINS", o)
	}
	_, err := config.Load(func(k string) string {
		if k == "CORS_ORIGINS" {
			return "https://shop.example.com, http://localhost:3000"
		}
		return ""
	})
	require.NoError(t, err)
}

// logDSN logs a development config with DATABASE_URL=dsn through slog's JSON handler.
func logDSN(t *testing.T, dsn string) string {
	t.Helper()
	cfg, err := config.Load(func(k string) string {
		if k == "DATABASE_URL" {
			return dsn
		}
		return ""
	})
	require.NoError(t, err)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", cfg)
	return buf.String()
}
