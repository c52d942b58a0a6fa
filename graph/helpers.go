package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shopgraph/shopgraph/graph/loader"
	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/notify"
	"github.com/shopgraph/shopgraph/internal/webhook"
)

func clientMeta(ctx context.Context) account.ClientMeta {
	req := auth.RequestFrom(ctx)
	return account.ClientMeta{IP: req.ClientIP, UserAgent: req.UserAgent}
}

func setSessionCookies(ctx context.Context, s account.Session) {
	auth.SetSessionCookies(ctx, s.AccessToken, s.AccessTokenExpiresAt, s.RefreshToken, s.ExpiresAt)
}

// nullIfNotFound turns NOT_FOUND into a null result, as queries for one entity answer.
func nullIfNotFound[T any](v T, err error) (*T, error) {
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// node fetches any Node by global ID, applying the same visibility rules as its own query.
func (r *Resolver) node(ctx context.Context, gid string) (model.Node, error) {
	if s, ok, err := r.sessionNode(ctx, gid); ok {
		return s, err
	}
	typ, id, ok := parseGlobalID(gid)
	if !ok {
		return nil, nil
	}
	switch typ {
	case typeUser:
		u, err := nullIfNotFound(r.Accounts.GetVisible(ctx, viewerPtr(ctx), id))
		if u == nil || err != nil {
			return nil, err
		}
		return u, nil
	case typeProduct:
		return r.Query().Product(ctx, &gid, nil)
	case typeVariant:
		v, err := loader.From(ctx).VariantByID.Load(ctx, id)()
		if apperr.Is(err, apperr.NotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		// A variant is visible when its product is.
		p, err := r.Query().Product(ctx, ptr(globalID(typeProduct, v.ProductID)), nil)
		if p == nil || err != nil || v.DeletedAt != nil {
			return nil, err
		}
		return &v, nil
	case typeCategory:
		return r.Query().Category(ctx, &gid, nil)
	case typeVendor:
		vd, err := r.vendorByID(ctx, id)
		if vd == nil || err != nil {
			return nil, err
		}
		return vd, nil
	case typeCustomerCart, typeGuestCart:
		c, err := nullIfNotFound(r.Carts.ByID(ctx, cartOwner(ctx), gid))
		if c == nil || err != nil {
			return nil, err
		}
		return c, nil
	case typeInventoryImport:
		v, ok := auth.ViewerFrom(ctx)
		if !ok || r.Inventory == nil {
			return nil, nil
		}
		imp, err := nullIfNotFound(r.Inventory.Get(ctx, v, id))
		if imp == nil || err != nil {
			return nil, err
		}
		return imp, nil
	case typeReview:
		return r.reviewNode(ctx, id)
	case typeAddress:
		v, ok := auth.ViewerFrom(ctx)
		if !ok {
			return nil, nil
		}
		a, err := nullIfNotFound(r.AddressBook.Get(ctx, v, id))
		if a == nil || err != nil {
			return nil, err
		}
		return a, nil
	case typeOrder:
		v, ok := auth.ViewerFrom(ctx)
		if !ok {
			return nil, nil
		}
		o, err := nullIfNotFound(r.OrderService.Get(ctx, v, id))
		if o == nil || err != nil {
			return nil, err
		}
		return o, nil
	case typeFulfillment:
		v, ok := auth.ViewerFrom(ctx)
		if !ok {
			return nil, nil
		}
		f, err := nullIfNotFound(r.OrderService.GetFulfillment(ctx, v, id))
		if f == nil || err != nil {
			return nil, err
		}
		return f, nil
	case webhook.TypeWebhook:
		v, ok := auth.ViewerFrom(ctx)
		if !ok || r.WebhookService == nil {
			return nil, nil
		}
		w, err := nullIfNotFound(r.WebhookService.Get(ctx, v, id))
		if w == nil || err != nil {
			return nil, err
		}
		return w, nil
	case webhook.TypeDelivery:
		v, ok := auth.ViewerFrom(ctx)
		if !ok || r.WebhookService == nil {
			return nil, nil
		}
		d, err := nullIfNotFound(r.WebhookService.GetDelivery(ctx, v, id))
		if d == nil || err != nil {
			return nil, err
		}
		return d, nil
	case typeStockMovement:
		return r.stockMovementNode(ctx, id)
	case typeVendorLedgerEntry:
		return r.vendorLedgerEntryNode(ctx, id)
	case typeEmailDelivery:
		v, ok := auth.ViewerFrom(ctx)
		if !ok || !notify.CanSeeDeliveries(v) {
			return nil, nil
		}
		d, err := nullIfNotFound(r.Notify.Delivery(ctx, v, id))
		if d == nil || err != nil {
			return nil, err
		}
		return d, nil
	}
	return nil, nil
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// selects reports whether the current field's selection asks for the field at path, through
// fragments: selects(ctx, "nodes", "payment") in a connection's resolver.
func selects(ctx context.Context, path ...string) bool {
	oc := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFieldsCtx(ctx, nil)
	for i, name := range path {
		var next []graphql.CollectedField
		for _, f := range fields {
			if f.Name != name {
				continue
			}
			if i == len(path)-1 {
				return true
			}
			next = append(next, graphql.CollectFields(oc, f.Selections, nil)...)
		}
		fields = next
	}
	return false
}
