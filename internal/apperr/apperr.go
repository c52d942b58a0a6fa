// Package apperr defines shopgraph's typed application errors. Domain services return them; the
// transport layers (GraphQL, HTTP) map their codes to userErrors or top-level error codes. Any
// error that is not an *Error is INTERNAL, and its text never reaches a client.
package apperr

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code shared by every transport.
type Code string

// Codes for top-level errors: the caller or the system can act on them.
const (
	Internal Code = "INTERNAL"
	// Timeout is a request stopped at its deadline (REQUEST_TIMEOUT).
	Timeout         Code = "TIMEOUT"
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	BadUserInput    Code = "BAD_USER_INPUT"
	Conflict        Code = "CONFLICT"
	RateLimited     Code = "RATE_LIMITED"
	// BadRequest is a request that is not a well-formed GraphQL-over-HTTP request (a body that
	// is not a JSON object, no query, variables that are not an object).
	BadRequest Code = "BAD_REQUEST"
	// RequestTooLarge is a request body over MAX_BODY_BYTES.
	RequestTooLarge Code = "REQUEST_TOO_LARGE"
	// IntrospectionDisabled answers __schema and __type where introspection is off.
	IntrospectionDisabled Code = "INTROSPECTION_DISABLED"
	// Unavailable is a dependency that cannot be reached for a moment (PostgreSQL restarting):
	// the same request may succeed if tried again.
	Unavailable Code = "SERVICE_UNAVAILABLE"
)

// Codes for userErrors: an end user can act on them. They mirror the GraphQL ErrorCode enum.
const (
	Invalid            Code = "INVALID"
	EmailTaken         Code = "EMAIL_TAKEN"
	InvalidCredentials Code = "INVALID_CREDENTIALS"
	InvalidToken       Code = "INVALID_TOKEN"
	WrongPassword      Code = "WRONG_PASSWORD"
	Unchanged          Code = "UNCHANGED"
	Duplicate          Code = "DUPLICATE"
	InsufficientStock  Code = "INSUFFICIENT_STOCK"
	LastVariant        Code = "LAST_VARIANT"
	CategoryNotEmpty   Code = "CATEGORY_NOT_EMPTY"
	OutOfStock         Code = "OUT_OF_STOCK"
	CartEmpty          Code = "CART_EMPTY"
	CurrencyMismatch   Code = "CURRENCY_MISMATCH"
	LineUnavailable    Code = "LINE_UNAVAILABLE"
	IdempotencyReused  Code = "IDEMPOTENCY_KEY_REUSED"
	InvalidTransition  Code = "INVALID_TRANSITION"

	PaymentProviderUnavailable Code = "PAYMENT_PROVIDER_UNAVAILABLE"
	RefundExceedsPayment       Code = "REFUND_EXCEEDS_PAYMENT"
	// RefundPending refuses a new refund while an earlier one of the same payment has no
	// answer from the provider yet: it may have gone through, and only its own idempotency
	// key may ask again.
	RefundPending Code = "REFUND_PENDING"
	// AmountTooLarge is a total beyond money.MaxAmount: a cart or an order worth more than
	// the bound every amount keeps to.
	AmountTooLarge Code = "AMOUNT_TOO_LARGE"
	// WebhookTargetForbidden refuses a webhook URL on a private, loopback, link-local or
	// otherwise internal address (SSRF), unless WEBHOOK_ALLOW_PRIVATE_TARGETS allows it.
	WebhookTargetForbidden Code = "WEBHOOK_TARGET_FORBIDDEN"
	// OverFulfillment: a fulfilment would ship more units of a line than remain unfulfilled.
	OverFulfillment Code = "OVER_FULFILLMENT"
)

// Error is an error whose Message is safe to show to a client. Err is the cause, for logs only.
type Error struct {
	Code    Code
	Message string
	// Field is the path of the input field at fault, e.g. ["input", "email"]; nil when none.
	Field []string
	// RetryAfterSeconds is set on RATE_LIMITED errors.
	RetryAfterSeconds int
	// NotApplied is set on SERVICE_UNAVAILABLE errors known to have changed nothing (the
	// database was not reached), so that even a write may be sent again.
	NotApplied bool
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error with a code and a client-safe message.
func New(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Newf is New with a formatted message.
func Newf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an error about one input field, named by its path.
func FieldError(code Code, message string, field ...string) *Error {
	return &Error{Code: code, Message: message, Field: field}
}

// Wrap returns an *Error with code and message whose cause is err.
func Wrap(err error, code Code, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// CodeOf returns err's code: the code of the *Error in its chain, or INTERNAL.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	if e := As(err); e != nil {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// List is several user-facing errors found at once, e.g. every invalid field of an input.
type List []*Error

func (l List) Error() string {
	if len(l) == 0 {
		return "no errors"
	}
	msg := l[0].Error()
	if len(l) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(l)-1)
	}
	return msg
}

// Err returns l as an error, or nil when it is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
