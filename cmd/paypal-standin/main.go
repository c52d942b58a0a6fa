// Command paypal-standin serves the local PayPal stand-in (internal/payment/paypaltest) for
// development: `make run` starts it when no PAYPAL_* setting is given, and the server talks to
// it with the development credentials. Its approval page (/checkoutnow?token=…, the payment's
// approvalUrl) has a button that approves the order and sends CHECKOUT.ORDER.APPROVED to the
// server's /webhooks/paypal.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/payment/paypaltest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:12140", "address to listen on")
	webhook := flag.String("webhook-url", "http://127.0.0.1:8080/webhooks/paypal", "where to send webhooks (empty: none)")
	flag.Parse()
	lg := log.New(os.Stderr, "paypal-standin ", log.LstdFlags)
	s := paypaltest.New(config.DevPayPalClientID, config.DevPayPalClientSecret, config.DevPayPalWebhookID)
	s.BaseURL, s.WebhookURL, s.Log = "http://"+*addr, *webhook, lg
	lg.Printf("listening on http://%s, webhooks to %s", *addr, *webhook)
	srv := &http.Server{Addr: *addr, Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	lg.Fatal(srv.ListenAndServe())
}
