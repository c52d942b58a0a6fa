// This file is Run, the dispatcher of the subcommands, and the one-shot commands (migrate,
// admin create, seed, stripe-event, paypal-event). Their help texts are in help.go.

package app

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
	"strconv"
	"strings"
	"time"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/seed"
	"github.com/shopgraph/shopgraph/internal/tracing"
)

// Run is main without globals, so that tests can drive it: args are the command line without
// the program name, getenv reads the environment.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
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
		a, err := Open(ctx, cfg, log, Options{Migrate: true})
		if err != nil {
			return err
		}
		defer a.Close()
		log.Info("migrations applied")
		return nil
	case "admin":
		return adminCommand(ctx, cfg, log, args, getenv, stdin, stdout)
	case "seed":
		return seedCommand(ctx, cfg, log, args, stdout)
	case "stripe-event":
		return stripeEventCommand(ctx, cfg, log, args, stdout)
	case "paypal-event":
		return paypalEventCommand(ctx, cfg, log, args, stdout)
	}
	return fmt.Errorf("unknown command %q; `shopgraph help` lists the commands", cmd)
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
	a, err := Open(ctx, cfg, log, Options{Migrate: !cfg.IsProduction()})
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Accounts.EnsureAdmin(ctx, *email, password)
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
	a, err := Open(ctx, cfg, log, Options{Migrate: !cfg.IsProduction()})
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	if err := seed.Catalog(ctx, a.Accounts, a.Vendors, a.Catalog, *n); err != nil {
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
	a, err := Open(ctx, cfg, log, Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := a.Payments.ForOrder(ctx, orderID)
	if err != nil {
		return fmt.Errorf("order %d has no payment intent yet (check out first): %w", orderID, err)
	}
	spec := p.StripeEvent(typ)
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
func stripeWebhookURL(cfg config.Config) string { return webhookURL(cfg, "/webhooks/stripe") }

// webhookURL is path on the server that cfg describes (stripe-event's and paypal-event's
// default --url).
func webhookURL(cfg config.Config, path string) string {
	return "http://" + net.JoinHostPort(browseHost(cfg.ListenHost), strconv.Itoa(cfg.Port)) + path
}

// eventArgs are the flags of stripe-event and paypal-event.
type eventArgs struct {
	order, url *string
	amount     *int64
}

// eventFlags are a webhook-event command's flags: name's, posting to path, amountHelp saying
// what --amount means for its events.
func eventFlags(name, path, amountHelp string) (*flag.FlagSet, eventArgs) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return fs, eventArgs{
		order:  fs.String("order", "", "the order: its global ID or its number (required)"),
		url:    fs.String("url", "", "the webhook URL (default http://$LISTEN_HOST:$PORT"+path+", localhost when LISTEN_HOST is every interface)"),
		amount: fs.Int64("amount", 0, amountHelp),
	}
}

func stripeEventFlags() (*flag.FlagSet, eventArgs) {
	return eventFlags("stripe-event", "/webhooks/stripe", "amount (default: the order total; for charge.refunded, the amount refunded)")
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
