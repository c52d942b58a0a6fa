// Package loader batches the item lookups of one GraphQL response into one query per kind of
// item (graph-gophers/dataloader). Loaders are created per response, never per connection, so
// a long-lived WebSocket never reads from a stale cache. They call domain services and do no
// authorisation: resolvers decide what a viewer may see.
package loader

import (
	"context"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/address"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/review"
	"github.com/shopgraph/shopgraph/internal/vendor"
)

// Services are what the loaders read through.
type Services struct {
	Accounts *account.Service
	Catalog  *catalog.Service
	Orders   *order.Service
	Payments *payment.Service
	Vendors  *vendor.Service
	// Addresses is the address books (internal/address).
	Addresses *address.Service
	// Reviews is the product reviews and ratings (internal/review).
	Reviews *review.Service
}

// Loaders is one response's set of loaders.
type Loaders struct {
	UserByID            *dataloader.Loader[int64, account.User]
	VendorByID          *dataloader.Loader[int64, vendor.Vendor]
	ProductByID         *dataloader.Loader[int64, catalog.Product]
	VariantByID         *dataloader.Loader[int64, catalog.Variant]
	VariantsByProductID *dataloader.Loader[int64, []catalog.Variant]
	// LowStockThresholdByVariantID gives a variant's effective low-stock threshold.
	LowStockThresholdByVariantID *dataloader.Loader[int64, int]
	CategoryByID                 *dataloader.Loader[int64, catalog.Category]
	OrderLinesByOrderID          *dataloader.Loader[int64, []order.Line]
	OrderEventsByOrderID         *dataloader.Loader[int64, []order.Event]
	// FulfillmentsByOrderID gives every fulfilment of an order, with its lines.
	FulfillmentsByOrderID *dataloader.Loader[int64, []order.Fulfillment]
	// PaymentByOrderID gives nil for an order without a payment, so that a page's missing
	// payments can be primed too.
	PaymentByOrderID *dataloader.Loader[int64, *payment.Payment]
	// AddressBookByUserID gives an account's saved addresses, oldest first.
	AddressBookByUserID *dataloader.Loader[int64, []address.Address]
	// RatingByProductID gives a product's rating over its approved reviews.
	RatingByProductID *dataloader.Loader[int64, review.Rating]
	// ReviewByID gives a review, whoever may see it (resolvers ask review.Service.Visible).
	ReviewByID *dataloader.Loader[int64, review.Review]
}

const (
	wait          = time.Millisecond
	batchCapacity = 500
)

// New returns fresh loaders.
func New(s Services) *Loaders {
	return &Loaders{
		UserByID:                     newLoader(s.Accounts.ListByIDs, "user"),
		VendorByID:                   newLoader(s.Vendors.ListByIDs, "vendor"),
		ProductByID:                  newLoader(s.Catalog.ListByIDs, "product"),
		VariantByID:                  newLoader(s.Catalog.VariantsByIDs, "variant"),
		VariantsByProductID:          newListLoader(s.Catalog.VariantsByProductIDs),
		LowStockThresholdByVariantID: newLoader(s.Catalog.LowStockThresholds, "variant"),
		CategoryByID:                 newLoader(s.Catalog.CategoriesByIDs, "category"),
		OrderLinesByOrderID:          newListLoader(s.Orders.LinesByOrderIDs),
		OrderEventsByOrderID:         newListLoader(s.Orders.EventsByOrderIDs),
		FulfillmentsByOrderID:        newListLoader(s.Orders.FulfillmentsByOrderIDs),
		PaymentByOrderID:             newLoader(paymentsOrNil(s.Payments.ForOrders), "payment"),
		AddressBookByUserID:          newListLoader(s.Addresses.BooksByUserIDs),
		RatingByProductID:            newLoader(s.Reviews.Ratings, "product"),
		ReviewByID:                   newLoader(s.Reviews.ListByIDs, "review"),
	}
}

// newLoader batches a lookup by ids; a missing id is NOT_FOUND, a failed query fails every key.
func newLoader[V any](fetch func(context.Context, []int64) (map[int64]V, error), what string) *dataloader.Loader[int64, V] {
	return dataloader.NewBatchedLoader(func(ctx context.Context, keys []int64) []*dataloader.Result[V] {
		found, err := fetch(ctx, keys)
		out := make([]*dataloader.Result[V], len(keys))
		for i, k := range keys {
			switch v, ok := found[k]; {
			case err != nil:
				out[i] = &dataloader.Result[V]{Error: err}
			case !ok:
				out[i] = &dataloader.Result[V]{Error: apperr.New(apperr.NotFound, what+" not found")}
			default:
				out[i] = &dataloader.Result[V]{Data: v}
			}
		}
		return out
	}, dataloader.WithWait[int64, V](wait), dataloader.WithBatchCapacity[int64, V](batchCapacity))
}

// newListLoader batches a one-to-many lookup; a key with no rows gets an empty list.
func newListLoader[V any](fetch func(context.Context, []int64) (map[int64][]V, error)) *dataloader.Loader[int64, []V] {
	return dataloader.NewBatchedLoader(func(ctx context.Context, keys []int64) []*dataloader.Result[[]V] {
		found, err := fetch(ctx, keys)
		out := make([]*dataloader.Result[[]V], len(keys))
		for i, k := range keys {
			if err != nil {
				out[i] = &dataloader.Result[[]V]{Error: err}
				continue
			}
			v := found[k]
			if v == nil {
				v = []V{}
			}
			out[i] = &dataloader.Result[[]V]{Data: v}
		}
		return out
	}, dataloader.WithWait[int64, []V](wait), dataloader.WithBatchCapacity[int64, []V](batchCapacity))
}

type ctxKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// WithLazy returns ctx carrying loaders over s that are created when a resolver first asks
// for them (From). A subscription waits for its next event inside a response, so eager loaders
// would sit unused in every idle subscription (~3.5 KiB each, tens of thousands of them).
func WithLazy(ctx context.Context, s *Services) context.Context {
	return context.WithValue(ctx, ctxKey{}, &lazy{s: s})
}

// lazy is one response's loaders, not created yet.
type lazy struct {
	once sync.Once // resolvers of one response run concurrently
	s    *Services
	l    *Loaders
}

// From returns the response's loaders. It panics when there are none: that is a wiring bug.
func From(ctx context.Context) *Loaders {
	switch l := ctx.Value(ctxKey{}).(type) {
	case *Loaders:
		return l
	case *lazy:
		l.once.Do(func() { l.l = New(*l.s) })
		return l.l
	}
	panic("loader: no loaders in context (graph.NewHandler installs them per response)")
}

// paymentsOrNil answers every order asked about: its payment, or nil when it has none.
func paymentsOrNil(fetch func(context.Context, []int64) (map[int64]payment.Payment, error)) func(context.Context, []int64) (map[int64]*payment.Payment, error) {
	return func(ctx context.Context, orderIDs []int64) (map[int64]*payment.Payment, error) {
		found, err := fetch(ctx, orderIDs)
		if err != nil {
			return nil, err
		}
		out := make(map[int64]*payment.Payment, len(orderIDs))
		for _, id := range orderIDs {
			if p, ok := found[id]; ok {
				out[id] = &p
			} else {
				out[id] = nil
			}
		}
		return out, nil
	}
}
