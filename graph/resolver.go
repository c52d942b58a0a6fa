// Package graph is shopgraph's GraphQL transport: gqlgen's generated executor, thin resolvers
// that call domain services, the @auth/@hasRole directives, and error mapping. It holds no
// business rules and never touches the database directly.
package graph

import (
	"github.com/shopgraph/shopgraph/internal/analytics"
	"log/slog"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/address"
	"github.com/shopgraph/shopgraph/internal/cart"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/checkout"
	"github.com/shopgraph/shopgraph/internal/inventory"
	"github.com/shopgraph/shopgraph/internal/notify"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/review"
	"github.com/shopgraph/shopgraph/internal/tracking"
	"github.com/shopgraph/shopgraph/internal/vendor"
	"github.com/shopgraph/shopgraph/internal/webhook"
)

// Resolver holds the services the resolvers call.
type Resolver struct {
	Accounts *account.Service
	Catalog  *catalog.Service
	Carts    *cart.Service
	// CheckoutService and OrderService are not named Checkout and Orders: those are resolver
	// methods of the mutation and query roots.
	CheckoutService *checkout.Service
	OrderService    *order.Service
	Payments        *payment.Service
	// Inventory takes inventory imports and follows them.
	Inventory *inventory.ImportService
	// Notify reads the record of the emails sent (admins).
	Notify *notify.Service
	// Tracking streams order events to the subscriptions.
	Tracking *tracking.Service
	// WebhookService manages the outbound webhooks (not Webhooks: a query root resolver method).
	WebhookService *webhook.Service
	// VendorService is the marketplace's sellers (not Vendors: a resolver method of the query root).
	VendorService *vendor.Service
	// VendorLedger is the vendors' money: balances and ledger entries (schema/vendor_money.graphqls).
	VendorLedger *vendor.Ledger
	// AnalyticsService is the vendors' and admins' sales reports.
	AnalyticsService *analytics.Service
	// AddressBook is the customers' saved addresses (not Addresses: a resolver method of User).
	AddressBook *address.Service
	// ReviewService is the product reviews (not Reviews: a resolver method of Product and User).
	ReviewService *review.Service
	Log           *slog.Logger

	// ExternalAuth is social login: sign-in through Google, Facebook or an OIDC provider.
	ExternalAuth *account.ExternalAuth
}
