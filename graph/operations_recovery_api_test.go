package graph_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

// TestDocumentedEmailAndPasswordOperations runs the documented operations behind the links the
// storefront's account page opens: the verification link proves the address, and a reset link
// asked for by email sets a new password, with the tokens taken from the emails sent.
func TestDocumentedEmailAndPasswordOperations(t *testing.T) {
	t.Parallel()
	e, srv := mailEnv(t)
	email := apitest.UniqueEmail()
	register(t, e, email, "old-password-1")
	verification := waitMail(t, srv, email, 1)
	require.NotEmpty(t, verification.Token)

	type accountPayload struct {
		User *struct {
			Email         string `json:"email"`
			EmailVerified bool   `json:"emailVerified"`
		} `json:"user"`
		UserErrors []apitest.UserError `json:"userErrors"`
	}
	var verified accountPayload
	e.Anon(t).Payload("AccountEmailVerify", map[string]any{"token": verification.Token}, &verified)
	require.Empty(t, verified.UserErrors)
	require.Equal(t, email, verified.User.Email)
	require.True(t, verified.User.EmailVerified)

	var asked accountPayload
	e.Anon(t).Payload("AccountPasswordResetRequest", map[string]any{"email": email}, &asked)
	require.NotNil(t, asked.UserErrors)
	require.Empty(t, asked.UserErrors)
	reset := waitMail(t, srv, email, 2)
	require.Equal(t, "/account/reset-password", reset.Link)

	var done accountPayload
	e.Anon(t).Payload("AccountPasswordReset", map[string]any{"token": reset.Token, "newPassword": "a-brand-new-password"}, &done)
	require.Empty(t, done.UserErrors)
	require.Equal(t, email, done.User.Email)
	require.Empty(t, e.Anon(t).Login(email, "a-brand-new-password").UserErrors)
}

// TestDocumentedPayPalCapture runs OrderPaymentCapture as the storefront's PayPal page does:
// checkout with PAYPAL, capture refused before the buyer's approval, then the approval click at
// the stand-in's page and the capture the page sends when the buyer comes back.
func TestDocumentedPayPalCapture(t *testing.T) {
	t.Parallel()
	e, _ := newPayPalEnv(t)
	_, vendorID := e.Vendor(t)
	v := e.Product(t, apitest.ProductOptions{VendorID: &vendorID, Variants: []catalog.VariantInput{{Name: "Default", Price: 1500, Stock: 5}}})[0]
	c, _ := e.Customer(t)
	mustAdd(t, c, v.GID, 1)

	type paymentPayload struct {
		Order *struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"order"`
		Payment *struct {
			Provider    string  `json:"provider"`
			ApprovalURL *string `json:"approvalUrl"`
		} `json:"payment"`
		UserErrors []apitest.UserError `json:"userErrors"`
	}
	in := checkoutInput(uuid.NewString(), apitest.Address())
	in["paymentProvider"] = "PAYPAL"
	var placed paymentPayload
	c.Payload("Checkout", in, &placed)
	require.Empty(t, placed.UserErrors)
	require.Equal(t, "paypal", placed.Payment.Provider)
	require.NotNil(t, placed.Payment.ApprovalURL)
	orderID := placed.Order.ID

	var early paymentPayload
	c.Payload("OrderPaymentCapture", map[string]any{"orderId": orderID}, &early)
	require.NotEmpty(t, early.UserErrors)
	require.Equal(t, "INVALID_TRANSITION", early.UserErrors[0].Code, "not approved yet")

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	click, err := noRedirect.Post(*placed.Payment.ApprovalURL, "application/x-www-form-urlencoded", nil)
	require.NoError(t, err)
	click.Body.Close()
	require.Less(t, click.StatusCode, 400)

	// PayPal's webhook may capture before the page does: either way the order ends PAID, once.
	require.Eventually(t, func() bool {
		var captured paymentPayload
		c.Payload("OrderPaymentCapture", map[string]any{"orderId": orderID}, &captured)
		return len(captured.UserErrors) == 0 && captured.Order.Status == "PAID"
	}, 15*time.Second, 100*time.Millisecond)
	var order struct {
		Order docOrder `json:"order"`
	}
	c.Operation("Order", map[string]any{"id": orderID}).Decode(t, &order)
	require.Equal(t, "PAID", order.Order.Status)
	require.Equal(t, "paypal", order.Order.Payment.Provider)
}
