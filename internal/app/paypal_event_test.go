package app_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/app"
	"github.com/shopgraph/shopgraph/internal/payment/paypaltest"
)

// paypal-event plays PayPal's webhook to a running server, signed as the stand-in signs, and
// the server (verifying through the stand-in) applies it: the capture's completion pays the order.
func TestPayPalEventCommand(t *testing.T) {
	t.Parallel()
	pp := paypaltest.New("cmd-client", "cmd-secret", "WH-cmd")
	ppSrv := httptest.NewServer(pp.Handler())
	t.Cleanup(ppSrv.Close)
	pp.BaseURL = ppSrv.URL
	paypalEnv := map[string]string{"PAYPAL_CLIENT_ID": "cmd-client", "PAYPAL_CLIENT_SECRET": "cmd-secret", "PAYPAL_WEBHOOK_ID": "WH-cmd", "PAYPAL_API_BASE": ppSrv.URL}
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: paypalEnv})
	v := e.Variant(t, 1250, 5)
	c, _ := e.Customer(t)
	apitest.FillCart(t, c, apitest.CartLine{VariantGID: v.GID, Quantity: 2})
	var out struct {
		Checkout struct {
			Order struct {
				ID string `json:"id"`
			} `json:"order"`
		} `json:"checkout"`
	}
	c.As(t).Do(`mutation($input: CheckoutInput!) { checkout(input: $input) { order { id } } }`, map[string]any{"input": map[string]any{
		"idempotencyKey": uuid.NewString(), "shippingAddress": apitest.Address(), "paymentProvider": "PAYPAL"}}).Decode(t, &out)
	gid := out.Checkout.Order.ID
	require.NotEmpty(t, gid)

	vars := map[string]string{"APP_ENV": "test", "DATABASE_URL": e.Server.App.Config.DatabaseURL, "LOG_LEVEL": "warn", "DB_MAX_CONNS": "2"}
	for k, val := range paypalEnv {
		vars[k] = val
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout bytes.Buffer
	err := app.Run(ctx, []string{"paypal-event", "PAYMENT.CAPTURE.COMPLETED", "--order", gid, "--url", e.Server.URL + "/webhooks/paypal"},
		func(k string) string { return vars[k] }, strings.NewReader(""), &stdout)
	require.NoError(t, err, stdout.String())
	require.Contains(t, stdout.String(), "HTTP 200")
	require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM orders o JOIN payments p ON p.order_id = o.id
		WHERE p.provider = 'paypal' AND o.status = 'PAID' AND p.amount_received = 2500`))
}
