package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/payment"
)

// paypalEventCommand is `shopgraph paypal-event TYPE --order ID`: it plays PayPal's webhooks
// about an order's PayPal payment, signed as the local stand-in signs them, so that a server
// verifying through the stand-in (make run) accepts them. Real PayPal signs with its own
// certificate: against it, the server refuses these (400), as it should.
func paypalEventCommand(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	usage := "usage: shopgraph paypal-event TYPE --order ORDER_ID [--url URL] [--amount N]\n  TYPE: " + strings.Join(payment.PayPalEventTypes, ", ")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New(usage)
	}
	typ := args[0]
	fs, f := paypalEventFlags()
	fs.SetOutput(stdout)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *f.url == "" {
		*f.url = webhookURL(cfg, "/webhooks/paypal")
	}
	orderID, err := parseOrderArg(*f.order)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, usage)
	}
	a, err := Open(ctx, cfg, log, Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := a.Payments.ForOrder(ctx, orderID)
	if err != nil || p.Provider != payment.ProviderPayPal {
		return fmt.Errorf("order %d has no PayPal payment (check out with paymentProvider: PAYPAL first)", orderID)
	}
	spec := payment.PayPalEventSpec{Type: typ, OrderID: p.IntentID, Amount: p.Amount.Amount, Currency: p.Amount.Currency}
	if p.CaptureID != nil {
		spec.CaptureID = *p.CaptureID
	}
	if *f.amount > 0 {
		spec.Amount = *f.amount
		if typ == payment.PayPalCaptureRefunded || typ == payment.PayPalCaptureReversed {
			spec.RefundedTotal = *f.amount
		}
	}
	body, err := payment.BuildPayPalEvent(spec)
	if err != nil {
		return err
	}
	status, answer, err := payment.SendPayPalEvent(ctx, *f.url, payment.PayPalDevSigningKey, cfg.PayPalWebhookID, body)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s for order %d (PayPal order %s): HTTP %d %s\n", typ, orderID, p.IntentID, status, answer)
	if status != http.StatusOK {
		return fmt.Errorf("webhook answered %d", status)
	}
	return nil
}

func paypalEventFlags() (*flag.FlagSet, eventArgs) {
	return eventFlags("paypal-event", "/webhooks/paypal", "amount (default: the order total; for refund events, the refunded total to date)")
}
