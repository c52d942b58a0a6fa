package payment

import (
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/order"
)

// This file is the payment policy: who may pay for an order again, who may pay it in
// development without Stripe.js, who may refund it, and who is given a payment's client secret. It is the one place that decides; the service calls it,
// resolvers ask the service. Who sees an order, and its payment, is the order policy's.

// mayRetry says whether v may ask again for the intent of o: those who see the whole order
// (its owner, admins). Anyone else is told it does not exist. Errors: NOT_FOUND.
func mayRetry(v auth.Viewer, o order.Order) error {
	if !order.SeesWhole(v, o) {
		return orderNotFound()
	}
	return nil
}

// maySimulatePayment says whether v may pay o through the development-only simulated Stripe
// event: its customer, the only one who holds the client secret a real payment needs.
// Errors: FORBIDDEN.
func maySimulatePayment(v auth.Viewer, o order.Order) error {
	if !o.OwnedBy(v) {
		return apperr.New(apperr.Forbidden, "only the order's customer may pay it")
	}
	return nil
}

// orderNotFound is the answer for an order that does not exist or that v may not pay for.
func orderNotFound() error {
	return apperr.FieldError(apperr.NotFound, "No order has this ID.", "input", "id")
}

// mayRefund says whether v may refund payments: admins. Errors: FORBIDDEN.
func mayRefund(v auth.Viewer) error {
	if !v.IsAdmin() {
		return apperr.New(apperr.Forbidden, "Only admins can refund.")
	}
	return nil
}

// seesClientSecret reports whether v is given the client secret of o's payment: only the
// paying customer needs it; admins see the payment without it.
func seesClientSecret(v auth.Viewer, o order.Order) bool { return o.OwnedBy(v) }

// Saved payment methods: an account's cards are its own alone. Not even admins see them or act
// on them (support works in Stripe's dashboard); anyone else's method answers as missing.

// mayKeepMethods says whether v may save and use payment methods: a signed-in account.
// Errors: UNAUTHENTICATED.
func mayKeepMethods(v auth.Viewer) error {
	if v.UserID <= 0 {
		return apperr.New(apperr.Unauthenticated, "Sign in to use saved payment methods.")
	}
	return nil
}

// seesMethods says whether v sees the saved methods of account userID: only that account.
// Errors: NOT_FOUND.
func seesMethods(v *auth.Viewer, userID int64) error {
	if v == nil || v.UserID <= 0 || v.UserID != userID {
		return apperr.New(apperr.NotFound, "No payment methods here.")
	}
	return nil
}

// ownsMethod says whether m belongs to customer c: the provider says it is attached to c
// (its customer field). The client's word is never taken for it. Errors: NOT_FOUND.
func ownsMethod(c Customer, m Method) error {
	if c.CustomerID == "" || m.CustomerID != c.CustomerID {
		return methodNotFound("id")
	}
	return nil
}

// methodNotFound is the answer for a method that does not exist or is not the viewer's.
func methodNotFound(field string) error {
	return apperr.FieldError(apperr.NotFound, "No saved payment method has this ID.", "input", field)
}
