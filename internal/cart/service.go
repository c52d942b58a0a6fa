package cart

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/product"
)

// Service is the cart use cases.
type Service struct {
	db      *postgres.DB
	catalog *product.Service
}

// NewService returns a cart service.
func NewService(d *postgres.DB, catalog *product.Service) *Service {
	return &Service{db: d, catalog: catalog}
}

// Get returns the owner's cart (empty when there is none yet), merging an anonymous cart into
// a signed-in customer's first.
func (s *Service) Get(ctx context.Context, o Owner) (Cart, error) {
	var (
		id     int64
		merged bool
	)
	err := s.db.InTx(ctx, func(q *db.Queries) error {
		var err error
		id, merged, err = s.find(ctx, q, o, false)
		return err
	})
	if err != nil {
		return Cart{}, err
	}
	c, err := s.view(ctx, id)
	c.Merged = merged
	return c, err
}

// AddItem adds quantity units of a variant (to an existing line if there is one).
// Errors: INVALID, NOT_FOUND (variant), CURRENCY_MISMATCH.
func (s *Service) AddItem(ctx context.Context, o Owner, variantID int64, quantity int) (Cart, error) {
	if quantity < 1 || quantity > MaxLineQuantity {
		return Cart{}, apperr.FieldError(apperr.Invalid, fmt.Sprintf("Quantity must be 1 to %d.", MaxLineQuantity), "input", "quantity")
	}
	return s.change(ctx, o, func(q *db.Queries, cartID int64) error {
		if err := s.checkAddable(ctx, q, cartID, variantID); err != nil {
			return err
		}
		line, err := q.CartLineAdd(ctx, db.CartLineAddParams{CartID: cartID, VariantID: variantID, Quantity: int32(quantity)})
		if isCheckViolation(err) || (err == nil && line.Quantity > MaxLineQuantity) {
			return apperr.FieldError(apperr.Invalid, fmt.Sprintf("A line holds at most %d units.", MaxLineQuantity), "input", "quantity")
		}
		return err
	})
}

// UpdateItem sets a line's quantity; 0 removes it. Errors: INVALID, NOT_FOUND.
func (s *Service) UpdateItem(ctx context.Context, o Owner, variantID int64, quantity int) (Cart, error) {
	if quantity < 0 || quantity > MaxLineQuantity {
		return Cart{}, apperr.FieldError(apperr.Invalid, fmt.Sprintf("Quantity must be 0 to %d.", MaxLineQuantity), "input", "quantity")
	}
	return s.change(ctx, o, func(q *db.Queries, cartID int64) error {
		if quantity == 0 {
			_, err := q.CartLineDelete(ctx, db.CartLineDeleteParams{CartID: cartID, VariantID: variantID})
			return err
		}
		if err := s.checkAddable(ctx, q, cartID, variantID); err != nil {
			return err
		}
		return q.CartLineSet(ctx, db.CartLineSetParams{CartID: cartID, VariantID: variantID, Quantity: int32(quantity)})
	})
}

// RemoveItem removes a line. Errors: NOT_FOUND (no such line).
func (s *Service) RemoveItem(ctx context.Context, o Owner, variantID int64) (Cart, error) {
	return s.change(ctx, o, func(q *db.Queries, cartID int64) error {
		n, err := q.CartLineDelete(ctx, db.CartLineDeleteParams{CartID: cartID, VariantID: variantID})
		if err == nil && n == 0 {
			return apperr.FieldError(apperr.NotFound, "This variant is not in the cart.", "input", "variantId")
		}
		return err
	})
}

// Clear empties the cart.
func (s *Service) Clear(ctx context.Context, o Owner) (Cart, error) {
	return s.change(ctx, o, func(q *db.Queries, cartID int64) error {
		return q.CartLineClear(ctx, cartID)
	})
}

// change runs fn on the owner's cart (created if needed) in one transaction.
func (s *Service) change(ctx context.Context, o Owner, fn func(q *db.Queries, cartID int64) error) (Cart, error) {
	var (
		id       int64
		merged   bool
		newToken string
	)
	err := s.db.InTx(ctx, func(q *db.Queries) error {
		var err error
		if o.UserID == nil && o.Token == "" {
			newToken, id, err = s.newAnonymous(ctx, q)
		} else {
			id, merged, err = s.find(ctx, q, o, true)
		}
		if err != nil {
			return err
		}
		if id == 0 { // an unknown anonymous token: start a fresh cart with a fresh token
			if newToken, id, err = s.newAnonymous(ctx, q); err != nil {
				return err
			}
		}
		if err := fn(q, id); err != nil {
			return err
		}
		if o.UserID != nil || newToken != "" {
			return nil // CartUpsertForUser touched the customer's cart; a new cart is fresh
		}
		return q.CartTouch(ctx, id)
	})
	if err != nil {
		return Cart{}, err
	}
	c, err := s.view(ctx, id)
	c.Token, c.Merged = newToken, merged
	return c, err
}

// find returns the owner's cart id (0 when none and create is false). A signed-in owner who
// also presents an anonymous token gets that cart merged into theirs: quantities added,
// capped by stock, and the anonymous cart deleted.
func (s *Service) find(ctx context.Context, q *db.Queries, o Owner, create bool) (int64, bool, error) {
	var anon *db.Cart
	if o.Token != "" {
		c, err := q.CartGetByTokenHash(ctx, hashToken(o.Token))
		if err != nil && !postgres.IsNotFound(err) {
			return 0, false, err
		}
		if err == nil {
			anon = &c
		}
	}
	if o.UserID == nil {
		if anon == nil {
			return 0, false, nil
		}
		return anon.ID, false, nil
	}
	if anon == nil && !create {
		c, err := q.CartGetByUser(ctx, o.UserID)
		if postgres.IsNotFound(err) {
			return 0, false, nil
		}
		return c.ID, false, err
	}
	mine, err := q.CartUpsertForUser(ctx, o.UserID)
	if err != nil {
		return 0, false, fmt.Errorf("upsert cart: %w", err)
	}
	if anon == nil {
		return mine.ID, false, nil
	}
	if err := s.merge(ctx, q, anon.ID, mine.ID); err != nil {
		return 0, false, err
	}
	return mine.ID, true, nil
}

func (s *Service) merge(ctx context.Context, q *db.Queries, from, into int64) error {
	theirs, err := q.CartLineList(ctx, from)
	if err != nil {
		return err
	}
	ours, err := q.CartLineList(ctx, into)
	if err != nil {
		return err
	}
	have := map[int64]int32{}
	ids := make([]int64, 0, len(ours)+len(theirs))
	for _, l := range ours {
		have[l.VariantID] = l.Quantity
		ids = append(ids, l.VariantID)
	}
	for _, l := range theirs {
		ids = append(ids, l.VariantID)
	}
	variants, err := variantsIn(ctx, q, ids)
	if err != nil {
		return err
	}
	// The customer's cart keeps its currency: anonymous lines priced in another currency are
	// not merged (one cart never mixes currencies), and stay out rather than replace it.
	currency := ""
	for _, l := range ours {
		if v, ok := variants[l.VariantID]; ok {
			currency = v.Price.Currency
			break
		}
	}
	for _, l := range theirs {
		v, ok := variants[l.VariantID]
		if ok && currency == "" {
			currency = v.Price.Currency
		}
		if ok && v.Price.Currency != currency {
			continue
		}
		want := have[l.VariantID] + l.Quantity
		if ok && v.Stock < want {
			want = max(v.Stock, have[l.VariantID])
		}
		want = min(want, MaxLineQuantity)
		if want <= 0 {
			continue
		}
		if err := q.CartLineSet(ctx, db.CartLineSetParams{CartID: into, VariantID: l.VariantID, Quantity: want}); err != nil {
			return err
		}
	}
	return q.CartDelete(ctx, from)
}

func (s *Service) newAnonymous(ctx context.Context, q *db.Queries) (string, int64, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", 0, err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	c, err := q.CartInsertAnonymous(ctx, hashToken(token))
	if err != nil {
		return "", 0, fmt.Errorf("insert cart: %w", err)
	}
	return token, c.ID, nil
}

// checkAddable refuses a variant that does not exist, is deleted, belongs to an archived
// product, or is priced in another currency than the cart's other lines.
func (s *Service) checkAddable(ctx context.Context, q *db.Queries, cartID, variantID int64) error {
	v, err := q.CartVariantCheck(ctx, db.CartVariantCheckParams{CartID: cartID, VariantID: variantID})
	if postgres.IsNotFound(err) || (err == nil && (v.DeletedAt != nil || v.ProductStatus != db.ProductStatusACTIVE)) {
		return apperr.FieldError(apperr.NotFound, "No variant has this ID.", "input", "variantId")
	}
	if err != nil {
		return fmt.Errorf("check variant: %w", err)
	}
	for _, c := range v.LineCurrencies {
		if c != v.Currency {
			return apperr.FieldError(apperr.CurrencyMismatch,
				fmt.Sprintf("This cart is in %s; this item is priced in %s.", c, v.Currency), "input", "variantId")
		}
	}
	return nil
}

// view reads a cart with current prices and availability.
func (s *Service) view(ctx context.Context, id int64) (Cart, error) {
	c := Cart{ID: id, Lines: []Line{}}
	if id == 0 {
		return c, nil
	}
	// A line whose variant row is gone for good was removed with it (ON DELETE CASCADE).
	rows, err := s.db.CartLineListWithVariants(ctx, id)
	if err != nil {
		return Cart{}, fmt.Errorf("list cart lines: %w", err)
	}
	pids := make([]int64, len(rows))
	for i, r := range rows {
		pids[i] = r.ProductVariant.ProductID
	}
	products, err := s.catalog.ListByIDs(ctx, pids)
	if err != nil {
		return Cart{}, err
	}
	for _, row := range rows {
		r, v := row.CartLine, product.VariantOf(row.ProductVariant)
		p := products[v.ProductID]
		total, _ := v.Price.Mul(int64(r.Quantity))
		available := int(v.Stock)
		if v.DeletedAt != nil || p.Status != product.StatusActive {
			available = 0
		}
		c.Lines = append(c.Lines, Line{
			Variant: v, Product: p, Quantity: int(r.Quantity), UnitPrice: v.Price, LineTotal: total,
			Available: available >= int(r.Quantity), AvailableQuantity: available,
		})
	}
	return c, nil
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func isCheckViolation(err error) bool {
	return err != nil && apperr.Is(postgres.MapError(err, "cart line"), apperr.BadUserInput)
}

// variantsIn reads variants inside the caller's transaction. Reads made while a transaction is
// open must use its connection: taking a second one from the pool could wait forever once
// every connection is held by a transaction waiting for another.
func variantsIn(ctx context.Context, q *db.Queries, ids []int64) (map[int64]variantInfo, error) {
	out := make(map[int64]variantInfo, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.VariantListByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list variants: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = variantInfo{ProductID: r.ProductID, Stock: r.Stock, DeletedAt: r.DeletedAt, Price: money.New(r.PriceAmount, r.Currency)}
	}
	return out, nil
}

// variantInfo is what cart rules need of a variant.
type variantInfo struct {
	ProductID int64
	Stock     int32
	DeletedAt *time.Time
	Price     money.Money
}
