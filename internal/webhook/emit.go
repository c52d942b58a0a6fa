package webhook

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/order"
)

// The emitter: every method runs inside the transaction of the change it tells of (tx), writes
// one delivery row per matching subscription and their jobs (River's InsertManyTx) there, and
// costs one statement when nobody subscribes. A rolled-back change owes nothing.
//
// It implements checkout's Webhooks hook (OrderPlaced), order.WebhookEmitter (StatusChanged,
// StockChanged) and catalog.WebhookEmitter (ProductChanged, StockChanged). StockChanged is the
// one to call from anything else that moves stock (the inventory import).

// event is one event owed, before anyone is known to want it.
type event struct {
	typ          EventType
	resourceType string
	resourceID   int64
	resourceGID  string
	// load reads what the event says, only when a subscription wants it: the vendors it is
	// about, and its data as a subscription of scope sees it (scope nil: everything).
	load func(ctx context.Context, q *db.Queries) (vendors []int64, data func(scope *int64) any, err error)
}

// emit writes the deliveries of events for the subscriptions that want them, and their jobs.
func (s *Service) emit(ctx context.Context, tx pgx.Tx, events []event) error {
	if len(events) == 0 {
		return nil
	}
	q := db.New(tx)
	var types []string
	for _, e := range events {
		if !slices.Contains(types, string(e.typ)) {
			types = append(types, string(e.typ))
		}
	}
	subs, err := q.WebhookSubscriptionsMatching(ctx, types)
	if err != nil {
		return fmt.Errorf("match webhook subscriptions: %w", err)
	}
	if len(subs) == 0 {
		return nil
	}
	type owed struct {
		e    event
		data func(scope *int64) any
		subs []db.WebhookSubscriptionsMatchingRow
	}
	var todo []owed
	for _, e := range events {
		var wanting []db.WebhookSubscriptionsMatchingRow
		for _, sub := range subs {
			if slices.Contains(sub.EventTypes, string(e.typ)) {
				wanting = append(wanting, sub)
			}
		}
		if len(wanting) == 0 {
			continue
		}
		vendors, data, err := e.load(ctx, q)
		if err != nil {
			return err
		}
		wanting = slices.DeleteFunc(wanting, func(sub db.WebhookSubscriptionsMatchingRow) bool { return !Receives(sub.VendorID, vendors) })
		if len(wanting) > 0 {
			todo = append(todo, owed{e, data, wanting})
		}
	}
	if len(todo) == 0 {
		return nil
	}
	seqs, err := s.takeSequences(ctx, q, len(todo), func(i int) resourceKey { return resourceKey{todo[i].e.resourceType, todo[i].e.resourceID} })
	if err != nil {
		return err
	}
	var p db.WebhookDeliveryInsertParams
	now := time.Now().UTC()
	for i, o := range todo {
		e, seq := o.e, seqs[i]
		id, err := newEventID()
		if err != nil {
			return err
		}
		for _, sub := range o.subs {
			body, err := envelope(id, e.typ, now, Resource{Type: e.resourceType, ID: e.resourceGID}, seq, o.data(sub.VendorID))
			if err != nil {
				return err
			}
			p.SubscriptionIds = append(p.SubscriptionIds, sub.ID)
			p.EventIds = append(p.EventIds, id)
			p.EventTypes = append(p.EventTypes, string(e.typ))
			p.ResourceTypes = append(p.ResourceTypes, e.resourceType)
			p.ResourceIds = append(p.ResourceIds, e.resourceID)
			p.Sequences = append(p.Sequences, seq)
			p.Bodies = append(p.Bodies, body)
		}
	}
	if len(p.SubscriptionIds) == 0 {
		return nil
	}
	ids, err := q.WebhookDeliveryInsert(ctx, p)
	if err != nil {
		return fmt.Errorf("insert webhook deliveries: %w", err)
	}
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = s.jobParams(id, false)
	}
	return s.jobs.InsertManyTx(ctx, tx, params)
}

// resourceKey names a resource's sequence.
type resourceKey struct {
	typ string
	id  int64
}

// takeSequences numbers the events of items (key gives each one's resource) in one
// statement: a resource's events in a call get consecutive numbers, in the items' order.
func (s *Service) takeSequences(ctx context.Context, q *db.Queries, n int, key func(int) resourceKey) ([]int64, error) {
	counts := map[resourceKey]int64{}
	for i := range n {
		counts[key(i)]++
	}
	keys := make([]resourceKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b resourceKey) int {
		if c := strings.Compare(a.typ, b.typ); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	arg := db.WebhookSequenceTakeParams{}
	for _, k := range keys {
		arg.ResourceTypes = append(arg.ResourceTypes, k.typ)
		arg.ResourceIds = append(arg.ResourceIds, k.id)
		arg.Counts = append(arg.Counts, counts[k])
	}
	rows, err := q.WebhookSequenceTake(ctx, arg)
	if err != nil {
		return nil, fmt.Errorf("number webhook events: %w", err)
	}
	next := make(map[resourceKey]int64, len(rows)) // the first number of each resource's events
	for _, r := range rows {
		k := resourceKey{r.ResourceType, r.ResourceID}
		next[k] = r.LastSequence - counts[k] + 1
	}
	out := make([]int64, n)
	for i := range n {
		k := key(i)
		out[i] = next[k]
		next[k]++
	}
	return out, nil
}

// envelope is a delivery's body.
func envelope(id string, typ EventType, at time.Time, res Resource, seq int64, data any) ([]byte, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", typ, err)
	}
	return json.Marshal(Envelope{ID: id, Type: typ, CreatedAt: at, Resource: res, Sequence: seq, Data: raw})
}

// OrderPlaced owes the ORDER_CREATED event of order orderID and the STOCK_CHANGED events of
// the stock its checkout took, in tx, the checkout's transaction.
func (s *Service) OrderPlaced(ctx context.Context, tx pgx.Tx, orderID int64, stock []catalog.StockMovement) error {
	events := []event{s.orderEvent(OrderCreated, order.StatusChange{OrderID: orderID})}
	return s.emit(ctx, tx, append(events, stockEvents(stock)...))
}

// orderTypes are the moves that have an event.
var orderTypes = map[order.Status]EventType{
	order.Paid: OrderPaid, order.Shipped: OrderFulfilled, order.Cancelled: OrderCancelled,
	order.Refunded: OrderRefunded, order.PartiallyRefunded: OrderRefunded,
}

// StatusChanged owes the event of an order's move (ORDER_PAID, ORDER_FULFILLED,
// ORDER_CANCELLED, ORDER_REFUNDED), in tx, the move's transaction; a move without one (to
// DELIVERED) owes nothing.
func (s *Service) StatusChanged(ctx context.Context, tx pgx.Tx, c order.StatusChange) error {
	typ, ok := orderTypes[c.Status]
	if !ok {
		return nil
	}
	return s.emit(ctx, tx, []event{s.orderEvent(typ, c)})
}

// orderEvent is an event about an order: the order as it stands in the transaction, with the
// lines a subscription may see (a vendor's: its own, and their total).
func (s *Service) orderEvent(typ EventType, c order.StatusChange) event {
	return event{typ: typ, resourceType: "order", resourceID: c.OrderID, resourceGID: gid.Encode(gid.Order, c.OrderID),
		load: func(ctx context.Context, q *db.Queries) ([]int64, func(*int64) any, error) {
			row, err := q.OrderGetByID(ctx, c.OrderID)
			if err != nil {
				return nil, nil, fmt.Errorf("read order %d for its webhook: %w", c.OrderID, err)
			}
			lineRows, err := q.OrderLineListByOrderIDs(ctx, []int64{c.OrderID})
			if err != nil {
				return nil, nil, fmt.Errorf("read order %d's lines for its webhook: %w", c.OrderID, err)
			}
			o := order.FromRow(row)
			lines := make([]order.Line, len(lineRows))
			var vendors []int64
			for i, r := range lineRows {
				lines[i] = order.LineOf(r)
				if r.VendorID != nil && !slices.Contains(vendors, *r.VendorID) {
					vendors = append(vendors, *r.VendorID)
				}
			}
			return vendors, func(scope *int64) any { return orderData(o, lines, scope, c) }, nil
		}}
}

// OrderData is the data of an order event.
type OrderData struct {
	ID              string         `json:"id"`
	Status          order.Status   `json:"status"`
	Total           MoneyData      `json:"total"`
	RefundedAmount  *MoneyData     `json:"refundedAmount,omitempty"`
	TrackingNumber  *string        `json:"trackingNumber,omitempty"`
	ShippingAddress *order.Address `json:"shippingAddress,omitempty"`
	Lines           []LineData     `json:"lines"`
	CreatedAt       time.Time      `json:"createdAt"`
	UpdatedAt       time.Time      `json:"updatedAt"`
}

// MoneyData is an amount in minor units and its currency.
type MoneyData struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// LineData is an order line in an event.
type LineData struct {
	ID          string    `json:"id"`
	ProductID   string    `json:"productId"`
	VariantID   string    `json:"variantId"`
	SKU         string    `json:"sku"`
	ProductName string    `json:"productName"`
	VariantName string    `json:"variantName"`
	Quantity    int       `json:"quantity"`
	UnitPrice   MoneyData `json:"unitPrice"`
	LineTotal   MoneyData `json:"lineTotal"`
}

// orderData is what a subscription of scope sees of an order: a vendor's sees its own lines
// and their total, and neither the shipping address nor the refunded amount of the whole.
func orderData(o order.Order, lines []order.Line, scope *int64, c order.StatusChange) OrderData {
	d := OrderData{ID: o.GlobalID(), Status: o.Status, Total: MoneyData{o.Total.Amount, o.Total.Currency},
		TrackingNumber: o.TrackingNumber, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, Lines: []LineData{}}
	if scope == nil {
		addr := o.ShippingAddress
		d.ShippingAddress = &addr
		if c.RefundedAmount > 0 {
			d.RefundedAmount = &MoneyData{c.RefundedAmount, o.Total.Currency}
		}
	} else {
		d.Total.Amount = 0
	}
	for _, l := range lines {
		if scope != nil && (l.VendorID == nil || *l.VendorID != *scope) {
			continue
		}
		if scope != nil {
			d.Total.Amount += l.LineTotal.Amount
		}
		d.Lines = append(d.Lines, LineData{
			ID: gid.Encode("OrderLine", l.ID), ProductID: gid.Encode(gid.Product, l.ProductID), VariantID: gid.Encode(gid.Variant, l.VariantID),
			SKU: l.SKU, ProductName: l.ProductName, VariantName: l.VariantName, Quantity: l.Quantity,
			UnitPrice: MoneyData{l.UnitPrice.Amount, l.UnitPrice.Currency}, LineTotal: MoneyData{l.LineTotal.Amount, l.LineTotal.Currency},
		})
	}
	return d
}

// ProductChanged owes PRODUCT_CREATED (created) or PRODUCT_UPDATED for p, in tx, the
// transaction that wrote it.
func (s *Service) ProductChanged(ctx context.Context, tx pgx.Tx, p catalog.Product, created bool) error {
	typ := ProductUpdated
	if created {
		typ = ProductCreated
	}
	return s.emit(ctx, tx, []event{{typ: typ, resourceType: "product", resourceID: p.ID, resourceGID: p.GlobalID(),
		load: func(ctx context.Context, q *db.Queries) ([]int64, func(*int64) any, error) {
			rows, err := q.VariantListByProductIDs(ctx, []int64{p.ID})
			if err != nil {
				return nil, nil, fmt.Errorf("read product %d's variants for its webhook: %w", p.ID, err)
			}
			var vendors []int64
			if p.VendorID != nil {
				vendors = []int64{*p.VendorID}
			}
			d := productData(p, rows)
			return vendors, func(*int64) any { return d }, nil
		}}})
}

// ProductData is the data of a product event.
type ProductData struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Slug        string            `json:"slug"`
	Description string            `json:"description"`
	Status      catalog.Status    `json:"status"`
	Currency    string            `json:"currency"`
	VendorID    *string           `json:"vendorId"`
	CategoryID  *string           `json:"categoryId"`
	Attributes  map[string]string `json:"attributes"`
	ImageURLs   []string          `json:"imageUrls"`
	Variants    []VariantData     `json:"variants"`
	CreatedAt   time.Time         `json:"createdAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
}

// VariantData is a product's variant in an event.
type VariantData struct {
	ID    string    `json:"id"`
	SKU   string    `json:"sku"`
	Name  string    `json:"name"`
	Price MoneyData `json:"price"`
	Stock int32     `json:"stock"`
}

func productData(p catalog.Product, variants []db.ProductVariant) ProductData {
	d := ProductData{ID: p.GlobalID(), Name: p.Name, Slug: p.Slug, Description: p.Description, Status: p.Status,
		Currency: p.Currency, Attributes: map[string]string{}, ImageURLs: p.ImageURLs, Variants: []VariantData{},
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if p.VendorID != nil {
		v := gid.Encode(gid.User, *p.VendorID)
		d.VendorID = &v
	}
	if p.CategoryID != nil {
		c := gid.Encode(gid.Category, *p.CategoryID)
		d.CategoryID = &c
	}
	for _, kv := range p.Attributes {
		d.Attributes[kv.Key] = kv.Value
	}
	if d.ImageURLs == nil {
		d.ImageURLs = []string{}
	}
	for _, v := range variants {
		d.Variants = append(d.Variants, VariantData{ID: gid.Encode(gid.Variant, v.ID), SKU: v.SKU, Name: v.Name,
			Price: MoneyData{v.PriceAmount, v.Currency}, Stock: v.Stock})
	}
	return d
}

// StockChanged owes a STOCK_CHANGED event per movement, in tx, the transaction that moved the
// stock: the variant's quantity as that transaction leaves it, the delta and the reason.
// Anything that moves stock calls it inside its transaction (the inventory import included).
func (s *Service) StockChanged(ctx context.Context, tx pgx.Tx, moves []catalog.StockMovement) error {
	return s.emit(ctx, tx, stockEvents(moves))
}

// StockData is the data of a STOCK_CHANGED event.
type StockData struct {
	VariantID string `json:"variantId"`
	ProductID string `json:"productId"`
	SKU       string `json:"sku"`
	// Quantity is the stock after the movement.
	Quantity int32  `json:"quantity"`
	Delta    int    `json:"delta"`
	Reason   string `json:"reason"`
}

// stockEvents are the events of movements; their variants are read once, together, when the
// first is wanted.
func stockEvents(moves []catalog.StockMovement) []event {
	var facts map[int64]db.WebhookVariantFactsRow
	read := func(ctx context.Context, q *db.Queries) error {
		if facts != nil {
			return nil
		}
		ids := make([]int64, len(moves))
		for i, m := range moves {
			ids[i] = m.VariantID
		}
		rows, err := q.WebhookVariantFacts(ctx, ids)
		if err != nil {
			return fmt.Errorf("read variants for their stock webhooks: %w", err)
		}
		facts = make(map[int64]db.WebhookVariantFactsRow, len(rows))
		for _, r := range rows {
			facts[r.ID] = r
		}
		return nil
	}
	events := make([]event, 0, len(moves))
	for _, m := range moves {
		if m.Delta == 0 {
			continue
		}
		events = append(events, event{typ: StockChanged, resourceType: "variant", resourceID: m.VariantID,
			resourceGID: gid.Encode(gid.Variant, m.VariantID),
			load: func(ctx context.Context, q *db.Queries) ([]int64, func(*int64) any, error) {
				if err := read(ctx, q); err != nil {
					return nil, nil, err
				}
				f := facts[m.VariantID]
				var vendors []int64
				if f.VendorID != nil {
					vendors = []int64{*f.VendorID}
				}
				d := StockData{VariantID: gid.Encode(gid.Variant, m.VariantID), ProductID: gid.Encode(gid.Product, f.ProductID),
					SKU: f.SKU, Quantity: f.Stock, Delta: m.Delta, Reason: m.Reason}
				return vendors, func(*int64) any { return d }, nil
			}})
	}
	return events
}
