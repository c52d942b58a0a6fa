package payment

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// Saved payment methods (issue #18). The cards are the provider's: Stripe keeps them on the
// account's Stripe Customer (customer.go), the browser saves one through a SetupIntent and
// Stripe Elements, and we never see a card number. So the list, the default and ownership
// are all read from the provider, never from a copy of ours that could go stale:
//   - a method is the viewer's when the provider says it is attached to the viewer's
//     customer (its `customer` field), whatever the client claims;
//   - the default is the customer's invoice_settings.default_payment_method, where Stripe's
//     own tools (Billing, the dashboard, Shopify- and Saleor-like apps) keep it, so it stays
//     true when a method is detached or changed outside shopgraph;
//   - the list is one page of at most MaxMethods cards: a customer saves a handful, and one
//     bounded call keeps me.paymentMethods at two provider calls whatever is saved.

// MaxMethods is how many saved cards me.paymentMethods lists (one provider page).
const MaxMethods = 100

// CodeCardDeclined is the userError code of a card the bank refused at checkout. It mirrors
// the ErrorCode enum value of schema/payment_method.graphqls.
const CodeCardDeclined apperr.Code = "CARD_DECLINED"

// Method is a saved card, as the provider describes it.
type Method struct {
	ID       string // the provider's id, e.g. pm_…
	Brand    string // visa, mastercard, …
	Last4    string
	ExpMonth int
	ExpYear  int
	// CustomerID is the provider customer the method is attached to ("" when none).
	CustomerID string
	IsDefault  bool
}

// SetupIntent is what Stripe Elements needs to save a card for later.
type SetupIntent struct {
	ID           string
	ClientSecret string
}

// NextAction is what the customer's browser must do before the provider can charge: Stripe.js
// handles it (handleNextAction) with the intent's client secret.
type NextAction struct {
	// Type is the provider's next_action.type: use_stripe_sdk (3-D Secure in Stripe.js),
	// redirect_to_url, …
	Type string
	// RedirectURL is where to send the customer, for redirect_to_url.
	RedirectURL *string
}

// MethodIntentParams creates and confirms an intent charging a saved method.
type MethodIntentParams struct {
	IntentParams
	CustomerID      string
	PaymentMethodID string
}

// DeclinedError is a charge the card's bank (or the provider's fraud rules) refused: nothing
// was taken. Intent is the intent the provider created for it, still payable another way.
type DeclinedError struct {
	Code, DeclineCode string
	Message           string // the provider's, written for the customer
	Intent            Intent
}

func (e *DeclinedError) Error() string {
	return fmt.Sprintf("card declined: %s (%s): %s", e.Code, e.DeclineCode, e.Message)
}

// MethodGateway is a provider that keeps customers' payment methods. Calls that create take
// an idempotency key derived from our ids; reads and detach are naturally idempotent.
type MethodGateway interface {
	CreateCustomer(ctx context.Context, userID int64, idempotencyKey string) (customerID string, err error)
	CreateSetupIntent(ctx context.Context, customerID string) (SetupIntent, error)
	// PaymentMethod reads a method; ErrMethodNotFound when the provider has none of this id.
	PaymentMethod(ctx context.Context, id string) (Method, error)
	PaymentMethods(ctx context.Context, customerID string, limit int) ([]Method, error)
	DefaultPaymentMethod(ctx context.Context, customerID string) (string, error)
	SetDefaultPaymentMethod(ctx context.Context, customerID, methodID string) error
	DetachPaymentMethod(ctx context.Context, methodID string) error
	// ChargeMethod creates and confirms (server-side, on-session) an intent charging a saved
	// method; a declined card is a *DeclinedError.
	ChargeMethod(ctx context.Context, p MethodIntentParams) (Intent, error)
}

// ErrMethodNotFound is a payment method the provider does not know.
var ErrMethodNotFound = errors.New("payment method not found")

// methodGateway is the gateway's MethodGateway side. Not every Gateway keeps cards (the
// stateful test fake does not): without one, saved methods are unavailable, not broken.
func (s *Service) methodGateway() (MethodGateway, error) {
	if g, ok := s.gateway.(MethodGateway); ok {
		return g, nil
	}
	return nil, apperr.New(apperr.PaymentProviderUnavailable, "Saved payment methods are not available.")
}

// methodIDPattern is what a provider's method id looks like; anything else is nobody's, and
// never reaches the provider's URL.
var methodIDPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,255}$`)

// SetupIntentCreate is paymentMethodSetupIntentCreate: a SetupIntent on the viewer's customer
// (created now when it has none), whose client secret Stripe Elements uses to save a card.
// Errors: UNAUTHENTICATED, PAYMENT_PROVIDER_UNAVAILABLE.
func (s *Service) SetupIntentCreate(ctx context.Context, v auth.Viewer) (SetupIntent, error) {
	if err := mayKeepMethods(v); err != nil {
		return SetupIntent{}, err
	}
	g, err := s.methodGateway()
	if err != nil {
		return SetupIntent{}, err
	}
	c, err := s.ensureCustomer(ctx, g, v.UserID)
	if err != nil {
		return SetupIntent{}, err
	}
	si, err := g.CreateSetupIntent(ctx, c.CustomerID)
	if err != nil {
		s.log.WarnContext(ctx, "create setup intent failed", "user_id", v.UserID, "err", err)
		return SetupIntent{}, methodsUnavailable(err)
	}
	return si, nil
}

// MethodsOf is User.paymentMethods: the saved cards of account userID, the default first-class
// marked, read from the provider. Only the account itself sees them (not admins either).
// An account that never saved one has no customer yet, and no provider call is made.
// Errors: NOT_FOUND (someone else's), PAYMENT_PROVIDER_UNAVAILABLE.
func (s *Service) MethodsOf(ctx context.Context, v *auth.Viewer, userID int64) ([]Method, error) {
	if err := seesMethods(v, userID); err != nil {
		return nil, err
	}
	c, found, err := s.customerOf(ctx, userID)
	if err != nil || !found {
		return []Method{}, err
	}
	g, err := s.methodGateway()
	if err != nil {
		return nil, err
	}
	def, err := g.DefaultPaymentMethod(ctx, c.CustomerID)
	if err != nil {
		return nil, methodsUnavailable(err)
	}
	list, err := g.PaymentMethods(ctx, c.CustomerID, MaxMethods)
	if err != nil {
		return nil, methodsUnavailable(err)
	}
	out := make([]Method, 0, len(list))
	for _, m := range list {
		// The list is the customer's by construction; the check costs nothing and keeps
		// "attached to the viewer's customer" the one rule.
		if ownsMethod(c, m) != nil {
			continue
		}
		m.IsDefault = m.ID == def
		out = append(out, m)
	}
	return out, nil
}

// MethodDetach is paymentMethodDetach: the viewer's method is detached from its customer at the
// provider (and stops being the default). Errors: NOT_FOUND (not the viewer's, or unknown),
// PAYMENT_PROVIDER_UNAVAILABLE.
func (s *Service) MethodDetach(ctx context.Context, v auth.Viewer, id string) (Method, error) {
	g, _, m, err := s.viewerMethod(ctx, v, id, "id")
	if err != nil {
		return Method{}, err
	}
	if err := g.DetachPaymentMethod(ctx, m.ID); err != nil {
		return Method{}, methodsUnavailable(err)
	}
	m.CustomerID, m.IsDefault = "", false
	return m, nil
}

// MethodSetDefault is paymentMethodSetDefault: the viewer's method becomes its customer's
// invoice_settings.default_payment_method. Errors: NOT_FOUND, PAYMENT_PROVIDER_UNAVAILABLE.
func (s *Service) MethodSetDefault(ctx context.Context, v auth.Viewer, id string) (Method, error) {
	g, c, m, err := s.viewerMethod(ctx, v, id, "id")
	if err != nil {
		return Method{}, err
	}
	if err := g.SetDefaultPaymentMethod(ctx, c.CustomerID, m.ID); err != nil {
		return Method{}, methodsUnavailable(err)
	}
	m.IsDefault = true
	return m, nil
}

// MethodChoice is a saved method an order is to be charged to, on the customer it is
// attached to.
type MethodChoice struct {
	CustomerID      string
	PaymentMethodID string
}

// ChooseMethod is checkout's paymentMethodId: the viewer's method, checked with the provider
// (before the order's transaction: no network call inside it). verified says the method was
// already checked for this very request (a replay of a committed checkout, whose fingerprint
// holds the method): then only the customer is read. Errors: NOT_FOUND (field
// input.paymentMethodId), UNAUTHENTICATED, PAYMENT_PROVIDER_UNAVAILABLE.
func (s *Service) ChooseMethod(ctx context.Context, v auth.Viewer, id string, verified bool) (MethodChoice, error) {
	if verified {
		c, found, err := s.customerOf(ctx, v.UserID)
		if err != nil {
			return MethodChoice{}, err
		}
		if found && methodIDPattern.MatchString(id) {
			return MethodChoice{CustomerID: c.CustomerID, PaymentMethodID: id}, nil
		}
	}
	_, c, m, err := s.viewerMethod(ctx, v, id, "paymentMethodId")
	if err != nil {
		return MethodChoice{}, err
	}
	return MethodChoice{CustomerID: c.CustomerID, PaymentMethodID: m.ID}, nil
}

// viewerMethod reads method id from the provider and answers NOT_FOUND unless it is attached
// to the viewer's customer: an account without a customer owns nothing (and costs no call).
func (s *Service) viewerMethod(ctx context.Context, v auth.Viewer, id, field string) (MethodGateway, Customer, Method, error) {
	if err := mayKeepMethods(v); err != nil {
		return nil, Customer{}, Method{}, err
	}
	if !methodIDPattern.MatchString(id) {
		return nil, Customer{}, Method{}, methodNotFound(field)
	}
	c, found, err := s.customerOf(ctx, v.UserID)
	if err != nil {
		return nil, Customer{}, Method{}, err
	}
	if !found {
		return nil, Customer{}, Method{}, methodNotFound(field)
	}
	g, err := s.methodGateway()
	if err != nil {
		return nil, Customer{}, Method{}, err
	}
	m, err := g.PaymentMethod(ctx, id)
	if errors.Is(err, ErrMethodNotFound) {
		return nil, Customer{}, Method{}, methodNotFound(field)
	}
	if err != nil {
		return nil, Customer{}, Method{}, methodsUnavailable(err)
	}
	if err := ownsMethod(c, m); err != nil {
		return nil, Customer{}, Method{}, methodNotFound(field)
	}
	return g, c, m, nil
}
