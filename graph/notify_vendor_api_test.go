package graph_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/notify"
	"github.com/shopgraph/shopgraph/internal/payment/paymenttest"
	"github.com/shopgraph/shopgraph/internal/testutil/smtptest"
)

// The vendors' and admins' notices through the API: a paid order's vendors each hear of
// their own lines; an application to sell is told to every admin.

const vendorNoticeCheckout = `mutation Checkout($input: CheckoutInput!) { checkout(input: $input) {
  order { id } payment { intentId } userErrors { field message code } } }`

// messagesTo returns the messages the server received for address to.
func messagesTo(srv *smtptest.Server, to string) []smtptest.Received {
	var out []smtptest.Received
	for _, m := range srv.Messages() {
		if slices.Contains(m.To, to) {
			out = append(out, m)
		}
	}
	return out
}

// jobsCompleted waits for n jobs of kind to complete.
func jobsCompleted(t *testing.T, e *apitest.Env, kind string, n int) {
	t.Helper()
	// Eventually polls from a goroutine of its own: no require in there.
	done := func() bool {
		var got int
		err := e.Server.App.DB.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'`, kind).Scan(&got)
		return err == nil && got == n
	}
	require.Eventually(t, done, 30*time.Second, 50*time.Millisecond, "%d %s job(s) complete", n, kind)
}

// TestVendorOrderNoticeAPI: a checkout of two vendors' products and one of the shop's owes the
// vendors nothing while the order is unpaid; once paid, each vendor's contact address gets one
// notice listing only its lines and their total, formatted; admins list them as VENDOR_ORDER.
func TestVendorOrderNoticeAPI(t *testing.T) {
	t.Parallel()
	srv := smtptest.New(t)
	fake := paymenttest.New()
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{"SMTP_URL": srv.URL}, Gateway: fake})
	acme, bolt := e.NewVendor(t, "Acme Lamps", 0), e.NewVendor(t, "Bolt Shades", 0)
	lamp := e.Product(t, apitest.ProductOptions{Name: "Acme Desk Lamp", VendorID: &acme.ID,
		Variants: []catalog.VariantInput{{Name: "Red", Price: 1250, Stock: 10}}})[0]
	shade := e.Product(t, apitest.ProductOptions{Name: "Bolt Paper Shade", VendorID: &bolt.ID,
		Variants: []catalog.VariantInput{{Name: "White", Price: 399, Stock: 10}}})[0]
	bulb := e.Product(t, apitest.ProductOptions{Name: "House Bulb",
		Variants: []catalog.VariantInput{{Name: "E27", Price: 500, Stock: 10}}})[0]

	c, _ := e.Customer(t)
	apitest.FillCart(t, c, apitest.CartLine{VariantGID: lamp.GID, Quantity: 2}, apitest.CartLine{VariantGID: shade.GID, Quantity: 3},
		apitest.CartLine{VariantGID: bulb.GID, Quantity: 1})
	var out struct {
		P struct {
			Order      *struct{ ID string }
			Payment    *struct{ IntentID string }
			UserErrors []apitest.UserError
		} `json:"checkout"`
	}
	c.As(t).Do(vendorNoticeCheckout, map[string]any{"input": map[string]any{
		"idempotencyKey": uuid.NewString(), "shippingAddress": apitest.Address(),
	}}).Decode(t, &out)
	require.Empty(t, out.P.UserErrors)
	require.NotNil(t, out.P.Order)
	require.NotNil(t, out.P.Payment)
	o := apitest.Order{ID: apitest.OrderNumber(t, out.P.Order.ID), GID: out.P.Order.ID, Owner: c,
		Total: 2*1250 + 3*399 + 500, Intent: out.P.Payment.IntentID}
	require.Zero(t, e.Count(t, `SELECT count(*) FROM river_job WHERE kind = 'email_vendor_order'`),
		"an unpaid order tells the vendors nothing")

	apitest.PayWithFake(t, e, fake, o)
	jobsCompleted(t, e, "email_vendor_order", 1)

	check := func(to, vendorName string, want, not []string) {
		t.Helper()
		got := messagesTo(srv, to)
		require.Len(t, got, 1, to)
		subject, parts, err := got[0].Parts()
		require.NoError(t, err)
		require.Equal(t, notify.VendorOrderSubject(o.ID, vendorName), subject)
		for _, typ := range []string{"text/plain", "text/html"} {
			for _, w := range want {
				require.Contains(t, parts[typ], w, typ)
			}
			for _, n := range not {
				require.NotContains(t, parts[typ], n, typ)
			}
			require.Contains(t, parts[typ], "Analytical Row", "the shipping address, %s", typ)
		}
	}
	others := []string{"House Bulb", "$ 46.97"} // the shop's line, the order's total
	check(acme.ContactEmail, "Acme Lamps", []string{"Acme Desk Lamp", lamp.SKU, "$ 12.50", "$ 25.00"},
		append([]string{"Bolt Paper Shade", "$ 11.97"}, others...))
	check(bolt.ContactEmail, "Bolt Shades", []string{"Bolt Paper Shade", shade.SKU, "$ 3.99", "$ 11.97"},
		append([]string{"Acme Desk Lamp", "$ 25.00"}, others...))

	page := listDeliveries(t, e.Admin, 10, "", map[string]any{"recipient": acme.ContactEmail})
	require.Len(t, page.Nodes, 1)
	require.Equal(t, "VENDOR_ORDER", page.Nodes[0].Kind)
	require.Equal(t, notify.VendorOrderEventKey(o.ID, acme.ID), page.Nodes[0].EventKey)
	require.Equal(t, "SENT", page.Nodes[0].Status)
}

// TestVendorApplicationNoticeAPI: vendorApply tells every admin once, with the vendor's name
// and the applicant; admins list the delivery as VENDOR_APPLICATION.
func TestVendorApplicationNoticeAPI(t *testing.T) {
	t.Parallel()
	srv := smtptest.New(t)
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{"SMTP_URL": srv.URL}})
	_, secondAdmin := e.NewAdmin(t)
	applicant := e.RegisterCustomer(t)
	p := vendorMutate(t, applicant, vendorApplyMutation, "vendorApply", map[string]any{
		"name": "Lovelace Looms", "contactEmail": "looms@lovelace.example", "description": "Jacquard looms."})
	require.Empty(t, p.UserErrors)
	jobsCompleted(t, e, "email_vendor_application", 1)

	var applicantEmail string
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(),
		`SELECT u.email FROM vendors v JOIN users u ON u.id = v.applicant_id WHERE v.name = 'Lovelace Looms'`).Scan(&applicantEmail))
	for _, id := range []int64{e.AdminID, secondAdmin} {
		var email string
		require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(), `SELECT email FROM users WHERE id = $1`, id).Scan(&email))
		got := messagesTo(srv, email)
		require.Len(t, got, 1, email)
		subject, parts, err := got[0].Parts()
		require.NoError(t, err)
		require.Equal(t, notify.VendorApplicationSubject("Lovelace Looms"), subject)
		for _, typ := range []string{"text/plain", "text/html"} {
			for _, w := range []string{"Lovelace Looms", applicantEmail, "looms@lovelace.example", "Jacquard looms.", p.Vendor.ID} {
				require.Contains(t, parts[typ], w, typ)
			}
		}
		page := listDeliveries(t, e.Admin, 10, "", map[string]any{"recipient": email})
		require.Len(t, page.Nodes, 1)
		require.Equal(t, "VENDOR_APPLICATION", page.Nodes[0].Kind)
	}
	require.Len(t, withoutAccountEmails(t, srv.Messages()), 2, "the admins only (besides the applicant's account emails)")
}

// TestLowStockNoticeAPI: a checkout that takes a vendor's variant from above its low-stock
// threshold (5 by default) to at or under it emails the vendor once; a later sale that leaves
// it under is no new crossing, and the shop's own product tells no one.
func TestLowStockNoticeAPI(t *testing.T) {
	t.Parallel()
	srv := smtptest.New(t)
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{"SMTP_URL": srv.URL}})
	acme := e.NewVendor(t, "Acme Lamps", 0)
	lamp := e.Product(t, apitest.ProductOptions{Name: "Acme Desk Lamp", VendorID: &acme.ID,
		Variants: []catalog.VariantInput{{Name: "Red", Price: 1250, Stock: 7}}})[0]
	bulb := e.Product(t, apitest.ProductOptions{Name: "House Bulb",
		Variants: []catalog.VariantInput{{Name: "E27", Price: 500, Stock: 7}}})[0]

	buy := func(quantity int) {
		t.Helper()
		c, _ := e.Customer(t)
		apitest.FillCart(t, c, apitest.CartLine{VariantGID: lamp.GID, Quantity: quantity},
			apitest.CartLine{VariantGID: bulb.GID, Quantity: quantity})
		var out struct {
			P struct{ UserErrors []apitest.UserError } `json:"checkout"`
		}
		c.As(t).Do(vendorNoticeCheckout, map[string]any{"input": map[string]any{
			"idempotencyKey": uuid.NewString(), "shippingAddress": apitest.Address(),
		}}).Decode(t, &out)
		require.Empty(t, out.P.UserErrors)
	}
	buy(2) // 7 → 5: crosses
	jobsCompleted(t, e, "email_low_stock", 1)
	got := messagesTo(srv, acme.ContactEmail)
	require.Len(t, got, 1)
	subject, parts, err := got[0].Parts()
	require.NoError(t, err)
	require.Equal(t, notify.LowStockSubject(lamp.SKU), subject)
	require.Contains(t, parts["text/plain"], lamp.SKU)

	buy(1) // 5 → 4: already under, no crossing
	require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM river_job WHERE kind = 'email_low_stock'`),
		"a sale under the threshold is no new crossing; the shop's own bulb tells no one")
}
