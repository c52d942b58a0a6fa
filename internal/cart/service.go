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
	db *postgres.DB
}

// NewService returns a cart service.
func NewService(d *postgres.DB) *Service {
	return &Service{db: d}
}

// Get returns the owner's cart (empty when there is none yet), merging an anonymous cart into
// a signed-in customer's first.
func (s *Service) Get(ctx context.Context, o Owner) (Cart, error) {
	if o.UserID != nil && o.Token == "" {
		// One round trip: the cart's id (creating the empty cart on the first look, so that it
		// has its ID from the start) and its lines.
		var (
			p    postgres.Pipeline
			id   int64
			rows []db.CartViewRow
		)
		postgres.QueueOne(&p, &id, db.CartIDForUser, *o.UserID)
		postgres.QueueAll(&p, &rows, db.CartView, postgres.Args(db.CartViewParams{UserID: o.UserID})...)
		if err := s.db.Run(ctx, &p); err != nil {
			return Cart{}, fmt.Errorf("view cart of user %d: %w", *o.UserID, err)
		}
		c := cartOf(rows)
		c.ID = id
		return c, nil
	}
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
	c := Cart{Lines: []Line{}}
	if id != 0 {
		c, err = s.view(ctx, db.CartViewParams{CartID: &id})
	}
	c.ID, c.Merged = id, merged
	return c, err
}

// ByID returns cart id to its owner (Owner.owns) without changing anything: no merge, no
// touch. Errors: NOT_FOUND, for a cart that does not exist and for someone else's alike.
func (s *Service) ByID(ctx context.Context, o Owner, id int64) (Cart, error) {
	notFound := apperr.New(apperr.NotFound, "No cart has this ID.")
	row, err := s.db.CartGetByID(ctx, id)
	if postgres.IsNotFound(err) {
		return Cart{}, notFound
	}
	if err != nil {
		return Cart{}, fmt.Errorf("get cart %d: %w", id, err)
	}
	if !o.owns(row.UserID, row.TokenHash) {
		return Cart{}, notFound
	}
	c, err := s.view(ctx, db.CartViewParams{CartID: &id})
	c.ID = id
	return c, err
}

// AddItem adds quantity units of a variant (to an existing line if there is one).
// Errors: INVALID, NOT_FOUND (variant), CURRENCY_MISMATCH.
func (s *Service) AddItem(ctx context.Context, o Owner, variantID int64, quantity int) (Cart, error) {
	if quantity < 1 || quantity > MaxLineQuantity {
		return Cart{}, apperr.FieldError(apperr.Invalid, fmt.Sprintf("Quantity must be 1 to %d.", MaxLineQuantity), "input", "quantity")
	}
	return s.put(ctx, o, db.CartItemPutParams{VariantID: variantID, Quantity: int32(quantity)})
}

// UpdateItem sets a line's quantity; 0 removes it. Errors: INVALID, NOT_FOUND.
func (s *Service) UpdateItem(ctx context.Context, o Owner, variantID int64, quantity int) (Cart, error) {
	if quantity < 0 || quantity > MaxLineQuantity {
		return Cart{}, apperr.FieldError(apperr.Invalid, fmt.Sprintf("Quantity must be 0 to %d.", MaxLineQuantity), "input", "quantity")
	}
	if quantity == 0 {
		return s.change(ctx, o, func(q *db.Queries, cartID int64) error {
			_, err := q.CartLineDelete(ctx, db.CartLineDeleteParams{CartID: cartID, VariantID: variantID})
			return err
		})
	}
	return s.put(ctx, o, db.CartItemPutParams{VariantID: variantID, Quantity: int32(quantity), SetQuantity: true})
}

// put puts a variant in the owner's cart (CartItemPut, which holds the rule of what may be
// put in a cart). A signed-in customer's cart is changed and read back in one round trip: the
// cart's lock, the put and the read go to PostgreSQL as one pipeline, one implicit
// transaction; other owners go through change.
func (s *Service) put(ctx context.Context, o Owner, arg db.CartItemPutParams) (Cart, error) {
	if o.UserID == nil || o.Token != "" {
		return s.change(ctx, o, func(q *db.Queries, cartID int64) error {
			arg.CartID = &cartID
			res, err := q.CartItemPut(ctx, arg)
			return putResult(res, err)
		})
	}
	arg.UserID = o.UserID
	var (
		p    postgres.Pipeline
		res  db.CartItemPutRow
		rows []db.CartViewRow
	)
	p.Exec(db.CartLockForUser, *o.UserID)
	postgres.QueueOne(&p, &res, db.CartItemPut, postgres.Args(arg)...)
	postgres.QueueAll(&p, &rows, db.CartView, postgres.Args(db.CartViewParams{UserID: o.UserID})...)
	if err := putResult(res, s.db.Run(ctx, &p)); err != nil {
		return Cart{}, err
	}
	return cartOf(rows), nil
}

// putResult is CartItemPut's verdict as an error: the rule it found broken, a line over the
// most units, or a failure.
func putResult(res db.CartItemPutRow, err error) error {
	switch {
	case isCheckViolation(err):
		return apperr.FieldError(apperr.Invalid, fmt.Sprintf("A line holds at most %d units.", MaxLineQuantity), "input", "quantity")
	case err != nil:
		return fmt.Errorf("put cart line: %w", err)
	case res.Problem == string(apperr.NotFound):
		return apperr.FieldError(apperr.NotFound, "No variant has this ID.", "input", "variantId")
	case res.Problem == string(apperr.CurrencyMismatch):
		return apperr.FieldError(apperr.CurrencyMismatch,
			fmt.Sprintf("This cart is in %s; this item is priced in %s.", res.CartCurrency, res.VariantCurrency), "input", "variantId")
	case res.Problem != "":
		return fmt.Errorf("put cart line: unknown problem %q", res.Problem)
	case res.Quantity == 0:
		return apperr.New(apperr.Conflict, "The cart changed meanwhile; try again.")
	}
	return nil
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
			return nil // a customer's cart never expires; a new anonymous cart is fresh
		}
		return q.CartTouch(ctx, id) // anonymous carts expire when left untouched
	})
	if err != nil {
		return Cart{}, err
	}
	c, err := s.view(ctx, db.CartViewParams{CartID: &id})
	c.ID, c.Token, c.Merged = id, newToken, merged
	return c, err
}

// find returns the owner's cart id (for an anonymous owner, 0 when none and create is false;
// a customer always has one). A signed-in owner who
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
		// A customer's cart has its ID from the first look: created empty if need be.
		id, err := q.CartIDForUser(ctx, *o.UserID)
		return id, false, err
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

// view reads a cart with current prices and availability.
func (s *Service) view(ctx context.Context, which db.CartViewParams) (Cart, error) {
	rows, err := s.db.CartView(ctx, which)
	if err != nil {
		return Cart{}, fmt.Errorf("list cart lines: %w", err)
	}
	return cartOf(rows), nil
}

// cartOf is a cart as its owner sees it, from its lines: current prices, and availability.
// A line whose variant row is gone for good was removed with it (ON DELETE CASCADE).
func cartOf(rows []db.CartViewRow) Cart {
	c := Cart{Lines: make([]Line, 0, len(rows))}
	if len(rows) > 0 {
		c.ID = rows[0].CartID
	}
	for _, row := range rows {
		v := product.VariantOf(row.ProductVariant)
		available := int(v.Stock)
		if v.DeletedAt != nil || row.ProductStatus != db.ProductStatusACTIVE {
			available = 0
		}
		c.Lines = append(c.Lines, Line{
			Variant: v, Quantity: int(row.Quantity), UnitPrice: v.Price,
			Available: available >= int(row.Quantity), AvailableQuantity: available,
		})
	}
	return c
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
