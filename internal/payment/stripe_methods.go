package payment

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/stripe/stripe-go/v76"
)

// Stripe's side of saved payment methods (MethodGateway): Customers, SetupIntents,
// PaymentMethods, and intents confirmed server-side with a saved card.

// CreateCustomer creates the Stripe Customer of account userID.
func (s *Stripe) CreateCustomer(ctx context.Context, userID int64, idempotencyKey string) (string, error) {
	params := &stripe.CustomerParams{}
	params.Context = ctx
	params.AddMetadata("user_id", strconv.FormatInt(userID, 10))
	params.SetIdempotencyKey(idempotencyKey)
	c, err := s.api.Customers.New(params)
	if err != nil {
		return "", s.stripeError(ctx, "create customer", err)
	}
	return c.ID, nil
}

// CreateSetupIntent creates a SetupIntent saving a card to customerID. Usage is on_session:
// shopgraph charges a saved card only at a checkout the customer is present for.
func (s *Stripe) CreateSetupIntent(ctx context.Context, customerID string) (SetupIntent, error) {
	params := &stripe.SetupIntentParams{
		Customer:           stripe.String(customerID),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
		Usage:              stripe.String(string(stripe.SetupIntentUsageOnSession)),
	}
	params.Context = ctx
	si, err := s.api.SetupIntents.New(params)
	if err != nil {
		return SetupIntent{}, s.stripeError(ctx, "create setup intent", err)
	}
	return SetupIntent{ID: si.ID, ClientSecret: si.ClientSecret}, nil
}

// PaymentMethod reads a payment method, with the customer it is attached to.
func (s *Stripe) PaymentMethod(ctx context.Context, id string) (Method, error) {
	params := &stripe.PaymentMethodParams{}
	params.Context = ctx
	pm, err := s.api.PaymentMethods.Get(id, params)
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode == http.StatusNotFound {
		return Method{}, ErrMethodNotFound
	}
	if err != nil {
		return Method{}, s.stripeError(ctx, "retrieve payment method", err)
	}
	return methodOf(pm), nil
}

// PaymentMethods lists one page (at most limit) of the customer's cards.
func (s *Stripe) PaymentMethods(ctx context.Context, customerID string, limit int) ([]Method, error) {
	params := &stripe.CustomerListPaymentMethodsParams{Customer: stripe.String(customerID), Type: stripe.String("card")}
	params.Context = ctx
	params.Limit = stripe.Int64(int64(limit))
	params.Single = true // one page: the list is bounded, never paged through
	it := s.api.Customers.ListPaymentMethods(params)
	out := []Method{}
	for it.Next() && len(out) < limit {
		out = append(out, methodOf(it.PaymentMethod()))
	}
	if err := it.Err(); err != nil {
		return nil, s.stripeError(ctx, "list payment methods", err)
	}
	return out, nil
}

// DefaultPaymentMethod is the customer's invoice_settings.default_payment_method ("" for none).
func (s *Stripe) DefaultPaymentMethod(ctx context.Context, customerID string) (string, error) {
	params := &stripe.CustomerParams{}
	params.Context = ctx
	c, err := s.api.Customers.Get(customerID, params)
	if err != nil {
		return "", s.stripeError(ctx, "retrieve customer", err)
	}
	if c.InvoiceSettings == nil || c.InvoiceSettings.DefaultPaymentMethod == nil {
		return "", nil
	}
	return c.InvoiceSettings.DefaultPaymentMethod.ID, nil
}

// SetDefaultPaymentMethod makes methodID the customer's default.
func (s *Stripe) SetDefaultPaymentMethod(ctx context.Context, customerID, methodID string) error {
	params := &stripe.CustomerParams{InvoiceSettings: &stripe.CustomerInvoiceSettingsParams{DefaultPaymentMethod: stripe.String(methodID)}}
	params.Context = ctx
	if _, err := s.api.Customers.Update(customerID, params); err != nil {
		return s.stripeError(ctx, "set default payment method", err)
	}
	return nil
}

// DetachPaymentMethod detaches a method from its customer (Stripe then clears it as default).
func (s *Stripe) DetachPaymentMethod(ctx context.Context, methodID string) error {
	params := &stripe.PaymentMethodDetachParams{}
	params.Context = ctx
	if _, err := s.api.PaymentMethods.Detach(methodID, params); err != nil {
		return s.stripeError(ctx, "detach payment method", err)
	}
	return nil
}

// ChargeMethod creates a PaymentIntent for the customer with the saved card and confirms it at
// once, on-session (off_session=false: the customer is at the checkout and can authenticate).
// The intent accepts cards only, as saved by CreateSetupIntent, so confirming needs no
// return_url: 3-D Secure is a next action (use_stripe_sdk) that Stripe.js handles with the
// client secret. A card_error (402) is a decline: a *DeclinedError carrying the intent Stripe
// created for it, which Stripe answers again for the same idempotency key.
func (s *Stripe) ChargeMethod(ctx context.Context, p MethodIntentParams) (Intent, error) {
	params := &stripe.PaymentIntentParams{
		Amount:             stripe.Int64(p.Amount),
		Currency:           stripe.String(strings.ToLower(p.Currency)),
		Customer:           stripe.String(p.CustomerID),
		PaymentMethod:      stripe.String(p.PaymentMethodID),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
		Confirm:            stripe.Bool(true),
		OffSession:         stripe.Bool(false),
	}
	params.Context = ctx
	params.AddMetadata("order_id", strconv.FormatInt(p.OrderID, 10))
	params.SetIdempotencyKey(p.IdempotencyKey)
	pi, err := s.api.PaymentIntents.New(params)
	var se *stripe.Error
	if errors.As(err, &se) && se.Type == stripe.ErrorTypeCard {
		d := &DeclinedError{Code: string(se.Code), DeclineCode: string(se.DeclineCode), Message: se.Msg}
		if se.PaymentIntent != nil {
			d.Intent = intentOf(se.PaymentIntent)
		}
		return Intent{}, d
	}
	if err != nil {
		return Intent{}, s.stripeError(ctx, "create and confirm payment intent", err)
	}
	return intentOf(pi), nil
}

func methodOf(pm *stripe.PaymentMethod) Method {
	m := Method{ID: pm.ID}
	if pm.Customer != nil {
		m.CustomerID = pm.Customer.ID
	}
	if c := pm.Card; c != nil {
		m.Brand, m.Last4, m.ExpMonth, m.ExpYear = string(c.Brand), c.Last4, int(c.ExpMonth), int(c.ExpYear)
	}
	return m
}

// nextActionOf is what Stripe.js must do for an intent that requires_action.
func nextActionOf(pi *stripe.PaymentIntent) *NextAction {
	if pi.Status != stripe.PaymentIntentStatusRequiresAction || pi.NextAction == nil {
		return nil
	}
	na := &NextAction{Type: string(pi.NextAction.Type)}
	if r := pi.NextAction.RedirectToURL; r != nil && r.URL != "" {
		na.RedirectURL = &r.URL
	}
	return na
}
