package notify_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/notify"
	"github.com/shopgraph/shopgraph/internal/order"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

func writeTemplates(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600))
	}
	return dir
}

var sampleOrder = order.Order{ID: 77, Total: money.Money{Amount: 1250, Currency: "USD"},
	ShippingAddress: order.Address{Name: "Ada", Line1: "1 Main St", City: "London", PostalCode: "N1", Country: "GB"}}

// TestTemplatesOverride: a file in EMAIL_TEMPLATES_DIR replaces the embedded template of the
// same name, and only that one; the others stay the defaults.
func TestTemplatesOverride(t *testing.T) {
	t.Parallel()
	dir := writeTemplates(t, map[string]string{
		"order_placed.subject.tmpl": "  Order {{.Number}} is in!\n",
		"order_placed.txt.tmpl":     "Thanks! {{.Total}} for order {{.Number}}.",
		"README.md":                 "files that are not templates are left alone",
	})
	tmpl, err := notify.LoadTemplates(dir)
	require.NoError(t, err)
	require.Equal(t, []string{"order_placed.subject.tmpl", "order_placed.txt.tmpl"}, tmpl.Overridden)

	msg, err := tmpl.OrderPlacedMessage("ada@example.com", sampleOrder, nil)
	require.NoError(t, err)
	require.Equal(t, "Order 77 is in!", msg.Subject, "the subject is the override's, on one line")
	require.Equal(t, "Thanks! $ 12.50 for order 77.", msg.Text)

	def, err := notify.OrderPlacedMessage("ada@example.com", sampleOrder, nil)
	require.NoError(t, err)
	require.Equal(t, notify.OrderPlacedSubject(77), def.Subject)
	require.Contains(t, msg.HTML, "<title>Order 77 is in!</title>", "the default HTML shows the overridden subject")
	require.Contains(t, msg.HTML, "Thank you for your order!", "a missing file falls back to the default")

	status, err := tmpl.OrderStatusMessage("ada@example.com", sampleOrder, order.StatusChange{OrderID: 77, Sequence: 2, Status: order.Paid})
	require.NoError(t, err)
	require.Equal(t, notify.OrderStatusSubject(77, order.Paid), status.Subject, "the status emails keep their defaults")

	t.Run("no directory: the embedded templates", func(t *testing.T) {
		tmpl, err := notify.LoadTemplates("")
		require.NoError(t, err)
		require.Empty(t, tmpl.Overridden)
		msg, err := tmpl.OrderStatusMessage("ada@example.com", sampleOrder, order.StatusChange{OrderID: 77, Sequence: 2, Status: order.Shipped})
		require.NoError(t, err)
		require.Equal(t, notify.OrderStatusSubject(77, order.Shipped), msg.Subject)
	})
}

// TestTemplatesBrokenFailLoad: a template that would fail when sending fails LoadTemplates
// (and so the start), naming its file.
func TestTemplatesBrokenFailLoad(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"a syntax error", map[string]string{"order_placed.txt.tmpl": "Order {{.Number"},
			[]string{"order_placed.txt.tmpl", "EMAIL_TEMPLATES_DIR", "does not parse"}},
		{"an unknown field", map[string]string{"order_status.html.tmpl": "<p>{{.Customer.Name}}</p>"},
			[]string{"order_status.html.tmpl", "Customer"}},
		{"a field of the other email", map[string]string{"order_status.txt.tmpl": "{{range .Lines}}{{.Name}}{{end}}"},
			[]string{"order_status.txt.tmpl", "Lines"}},
		{"an empty subject", map[string]string{"order_status.subject.tmpl": "{{if false}}x{{end}}"},
			[]string{"order_status.subject.tmpl", "empty"}},
		{"a misspelt file name", map[string]string{"order_placd.txt.tmpl": "Hi"},
			[]string{"order_placd.txt.tmpl", "not an email template"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := notify.LoadTemplates(writeTemplates(t, tc.files))
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
	t.Run("a directory that is not there", func(t *testing.T) {
		_, err := notify.LoadTemplates(filepath.Join(t.TempDir(), "nope"))
		require.ErrorContains(t, err, "EMAIL_TEMPLATES_DIR")
	})
}

// TestOverriddenTemplatesAreSent: the service sends what the operator's templates say.
func TestOverriddenTemplatesAreSent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tmpl, err := notify.LoadTemplates(writeTemplates(t, map[string]string{
		"order_placed.subject.tmpl": "Got it: #{{.Number}}",
		"order_placed.html.tmpl":    "<p>Total <b>{{.Total}}</b></p>",
	}))
	require.NoError(t, err)
	b.svc.Configure(notify.Options{Templates: tmpl})
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: tf.NewUser(t, b.d, tf.UserOpts{}).ID, Lines: []tf.LineOpts{{Quantity: 1, UnitPrice: 900}}})

	require.NoError(t, b.work(o.ID))
	msgs := b.smtp.Messages()
	require.Len(t, msgs, 1)
	subject, parts, err := msgs[0].Parts()
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("Got it: #%d", o.ID), subject)
	require.Contains(t, parts["text/html"], "<p>Total <b>$ 9.00</b></p>")
	require.Contains(t, parts["text/plain"], "Thank you for your order!", "the default plain-text part")
}

// TestShippedEmailListsShipments: the SHIPPED email names each fulfilment's carrier, tracking
// number and link; without fulfilments it keeps the order's tracking number.
func TestShippedEmailListsShipments(t *testing.T) {
	t.Parallel()
	tmpl, err := notify.LoadTemplates("")
	require.NoError(t, err)
	shipped := order.StatusChange{OrderID: 77, Sequence: 3, Status: order.Shipped}
	msg, err := tmpl.OrderStatusMessageWith("ada@example.com", sampleOrder, shipped, []notify.Shipment{
		{Carrier: "UPS", TrackingNumber: "1Z1", TrackingURL: "https://ups.example/1Z1"}, {Carrier: "DHL", TrackingNumber: "D2"},
	})
	require.NoError(t, err)
	require.Contains(t, msg.Text, "UPS: tracking number 1Z1 (https://ups.example/1Z1)")
	require.Contains(t, msg.Text, "DHL: tracking number D2\n")
	require.Contains(t, msg.HTML, `<a href="https://ups.example/1Z1">`)
	require.Contains(t, msg.HTML, "DHL: tracking number <strong>D2</strong>")

	tracking := "OLD-1"
	o := sampleOrder
	o.TrackingNumber = &tracking
	msg, err = tmpl.OrderStatusMessage("ada@example.com", o, shipped)
	require.NoError(t, err)
	require.Contains(t, msg.Text, "Tracking number: OLD-1")
}
