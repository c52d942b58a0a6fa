package cart

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"time"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/postgres/fastpath"
)

// Service is the cart use cases.
type Service struct {
	db *postgres.DB
}

// NewService returns a cart service.
func NewService(d *postgres.DB) *Service {
	return &Service{db: d}
}

// Get returns the owner's cart (empty when there is none yet), merging a guest cart into a
// signed-in customer's first. Otherwise it writes nothing, so that a query stays a read: a cart
// without lines needs no row, and its ID comes from its owner (idOf). A guest without a
// well-formed token is issued one (Cart.Token), and the first change creates the cart under it,
// so the cart keeps the ID this answer gives it.
//
// A signed-in customer who presents a guest token is read with it in one statement, before any
// transaction: most such tokens are left over from browsing before signing in and have no cart
// (or none with lines). Then nothing is merged and Merged tells the client to forget the token,
// so that later requests do not pay for it again; only a guest cart with lines is merged in a
// transaction. An empty guest cart is left to the purge of untouched guest carts.
func (s *Service) Get(ctx context.Context, o Owner) (Cart, error) {
	if o.UserID == nil && !validToken(o.Token) {
		token, err := newToken()
		if err != nil {
			return Cart{}, err
		}
		return Cart{id: idOf(Owner{Token: token}), Lines: []Line{}, Token: token}, nil
	}
	if o.UserID == nil || o.Token == "" {
		return s.read(ctx, o)
	}
	customer := Owner{UserID: o.UserID}
	rows, err := s.db.CartView(ctx, db.CartViewParams{UserID: o.UserID, TokenHash: hashToken(o.Token)})
	if err != nil {
		return Cart{}, fmt.Errorf("list cart lines: %w", err)
	}
	if !slices.ContainsFunc(rows, func(r db.CartViewRow) bool { return r.Guest }) {
		c := cartOf(rows)
		c.id, c.Merged = idOf(customer), true
		return c, nil
	}
	err = s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		_, _, err := s.find(ctx, q, o, false)
		return err
	})
	if err != nil {
		return Cart{}, err
	}
	c, err := s.read(ctx, customer)
	c.Merged = true
	return c, err
}

// ByID returns the cart of global ID id to its owner (Owner.owns) without changing anything:
// no merge, no touch. Errors: NOT_FOUND, for any ID but the owner's own carts'.
func (s *Service) ByID(ctx context.Context, o Owner, id string) (Cart, error) {
	mine, ok := o.owns(id)
	if !ok {
		return Cart{}, apperr.New(apperr.NotFound, "No cart has this ID.")
	}
	return s.read(ctx, mine)
}

// read returns the cart of a customer or of a guest's token (o holds one of the two), empty
// when it has no row, in one statement.
func (s *Service) read(ctx context.Context, o Owner) (Cart, error) {
	which := db.CartViewParams{UserID: o.UserID}
	if o.UserID == nil {
		which.TokenHash = hashToken(o.Token)
	}
	c, err := s.view(ctx, which)
	c.id = idOf(o)
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
// put in a cart). A signed-in customer's cart is locked, changed and read back in one round
// trip (a fastpath pipeline, one implicit transaction); other owners go through change.
func (s *Service) put(ctx context.Context, o Owner, arg db.CartItemPutParams) (Cart, error) {
	if o.UserID == nil || o.Token != "" {
		return s.change(ctx, o, func(q *db.Queries, cartID int64) error {
			arg.CartID = &cartID
			return putResult(putOne(ctx, q, arg))
		})
	}
	arg.UserID = o.UserID
	var (
		p    fastpath.Pipeline
		res  db.CartItemPutRow
		rows []db.CartViewRow
	)
	q := p.Queries()
	lock := q.CartLockForUser(ctx, []*int64{o.UserID})
	put := q.CartItemPut(ctx, []db.CartItemPutParams{arg})
	view := q.CartViewQueued(ctx, []db.CartViewQueuedParams{{UserID: o.UserID}})
	err := s.db.RunPipeline(ctx, &p, func() (err error) {
		lock.Exec(func(_ int, e error) { err = e })
		if err != nil {
			return err
		}
		put.QueryRow(func(_ int, r db.CartItemPutRow, e error) { res, err = r, e })
		if err != nil {
			return err
		}
		view.Query(func(_ int, queued []db.CartViewQueuedRow, e error) {
			rows, err = make([]db.CartViewRow, len(queued)), e
			for i, r := range queued {
				rows[i] = db.CartViewRow(r)
			}
		})
		return err
	})
	if err := putResult(res, err); err != nil {
		return Cart{}, err
	}
	c := cartOf(rows)
	c.id = idOf(o)
	return c, nil
}

// putOne runs CartItemPut on its own.
func putOne(ctx context.Context, q *db.Queries, arg db.CartItemPutParams) (res db.CartItemPutRow, err error) {
	q.CartItemPut(ctx, []db.CartItemPutParams{arg}).QueryRow(func(_ int, r db.CartItemPutRow, e error) { res, err = r, e })
	return res, err
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

// change runs fn on the owner's cart (created if needed) in one transaction. A guest's cart is
// created under the token they present when it is well formed (a token issued by Get before the
// cart existed), so that the cart keeps the ID Get gave it; a guest without one is issued a
// new token.
func (s *Service) change(ctx context.Context, o Owner, fn func(q *db.Queries, cartID int64) error) (Cart, error) {
	var (
		id       int64
		merged   bool
		newToken string
	)
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		var err error
		if o.UserID != nil {
			id, merged, err = s.find(ctx, q, o, true)
		} else {
			newToken, id, err = s.guestCart(ctx, q, o.Token)
		}
		if err != nil {
			return err
		}
		return fn(q, id)
	})
	if err != nil {
		return Cart{}, err
	}
	c, err := s.view(ctx, db.CartViewParams{CartID: &id})
	c.Token, c.Merged = newToken, merged
	if newToken != "" {
		o.Token = newToken
	}
	c.id = idOf(o)
	return c, err
}

// guestCart returns the id of the guest cart of token, creating it if need be, and marks it
// changed: guest carts left unchanged for long are purged (PurgeGuests). A token that is not well formed (none, or one
// the server never issued) is replaced by a new one, returned as issued.
func (s *Service) guestCart(ctx context.Context, q *db.Queries, token string) (issued string, id int64, err error) {
	if !validToken(token) {
		if issued, err = newToken(); err != nil {
			return "", 0, err
		}
		token = issued
	}
	// An upsert: two first changes under one token meet on the token's unique index, and the
	// second waits for the first and takes its cart.
	id, err = q.CartUpsertAnonymous(ctx, hashToken(token))
	if err != nil {
		return "", 0, fmt.Errorf("upsert guest cart: %w", err)
	}
	return issued, id, nil
}

// find returns the signed-in customer's cart id. A customer who also presents a guest cart's
// token gets that cart merged into theirs: quantities added, capped by stock, and the guest
// cart deleted. Without create and without a guest cart to merge, it writes nothing and id is
// 0 when the customer has no cart yet. spent is true when a token was presented: merged, or
// without a cart, it is of no more use and the client may forget it.
func (s *Service) find(ctx context.Context, q *db.Queries, o Owner, create bool) (id int64, spent bool, err error) {
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
	spent = o.Token != ""
	if anon == nil && !create {
		return 0, spent, nil
	}
	mine, err := q.CartUpsertForUser(ctx, o.UserID)
	if err != nil {
		return 0, false, fmt.Errorf("upsert cart: %w", err)
	}
	if anon == nil {
		return mine.ID, spent, nil
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

// view reads a cart with current prices and availability.
func (s *Service) view(ctx context.Context, which db.CartViewParams) (Cart, error) {
	rows, err := s.db.CartView(ctx, which)
	if err != nil {
		return Cart{}, fmt.Errorf("list cart lines: %w", err)
	}
	return cartOf(rows), nil
}

// cartOf is a cart as its owner sees it, from its lines: current prices, and availability.
// A line of an archived product, a deleted variant or a vendor that is not ACTIVE is
// unavailable. A line whose variant row is gone for good was removed with it (ON DELETE CASCADE).
func cartOf(rows []db.CartViewRow) Cart {
	c := Cart{Lines: make([]Line, 0, len(rows))}
	for _, row := range rows {
		v := catalog.VariantOf(row.ProductVariant)
		available := int(v.Stock)
		if v.DeletedAt != nil || row.ProductStatus != db.ProductStatusACTIVE || !row.VendorActive {
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
