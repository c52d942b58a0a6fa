// Package checkout turns a customer's cart into an order, once: in one transaction it claims
// the idempotency key, locks the cart and its variants (in variant order), validates the cart,
// takes the stock with one guarded update, writes the order with a snapshot of every line and
// its first event, and empties the cart (four statements, whatever the cart holds), inserts its
// expiry job and its confirmation email's job, then COMMIT.
package checkout

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/address"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/inventory"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/postgres/fastpath"
)

// Service is the checkout use case.
type Service struct {
	// Observer counts orders created (metrics); may be nil.
	Observer interface{ OrderCreated() }
	// Notifier owes the customer the order's confirmation email, in the order's transaction
	// (notify.Service); may be nil.
	Notifier interface {
		OrderPlaced(ctx context.Context, tx pgx.Tx, orderID int64) error
	}
	// Webhooks owes the order's ORDER_CREATED webhooks and the STOCK_CHANGED ones of the stock
	// it took, in the order's transaction (webhook.Service); may be nil.
	Webhooks interface {
		OrderPlaced(ctx context.Context, tx pgx.Tx, orderID int64, stock []catalog.StockMovement) error
	}
	// LowStock, when set, is told in the order's transaction of the variants the order took
	// from above their low-stock threshold to at or under it (the vendor's email); it is called
	// only when a line crossed, so an ordinary checkout pays nothing for it. May be nil.
	LowStock catalog.LowStockHook

	db       *postgres.DB
	orders   *order.Service
	payments *payment.Service
	log      *slog.Logger
}

// NewService returns a checkout service.
func NewService(d *postgres.DB, orders *order.Service, payments *payment.Service, log *slog.Logger) *Service {
	return &Service{db: d, orders: orders, payments: payments, log: log}
}

// Input is a checkout request.
type Input struct {
	IdempotencyKey  string
	ShippingAddress order.Address
	// ShippingAddressID is one of the customer's saved addresses (internal/address), in place
	// of ShippingAddress, which must then be empty; 0 when the address is typed in.
	ShippingAddressID int64
	// PaymentMethodID, when set, is a saved method of the viewer's to charge at once (method.go).
	PaymentMethodID string
	// PaymentProvider takes the payment: "paypal", or "" / "stripe" for the default.
	PaymentProvider string
}

// Result is the order a checkout created or, for a replay, created earlier, with its payment.
type Result struct {
	Order    order.Order
	Replayed bool
	// Lines are the new order's lines (none for a replay: load them).
	Lines []order.Line
	// Payment is the order's payment intent; PaymentErr says why there is none yet (the
	// provider was unreachable: the order stands, and orderPaymentRetry asks again).
	Payment    payment.Payment
	PaymentErr error
}

// Complete checks out v's cart.
// Errors: INVALID (address, key), INVALID_COUNTRY, INVALID_POSTAL_CODE, NOT_FOUND (a saved
// address or payment method that is not v's), IDEMPOTENCY_KEY_REUSED, CART_EMPTY,
// LINE_UNAVAILABLE, CURRENCY_MISMATCH, OUT_OF_STOCK (with *inventory.OutOfStockError); nothing
// changes on any of them.
func (s *Service) Complete(ctx context.Context, v auth.Viewer, in Input) (Result, error) {
	in.IdempotencyKey = strings.TrimSpace(in.IdempotencyKey)
	if err := validate(&in); err != nil {
		return Result{}, err
	}
	if err := s.validProvider(in); err != nil {
		return Result{}, err
	}
	// The saved method is checked with the provider now, before the transaction.
	choice, err := s.chooseMethod(ctx, v, in)
	if err != nil {
		return Result{}, err
	}
	fingerprint := fingerprintOf(in)
	var (
		res   Result
		began db.CheckoutBeginRow
		lines []db.CheckoutLinesRow
	)
	if in.ShippingAddressID != 0 {
		if err := s.savedAddress(ctx, v, &in, fingerprint); err != nil {
			return Result{}, err
		}
	}
	// Variants are locked in id order, so deadlocks should not happen; a serialisation
	// failure or deadlock is still run again (InTxBegunWith) rather than shown to the
	// customer. BEGIN goes with the transaction's first pipeline: the key's claim and the cart.
	err = s.db.InTxBegunWith(ctx,
		func(ctx context.Context, q *db.Queries) func() error {
			return queueClaim(ctx, q, v, in, fingerprint, &began, &lines)
		},
		func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
			var err error
			res, err = s.completeTx(ctx, tx, q, v, in, fingerprint, began, lines)
			return err
		})
	if err != nil {
		return Result{}, err
	}
	// The provider is called only now, after commit, never inside the transaction; a replay
	// returns the intent created the first time (the key is derived from the order).
	switch {
	case in.PaymentMethodID != "" && res.Order.Status == order.Pending:
		res.Payment, res.PaymentErr = s.payments.IntentWithMethod(ctx, res.Order, choice)
	case !res.Replayed:
		res.Payment, res.PaymentErr = s.payments.NewIntentAt(ctx, res.Order, in.PaymentProvider)
	case res.Order.Status == order.Pending:
		res.Payment, res.PaymentErr = s.payments.EnsureIntent(ctx, res.Order)
	default:
		res.Payment, res.PaymentErr = s.payments.ForOrder(ctx, res.Order.ID)
	}
	return res, nil
}

// queueClaim queues the checkout transaction's first statements on q, a fastpath pipeline's
// queries that BEGIN goes with: the key's claim with the cart's lock, and the lines with
// their variants' locks. The returned function reads them into began and lines.
func queueClaim(ctx context.Context, q *db.Queries, v auth.Viewer, in Input, fingerprint []byte, began *db.CheckoutBeginRow, lines *[]db.CheckoutLinesRow) func() error {
	claim := q.CheckoutBegin(ctx, []db.CheckoutBeginParams{{
		UserID: v.UserID, IdempotencyKey: in.IdempotencyKey, Fingerprint: fingerprint,
	}})
	cart := q.CheckoutLines(ctx, []db.CheckoutLinesParams{{UserID: &v.UserID, IdempotencyKey: in.IdempotencyKey}})
	return func() (err error) {
		claim.QueryRow(func(_ int, r db.CheckoutBeginRow, e error) { *began, err = r, e })
		if err == nil {
			cart.Query(func(_ int, r []db.CheckoutLinesRow, e error) { *lines, err = r, e })
		}
		if err != nil {
			return fmt.Errorf("claim idempotency key, read cart: %w", err)
		}
		return nil
	}
}

// completeTx is the checkout's transaction after its first pipeline (queueClaim) up to its
// COMMIT (Complete's), whatever the cart holds: [the stock, the order], a fastpath pipeline
// (one round trip), then the expiry job. A new order's side effects (its event published,
// the stock caches, the metric) wait for the commit.
func (s *Service) completeTx(ctx context.Context, tx pgx.Tx, q *db.Queries, v auth.Viewer, in Input, fingerprint []byte, began db.CheckoutBeginRow, lines []db.CheckoutLinesRow) (Result, error) {
	if began.Claimed == 0 {
		return replay(ctx, q, v, in, fingerprint)
	}
	if began.CartID == 0 || len(lines) == 0 {
		return Result{}, apperr.New(apperr.CartEmpty, "Your cart is empty.")
	}
	place, items, err := snapshot(lines)
	if err != nil {
		return Result{}, err
	}
	place.UserID, place.CartID, place.IdempotencyKey = &v.UserID, began.CartID, in.IdempotencyKey
	place.Status, place.Note = db.OrderStatusPENDING, placedNote
	place.ShippingAddress, _ = json.Marshal(in.ShippingAddress)
	// The stock and the order go together; on a shortage the order written with them is
	// rolled back with the transaction.
	var (
		write  fastpath.Pipeline
		placed []db.CheckoutPlaceOrderRow
	)
	wq := write.Queries()
	reservation := inventory.QueueReserve(ctx, wq, items)
	placeOrder := wq.CheckoutPlaceOrder(ctx, []db.CheckoutPlaceOrderParams{place})
	err = write.Run(ctx, tx, func() (err error) {
		if err := reservation.Read(); err != nil {
			return err
		}
		placeOrder.Query(func(_ int, r []db.CheckoutPlaceOrderRow, e error) { placed, err = r, e })
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("reserve stock, place order: %w", err)
	}
	touched, err := reservation.Result(ctx, q)
	if err != nil {
		return Result{}, err
	}
	if len(placed) != len(lines) {
		return Result{}, fmt.Errorf("place order: %d lines written for %d", len(placed), len(lines))
	}
	// The reservation judged status changes by the platform's threshold; a variant's own (or
	// its vendor's) may be higher, and the order's statement returned it.
	for _, p := range placed {
		if p.StockAfter <= p.LowStockThreshold {
			touched.StatusChanged = true
		}
	}
	first := placed[0]
	// The expiry job is committed with the order: it can neither be lost nor outlive a
	// rolled-back order.
	if err := s.payments.Jobs.ScheduleExpiry(ctx, tx, first.OrderID, first.OrderCreatedAt.Add(s.payments.ExpireAfter)); err != nil {
		return Result{}, err
	}
	// So is the provider chosen, when it is not the default: every retry of the order's
	// payment asks it (no statement for Stripe's).
	if err := s.payments.ChooseProviderTx(ctx, q, first.OrderID, in.PaymentProvider); err != nil {
		return Result{}, err
	}
	// So is the confirmation email's job: a rolled-back order sends nothing.
	if s.Notifier != nil {
		if err := s.Notifier.OrderPlaced(ctx, tx, first.OrderID); err != nil {
			return Result{}, err
		}
	}
	// And so are its webhooks: the order, and the stock it took. The order's statement said
	// whether anyone subscribes to them; when nobody does, they cost nothing more.
	if s.Webhooks != nil && first.WebhooksWanted {
		moves := make([]catalog.StockMovement, len(items))
		for i, it := range items {
			moves[i] = catalog.StockMovement{VariantID: it.VariantID, Delta: -it.Quantity, Reason: catalog.ReasonSale}
		}
		if err := s.Webhooks.OrderPlaced(ctx, tx, first.OrderID, moves); err != nil {
			return Result{}, err
		}
	}
	// The sales' movements were written by the order's statement, which returned the stock
	// left and each variant's threshold: the variants they took under it are told in the
	// transaction (nothing when no hook is set; no statement either way).
	if s.LowStock != nil {
		if err := s.lowStock(ctx, tx, place, placed); err != nil {
			return Result{}, err
		}
	}
	row := db.Order{
		ID: first.OrderID, UserID: &v.UserID, Status: place.Status, Currency: place.Currency,
		TotalAmount: place.TotalAmount, ShippingAddress: place.ShippingAddress,
		CreatedAt: first.OrderCreatedAt, UpdatedAt: first.OrderUpdatedAt,
	}
	lineIDs := make(map[int64]int64, len(placed)) // variant id → line id (one line per variant)
	for _, p := range placed {
		lineIDs[p.VariantID] = p.LineID
	}
	res := Result{Order: order.FromRow(row), Lines: make([]order.Line, len(placed))}
	for i, variantID := range place.VariantIds {
		res.Lines[i] = order.LineOf(db.OrderLine{
			ID: lineIDs[variantID], OrderID: row.ID, ProductID: place.ProductIds[i], VariantID: variantID,
			VendorID: vendorOf(place.VendorIds[i]), ProductName: place.ProductNames[i], VariantName: place.VariantNames[i],
			SKU: place.Skus[i], UnitPrice: place.UnitPrices[i], Currency: place.Currency, Quantity: place.Quantities[i],
			LineTotal: place.LineTotals[i], CommissionBps: commissionOf(place.VendorIds[i], place.CommissionBps[i]),
		})
	}
	event := order.EventOf(db.OrderEvent{
		OrderID: row.ID, Sequence: first.EventSequence, FeedPosition: first.EventFeedPosition, Status: place.Status,
		ActorID: &v.UserID, Note: place.Note, CreatedAt: first.EventCreatedAt,
	})
	s.orders.Placed(ctx, res.Order, res.Lines, event, touched)
	if s.Observer != nil {
		postgres.AfterCommit(ctx, func(context.Context) { s.Observer.OrderCreated() })
	}
	return res, nil
}

// placedNote is the note of an order's first event.
const placedNote = "order placed"

// replay answers a key that was claimed before (or by a concurrent request that has now
// committed): the same request gets the same order, another request IDEMPOTENCY_KEY_REUSED.
func replay(ctx context.Context, q *db.Queries, v auth.Viewer, in Input, fingerprint []byte) (Result, error) {
	prior, err := q.CheckoutRequestGet(ctx, db.CheckoutRequestGetParams{UserID: v.UserID, IdempotencyKey: in.IdempotencyKey})
	if err != nil {
		return Result{}, fmt.Errorf("get idempotency key: %w", err)
	}
	if !bytes.Equal(prior.Fingerprint, fingerprint) || prior.OrderID == nil {
		return Result{}, apperr.FieldError(apperr.IdempotencyReused,
			"This idempotency key was already used for a different checkout.", "input", "idempotencyKey")
	}
	row, err := q.OrderGetByID(ctx, *prior.OrderID)
	if err != nil {
		return Result{}, fmt.Errorf("get replayed order: %w", err)
	}
	return Result{Order: order.FromRow(row), Replayed: true}, nil
}

// snapshot validates every line before stock is touched and freezes it for the order: the
// prices are the ones read now, inside the transaction, so the order holds the price at
// checkout time. The order's lines keep the cart's order (the order they were added in).
func snapshot(lines []db.CheckoutLinesRow) (db.CheckoutPlaceOrderParams, []inventory.Item, error) {
	lines = slices.Clone(lines) // locked in variant order; listed in cart order
	slices.SortStableFunc(lines, func(a, b db.CheckoutLinesRow) int {
		return cmp.Or(a.AddedAt.Compare(b.AddedAt), cmp.Compare(a.ProductVariant.ID, b.ProductVariant.ID))
	})
	n := len(lines)
	place := db.CheckoutPlaceOrderParams{
		ProductIds: make([]int64, n), VariantIds: make([]int64, n), VendorIds: make([]int64, n),
		ProductNames: make([]string, n), VariantNames: make([]string, n), Skus: make([]string, n),
		UnitPrices: make([]int64, n), Quantities: make([]int32, n), LineTotals: make([]int64, n),
		CommissionBps: make([]int32, n),
	}
	items := make([]inventory.Item, n)
	var total money.Total
	for i, l := range lines {
		vr := l.ProductVariant
		if vr.DeletedAt != nil || l.ProductStatus != db.ProductStatusACTIVE || !l.VendorActive {
			return place, nil, &apperr.Error{Code: apperr.LineUnavailable,
				Message: "An item in your cart is no longer sold; remove it to check out.",
				Err:     &inventory.OutOfStockError{VariantID: vr.ID, Requested: int(l.Quantity)}}
		}
		if i == 0 {
			place.Currency = vr.Currency
		}
		if vr.Currency != place.Currency {
			return place, nil, apperr.New(apperr.CurrencyMismatch, "Your cart mixes currencies; check out one currency at a time.")
		}
		lineTotal, err := total.AddLine(money.New(vr.PriceAmount, vr.Currency), int64(l.Quantity))
		if err != nil {
			return place, nil, money.TooLarge(err, "The order total", "check out fewer items at a time")
		}
		items[i] = inventory.Item{VariantID: vr.ID, Quantity: int(l.Quantity)}
		place.ProductIds[i], place.VariantIds[i] = vr.ProductID, vr.ID
		if l.VendorID != nil {
			place.VendorIds[i] = *l.VendorID
		}
		if l.VendorCommissionBps != nil {
			place.CommissionBps[i] = *l.VendorCommissionBps // the vendor's rate at checkout
		}
		place.ProductNames[i], place.VariantNames[i], place.Skus[i] = l.ProductName, vr.Name, vr.SKU
		place.UnitPrices[i], place.Quantities[i], place.LineTotals[i] = vr.PriceAmount, l.Quantity, lineTotal.Amount
	}
	place.TotalAmount = total.Sum().Amount
	return place, items, nil
}

// commissionOf is a snapshot line's commission rate as CheckoutPlaceOrder stores it: none on a
// platform line.
func commissionOf(vendorID int64, bps int32) *int32 {
	if vendorID == 0 {
		return nil
	}
	return &bps
}

// vendorOf is a snapshot line's vendor: 0 stands for none in CheckoutPlaceOrder's arrays.
func vendorOf(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// fingerprintOf identifies a request: the same key must come with the same address (typed in,
// or the same saved address, whatever it holds by the time of a retry). The cart is not part
// of it, because a completed checkout empties the cart and a replay must still return the
// same order.
func fingerprintOf(in Input) []byte {
	b, _ := json.Marshal(in.ShippingAddress)
	if in.ShippingAddressID != 0 {
		b = fmt.Appendf(nil, "shippingAddressId:%d", in.ShippingAddressID)
	}
	if in.PaymentMethodID != "" {
		// The same key must come with the same method too; without one, the fingerprint is
		// what it always was.
		b = append(append(b, "\x00paymentMethod:"...), in.PaymentMethodID...)
	}
	if in.PaymentProvider != "" && in.PaymentProvider != payment.ProviderStripe {
		// And with the same provider; Stripe's (the default) leaves it as it was.
		b = append(append(b, "\x00paymentProvider:"...), in.PaymentProvider...)
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// validate checks in and puts a typed-in address in its written form (address.Clean, the
// address book's rules).
func validate(in *Input) error {
	var errs apperr.List
	field := func(msg string, path ...string) {
		errs = append(errs, apperr.FieldError(apperr.Invalid, msg, append([]string{"input"}, path...)...))
	}
	if in.IdempotencyKey == "" || len(in.IdempotencyKey) > 255 {
		field("An idempotency key of 1 to 255 characters is required (input or Idempotency-Key header).", "idempotencyKey")
	}
	inline := in.ShippingAddress != order.Address{}
	switch {
	case inline && in.ShippingAddressID != 0:
		field("Give either shippingAddress or shippingAddressId, not both.", "shippingAddressId")
	case !inline && in.ShippingAddressID == 0:
		field("A shipping address is required: shippingAddress or shippingAddressId.", "shippingAddress")
	case inline:
		a, err := address.Clean(address.Postal(in.ShippingAddress), "input", "shippingAddress")
		var bad apperr.List
		if errors.As(err, &bad) {
			errs = append(errs, bad...)
		}
		in.ShippingAddress = order.Address(a)
	}
	return errs.Err()
}

// validProvider refuses a provider the shop has not configured, and PayPal with a saved card.
func (s *Service) validProvider(in Input) error {
	switch {
	case in.PaymentProvider == "" || in.PaymentProvider == payment.ProviderStripe:
		return nil
	case in.PaymentMethodID != "":
		return apperr.FieldError(apperr.Invalid, "A saved card is charged through Stripe: leave paymentProvider out, or paymentMethodId.", "input", "paymentProvider")
	case !s.payments.HasProvider(in.PaymentProvider):
		return apperr.FieldError(apperr.Invalid, "This shop does not take payments with this provider.", "input", "paymentProvider")
	}
	return nil
}

// savedAddress puts the customer's saved address in.ShippingAddressID into in, read before
// the transaction (the one round trip a saved address costs; a typed-in one costs none). An
// address that is not the customer's is NOT_FOUND, unless this is the retry of a checkout
// that placed its order (the address may be deleted since): the transaction then finds the
// key claimed and answers with that order.
func (s *Service) savedAddress(ctx context.Context, v auth.Viewer, in *Input, fingerprint []byte) error {
	saved, err := address.Owned(ctx, s.db.Queries, v.UserID, in.ShippingAddressID, "input", "shippingAddressId")
	if apperr.Is(err, apperr.NotFound) {
		if prior, replayErr := replay(ctx, s.db.Queries, v, *in, fingerprint); replayErr == nil {
			in.ShippingAddress = prior.Order.ShippingAddress // never an empty one, whatever happens next
			return nil
		}
	}
	if err != nil {
		return err
	}
	in.ShippingAddress = order.Address(saved)
	return nil
}

// lowStock tells the LowStock hook of the variants the order took from above their low-stock
// threshold to at or under it, from what the order's statement returned.
func (s *Service) lowStock(ctx context.Context, tx pgx.Tx, place db.CheckoutPlaceOrderParams, placed []db.CheckoutPlaceOrderRow) error {
	type sold struct {
		quantity int
		vendorID *int64
	}
	lines := make(map[int64]sold, len(place.VariantIds))
	for i, id := range place.VariantIds {
		lines[id] = sold{quantity: int(place.Quantities[i]), vendorID: vendorOf(place.VendorIds[i])}
	}
	candidates := make([]catalog.LowStockCrossing, len(placed))
	before := make([]int, len(placed))
	for i, p := range placed {
		l := lines[p.VariantID]
		candidates[i] = catalog.LowStockCrossing{VariantID: p.VariantID, VendorID: l.vendorID,
			Quantity: int(p.StockAfter), Threshold: int(p.LowStockThreshold)}
		before[i] = int(p.StockAfter) + l.quantity
	}
	return catalog.NotifyLowStock(ctx, tx, s.LowStock, candidates, before)
}
