package app

// StripeWebhookURL exports stripeWebhookURL to the package's external tests.
var StripeWebhookURL = stripeWebhookURL

// The development admin's credentials, as `shopgraph serve` prints them.
const (
	DevAdminEmail    = devAdminEmail
	DevAdminPassword = devAdminPassword
)
