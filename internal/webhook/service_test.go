package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/inventory"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
	"github.com/shopgraph/shopgraph/internal/webhook"
)

type bundle struct {
	d       *postgres.DB
	svc     *webhook.Service
	orders  *order.Service
	catalog *catalog.Service
	admin   tf.User
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// setup: a test database, an insert-only queue (the tests run the deliveries themselves),
// the webhook service allowing loopback receivers (guard says whether it does), and the order
// and catalog services telling it their changes.
func setup(t *testing.T, guard webhook.Guard) *bundle {
	t.Helper()
	d := pgtest.New(t, postgres.Options{MaxConns: 3})
	q := &jobs.Queue{}
	require.NoError(t, q.Start(context.Background(), d.Pool, nil, jobs.Options{}))
	svc := webhook.NewService(d, q, quiet(), webhook.Options{Timeout: 2 * time.Second, Guard: guard})
	orders := order.NewService(d, nil, nil, quiet())
	orders.Webhooks = svc
	cat := catalog.NewService(d, cache.New(cache.NewMemory(0)), quiet())
	cat.Webhooks = svc
	return &bundle{d: d, svc: svc, orders: orders, catalog: cat, admin: tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleAdmin})}
}

// receiver is a real HTTP server on loopback that records what it is sent and answers with
// the codes queued (then 200).
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	got   []received
	codes []int
}

type received struct {
	Header http.Header
	Body   []byte
}

func newReceiver(t *testing.T, codes ...int) *receiver {
	r := &receiver{codes: codes}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{Header: req.Header.Clone(), Body: body})
		code := http.StatusOK
		if len(r.codes) > 0 {
			code, r.codes = r.codes[0], r.codes[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (b *bundle) subscribe(t *testing.T, v auth.Viewer, url string, types ...webhook.EventType) (webhook.Subscription, string) {
	t.Helper()
	s, secret, err := b.svc.Create(context.Background(), v, webhook.CreateInput{URL: url, EventTypes: types})
	require.NoError(t, err)
	return s, secret
}

// deliveries are a subscription's deliveries, oldest first.
func (b *bundle) deliveries(t *testing.T, subID int64) []webhook.Delivery {
	t.Helper()
	p, err := b.svc.Deliveries(context.Background(), b.admin.Viewer(), subID, 100, "")
	require.NoError(t, err)
	out := p.Deliveries
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// deliverAll makes one attempt at each pending delivery of the subscription.
func (b *bundle) deliverAll(t *testing.T, subID int64) {
	t.Helper()
	for _, d := range b.deliveries(t, subID) {
		if d.Status == webhook.Pending {
			_, _ = b.svc.Deliver(context.Background(), d.ID, false)
		}
	}
}

func envelopeOf(t *testing.T, body []byte) (webhook.Envelope, map[string]any) {
	t.Helper()
	var e webhook.Envelope
	require.NoError(t, json.Unmarshal(body, &e))
	var data map[string]any
	require.NoError(t, json.Unmarshal(e.Data, &data))
	return e, data
}

func jobCount(t *testing.T, d *postgres.DB) int {
	t.Helper()
	return tf.Count(t, d, "river_job", "kind = 'webhook_deliver'")
}

func TestCreateValidatesAndChangesNothingOnBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Guard{AllowPrivate: true})
	ctx := context.Background()
	customer := tf.NewUser(t, b.d, tf.UserOpts{})

	_, _, err := b.svc.Create(ctx, customer.Viewer(), webhook.CreateInput{URL: "https://example.com/hook", EventTypes: []webhook.EventType{webhook.OrderPaid}})
	require.Equal(t, []apperr.Code{apperr.Forbidden}, tf.Codes(err), "customers may not subscribe")

	cases := map[string]struct {
		in    webhook.CreateInput
		field string
	}{
		"not http":            {webhook.CreateInput{URL: "ftp://example.com/x", EventTypes: []webhook.EventType{webhook.OrderPaid}}, "input.url"},
		"relative":            {webhook.CreateInput{URL: "/hook", EventTypes: []webhook.EventType{webhook.OrderPaid}}, "input.url"},
		"user info":           {webhook.CreateInput{URL: "https://u:p@example.com/", EventTypes: []webhook.EventType{webhook.OrderPaid}}, "input.url"},
		"no types":            {webhook.CreateInput{URL: "https://example.com/hook"}, "input.eventTypes"},
		"test type":           {webhook.CreateInput{URL: "https://example.com/hook", EventTypes: []webhook.EventType{webhook.Test}}, "input.eventTypes"},
		"unknown type":        {webhook.CreateInput{URL: "https://example.com/hook", EventTypes: []webhook.EventType{"NOPE"}}, "input.eventTypes"},
		"description too big": {webhook.CreateInput{URL: "https://example.com/hook", EventTypes: []webhook.EventType{webhook.OrderPaid}, Description: strings.Repeat("x", 501)}, "input.description"},
	}
	for name, c := range cases {
		_, _, err := b.svc.Create(ctx, b.admin.Viewer(), c.in)
		require.Equal(t, []apperr.Code{apperr.Invalid}, tf.Codes(err), name)
		require.Equal(t, []string{c.field}, tf.Fields(err), name)
	}
	require.Zero(t, tf.Count(t, b.d, "webhook_subscriptions", "true"), "nothing saved")

	s, secret, err := b.svc.Create(ctx, b.admin.Viewer(), webhook.CreateInput{URL: "https://example.com/hook",
		EventTypes: []webhook.EventType{webhook.OrderPaid, webhook.OrderPaid, webhook.ProductCreated}, Description: " ERP "})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(secret, "whsec_") && len(secret) > 40, secret)
	require.Equal(t, []webhook.EventType{webhook.OrderPaid, webhook.ProductCreated}, s.EventTypes, "de-duplicated")
	require.Equal(t, "ERP", s.Description)
	require.False(t, s.VendorScoped())
	_, other, err := b.svc.Create(ctx, b.admin.Viewer(), webhook.CreateInput{URL: "https://example.com/hook", EventTypes: []webhook.EventType{webhook.OrderPaid}})
	require.NoError(t, err)
	require.NotEqual(t, secret, other, "each webhook has its own secret")
}

func TestUpdateDeleteAndPolicy(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Guard{AllowPrivate: true})
	ctx := context.Background()
	vendor := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	rival := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	customer := tf.NewUser(t, b.d, tf.UserOpts{})

	adminHook, _ := b.subscribe(t, b.admin.Viewer(), "https://example.com/a", webhook.OrderPaid)
	vendorHook, _ := b.subscribe(t, vendor.Viewer(), "https://example.com/v", webhook.ProductUpdated)
	require.True(t, vendorHook.VendorScoped())

	page, err := b.svc.List(ctx, vendor.Viewer(), 20, "")
	require.NoError(t, err)
	require.Len(t, page.Subscriptions, 1)
	require.Equal(t, vendorHook.ID, page.Subscriptions[0].ID, "a vendor sees only its own")
	require.Equal(t, 1, page.TotalCount)
	page, err = b.svc.List(ctx, rival.Viewer(), 20, "")
	require.NoError(t, err)
	require.Empty(t, page.Subscriptions)
	page, err = b.svc.List(ctx, b.admin.Viewer(), 1, "")
	require.NoError(t, err)
	require.Equal(t, 2, page.TotalCount)
	require.True(t, page.HasNextPage)
	next, err := b.svc.List(ctx, b.admin.Viewer(), 1, page.Cursors[0])
	require.NoError(t, err)
	require.Equal(t, adminHook.ID, next.Subscriptions[0].ID, "newest first, keyset pages")
	_, err = b.svc.List(ctx, customer.Viewer(), 20, "")
	require.Equal(t, []apperr.Code{apperr.Forbidden}, tf.Codes(err))

	for name, v := range map[string]auth.Viewer{"another vendor": rival.Viewer(), "a customer": customer.Viewer()} {
		_, err := b.svc.Get(ctx, v, vendorHook.ID)
		require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err), name)
		_, err = b.svc.Update(ctx, v, webhook.UpdateInput{ID: vendorHook.ID, Active: new(bool)})
		require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err), name)
		_, err = b.svc.Delete(ctx, v, vendorHook.ID)
		require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err), name)
		_, err = b.svc.Test(ctx, v, vendorHook.ID)
		require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err), name)
	}
	_, err = b.svc.Get(ctx, vendor.Viewer(), adminHook.ID)
	require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err), "a vendor does not see an admin's webhook")

	url := "https://example.org/new"
	_, err = b.svc.Update(ctx, vendor.Viewer(), webhook.UpdateInput{ID: vendorHook.ID, URL: &url, EventTypes: []webhook.EventType{}})
	require.Equal(t, []apperr.Code{apperr.Invalid}, tf.Codes(err))
	got, err := b.svc.Get(ctx, vendor.Viewer(), vendorHook.ID)
	require.NoError(t, err)
	require.Equal(t, "https://example.com/v", got.URL, "a refused update changes nothing")

	off := false
	got, err = b.svc.Update(ctx, vendor.Viewer(), webhook.UpdateInput{ID: vendorHook.ID, URL: &url, Active: &off,
		EventTypes: []webhook.EventType{webhook.StockChanged}})
	require.NoError(t, err)
	require.Equal(t, url, got.URL)
	require.False(t, got.Active)
	require.Equal(t, []webhook.EventType{webhook.StockChanged}, got.EventTypes)

	_, err = b.svc.Delete(ctx, b.admin.Viewer(), vendorHook.ID)
	require.NoError(t, err, "an admin manages every webhook")
	_, err = b.svc.Get(ctx, vendor.Viewer(), vendorHook.ID)
	require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err))
}

func TestTargetsOnInternalAddressesAreRefusedAtSave(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Guard{})
	ctx := context.Background()
	for _, u := range []string{
		"http://127.0.0.1/hook", "http://127.1.2.3:8080/", "http://10.0.0.5/", "http://172.16.0.1/", "http://192.168.1.1/",
		"http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://[fe80::1]/", "http://0.0.0.0/",
		"http://[::ffff:127.0.0.1]/", "http://224.0.0.1/", "http://100.64.0.1/", "http://localhost:9000/",
	} {
		_, _, err := b.svc.Create(ctx, b.admin.Viewer(), webhook.CreateInput{URL: u, EventTypes: []webhook.EventType{webhook.OrderPaid}})
		require.Equal(t, []apperr.Code{apperr.WebhookTargetForbidden}, tf.Codes(err), u)
		require.Equal(t, []string{"input.url"}, tf.Fields(err), u)
	}
	require.Zero(t, tf.Count(t, b.d, "webhook_subscriptions", "true"))

	s, _, err := b.svc.Create(ctx, b.admin.Viewer(), webhook.CreateInput{URL: "https://93.184.215.14/hook", EventTypes: []webhook.EventType{webhook.OrderPaid}})
	require.NoError(t, err, "a public address is fine")
	bad := "http://10.1.2.3/"
	_, err = b.svc.Update(ctx, b.admin.Viewer(), webhook.UpdateInput{ID: s.ID, URL: &bad})
	require.Equal(t, []apperr.Code{apperr.WebhookTargetForbidden}, tf.Codes(err), "and at update")
}

// TestDialGuardRefusesInternalAddresses: a target that passed the check at save time but
// dials an internal address now (DNS rebinding) is refused when the worker connects.
func TestDialGuardRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Guard{})
	ctx := context.Background()
	r := newReceiver(t)
	// As if the name had resolved to a public address when the webhook was saved.
	_, err := b.d.Pool.Exec(ctx, `INSERT INTO webhook_subscriptions (url, secret, event_types) VALUES ($1, 'whsec_x', '{PRODUCT_UPDATED}')`, r.URL)
	require.NoError(t, err)
	p := tf.NewProduct(t, b.d, tf.ProductOpts{})
	name := "Renamed"
	_, err = b.catalog.Update(ctx, b.admin.Viewer(), catalog.UpdateInput{ID: p.ID, Name: &name})
	require.NoError(t, err)
	var id int64
	require.NoError(t, b.d.Pool.QueryRow(ctx, `SELECT id FROM webhook_deliveries`).Scan(&id))

	d, err := b.svc.Deliver(ctx, id, false)
	require.ErrorIs(t, err, webhook.ErrForbiddenTarget)
	require.Empty(t, r.received(), "the receiver on loopback was never reached")
	require.Equal(t, webhook.Pending, d.Status)
	require.Nil(t, d.LastResponseCode)
	require.Contains(t, *d.LastError, "internal address")
}

func TestPublicAddresses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := webhook.Guard{}
	require.NoError(t, g.Control("tcp", "93.184.215.14:443", nil))
	require.NoError(t, g.Control("tcp6", "[2606:4700::1111]:443", nil))
	for _, a := range []string{"127.0.0.1:80", "10.9.8.7:443", "169.254.169.254:80", "[::1]:80", "[fd00::1]:80", "0.0.0.0:80", "[::]:80", "239.1.1.1:80"} {
		require.ErrorIs(t, g.Control("tcp", a, nil), webhook.ErrForbiddenTarget, a)
	}
	require.NoError(t, webhook.Guard{AllowPrivate: true}.Control("tcp", "127.0.0.1:80", nil), "unless the operator allows it")
	u, err := webhook.ParseURL("http://127.0.0.1/")
	require.NoError(t, err)
	require.NoError(t, webhook.Guard{AllowPrivate: true}.Check(ctx, u))
}

func TestDeliveryIsSignedAndVerifiable(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Guard{AllowPrivate: true})
	ctx := context.Background()
	r := newReceiver(t)
	s, secret := b.subscribe(t, b.admin.Viewer(), r.URL+"/hooks", webhook.ProductUpdated)
	p := tf.NewProduct(t, b.d, tf.ProductOpts{})
	for _, name := range []string{"First", "Second"} {
		_, err := b.catalog.Update(ctx, b.admin.Viewer(), catalog.UpdateInput{ID: p.ID, Name: &name})
		require.NoError(t, err)
	}
	b.deliverAll(t, s.ID)

	got := r.received()
	require.Len(t, got, 2)
	var ids []string
	for i, g := range got {
		require.NoError(t, webhook.Verify(secret, g.Header.Get("Shopgraph-Signature"), g.Body, 5*time.Minute, time.Now()))
		require.Error(t, webhook.Verify("whsec_wrong", g.Header.Get("Shopgraph-Signature"), g.Body, 5*time.Minute, time.Now()))
		require.Equal(t, "application/json", g.Header.Get("Content-Type"))
		e, data := envelopeOf(t, g.Body)
		require.Equal(t, webhook.ProductUpdated, e.Type)
		require.Equal(t, string(e.Type), g.Header.Get("Shopgraph-Event-Type"))
		require.Equal(t, e.ID, g.Header.Get("Shopgraph-Event-Id"))
		require.Equal(t, int64(i+1), e.Sequence, "a product's events are numbered in order")
		require.Equal(t, "product", e.Resource.Type)
		require.Equal(t, []string{"First", "Second"}[i], data["name"])
		ids = append(ids, e.ID)
	}
	require.NotEqual(t, ids[0], ids[1])
	for _, d := range b.deliveries(t, s.ID) {
		require.Equal(t, webhook.Succeeded, d.Status)
		require.Equal(t, 1, d.Attempts)
		require.Equal(t, 200, *d.LastResponseCode)
	}
}

func TestRolledBackChangeEnqueuesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Guard{AllowPrivate: true})
	ctx := context.Background()
	b.subscribe(t, b.admin.Viewer(), "http://127.0.0.1:1/", webhook.StockChanged, webhook.ProductUpdated, webhook.OrderPaid)
	p := tf.NewProduct(t, b.d, tf.ProductOpts{})
	customer := tf.NewUser(t, b.d, tf.UserOpts{})
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: customer.ID})

	boom := errors.New("boom")
	err := b.d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		require.NoError(t, b.svc.StockChanged(ctx, tx, []catalog.StockMovement{{VariantID: p.Variant(), Delta: 3, Reason: "import"}}))
		if _, err := b.orders.TransitionTx(ctx, q, order.SystemActor, o.ID, order.Paid, order.TransitionOptions{}); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Zero(t, tf.Count(t, b.d, "webhook_deliveries", "true"))
	require.Zero(t, jobCount(t, b.d))
	require.Zero(t, tf.Count(t, b.d, "webhook_sequences", "true"))

	// The same change committed owes its events.
	_, err = b.orders.Transition(ctx, order.SystemActor, o.ID, order.Paid, order.TransitionOptions{})
	require.NoError(t, err)
	require.Equal(t, 1, tf.Count(t, b.d, "webhook_deliveries", "event_type = 'ORDER_PAID'"))
	require.Equal(t, 1, jobCount(t, b.d))
}

func TestEventsOfOrderMovesProductsAndStock(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Guard{AllowPrivate: true})
	ctx := context.Background()
	r := newReceiver(t)
	s, _ := b.subscribe(t, b.admin.Viewer(), r.URL, webhook.Subscribable...)
	customer := tf.NewUser(t, b.d, tf.UserOpts{})
	tracking := "1Z999"

	shipped := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: customer.ID})
	_, err := b.orders.Transition(ctx, order.SystemActor, shipped.ID, order.Paid, order.TransitionOptions{})
	require.NoError(t, err)
	_, err = b.orders.Transition(ctx, order.SystemActor, shipped.ID, order.Shipped, order.TransitionOptions{TrackingNumber: &tracking})
	require.NoError(t, err)
	_, err = b.orders.Transition(ctx, order.SystemActor, shipped.ID, order.Delivered, order.TransitionOptions{})
	require.NoError(t, err, "a move without an event")
	_, err = b.orders.Transition(ctx, order.SystemActor, shipped.ID, order.Refunded, order.TransitionOptions{RefundedAmount: 2000})
	require.NoError(t, err)
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 5}}})
	cancelled := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: customer.ID, Lines: []tf.LineOpts{{ProductID: p.ID, VariantID: p.Variant(), Quantity: 2, UnitPrice: 1000}}})
	_, err = b.orders.Transition(ctx, order.SystemActor, cancelled.ID, order.Cancelled, order.TransitionOptions{})
	require.NoError(t, err)
	created, err := b.catalog.Create(ctx, b.admin.Viewer(), catalog.CreateInput{Name: "Mug", Slug: "mug", Currency: "USD",
		Variants: []catalog.VariantInput{{SKU: "MUG-1", Name: "Mug", Price: 900, Stock: 4}}})
	require.NoError(t, err)
	_, err = b.catalog.StockAdjust(ctx, b.admin.Viewer(), p.Variant(), -3)
	require.NoError(t, err)
	b.deliverAll(t, s.ID)

	type seen struct {
		typ  webhook.EventType
		data map[string]any
		seq  int64
	}
	var events []seen
	for _, g := range r.received() {
		e, data := envelopeOf(t, g.Body)
		events = append(events, seen{e.Type, data, e.Sequence})
	}
	require.Len(t, events, 7)
	want := []webhook.EventType{webhook.OrderPaid, webhook.OrderFulfilled, webhook.OrderRefunded, webhook.OrderCancelled,
		webhook.StockChanged, webhook.ProductCreated, webhook.StockChanged}
	var got []webhook.EventType
	for _, e := range events {
		got = append(got, e.typ)
	}
	require.Equal(t, want, got)
	require.Equal(t, []int64{1, 2, 3}, []int64{events[0].seq, events[1].seq, events[2].seq}, "one order's events in order")
	require.Equal(t, "1Z999", events[1].data["trackingNumber"])
	require.Equal(t, map[string]any{"amount": float64(2000), "currency": "USD"}, events[2].data["refundedAmount"])
	require.Equal(t, "CANCELLED", events[3].data["status"])
	restock := events[4].data
	require.Equal(t, "restock", restock["reason"])
	require.Equal(t, float64(2), restock["delta"])
	require.Equal(t, float64(7), restock["quantity"], "5 in stock, 2 given back")
	require.Equal(t, created.GlobalID(), events[5].data["id"])
	require.Equal(t, "Mug", events[5].data["name"])
	adjust := events[6].data
	require.Equal(t, "adjustment", adjust["reason"])
	require.Equal(t, float64(-3), adjust["delta"])
	require.Equal(t, float64(4), adjust["quantity"])
	require.Equal(t, int64(2), events[6].seq, "the variant's second event")
}

func TestRetryAfterAFailureThenSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Guard{AllowPrivate: true})
	ctx := context.Background()
	r := newReceiver(t, http.StatusInternalServerError)
	s, _ := b.subscribe(t, b.admin.Viewer(), r.URL, webhook.ProductUpdated)
	p := tf.NewProduct(t, b.d, tf.ProductOpts{})
	name := "x"
	_, err := b.catalog.Update(ctx, b.admin.Viewer(), catalog.UpdateInput{ID: p.ID, Name: &name})
	require.NoError(t, err)
	id := b.deliveries(t, s.ID)[0].ID
	w := &webhook.DeliverWorker{Webhooks: b.svc}
	job := func(attempt int) *river.Job[jobs.DeliverWebhookArgs] {
		return &river.Job[jobs.DeliverWebhookArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: attempt, MaxAttempts: webhook.MaxAttempts},
			Args: jobs.DeliverWebhookArgs{DeliveryID: id}}
	}

	err = w.Work(ctx, job(1))
	require.Error(t, err, "a 500 fails the job, for River to retry")
	var cancel *river.JobCancelError
	require.False(t, errors.As(err, &cancel))
	d := b.deliveries(t, s.ID)[0]
	require.Equal(t, webhook.Pending, d.Status)
	require.Equal(t, 1, d.Attempts)
	require.Equal(t, 500, *d.LastResponseCode)
	require.Contains(t, *d.LastError, "HTTP 500")
	next := w.NextRetry(job(1))
	require.WithinDuration(t, time.Now().Add(30*time.Second), next, 5*time.Second, "the first retry comes after 30 s")

	require.NoError(t, w.Work(ctx, job(2)))
	d = b.deliveries(t, s.ID)[0]
	require.Equal(t, webhook.Succeeded, d.Status)
	require.Equal(t, 2, d.Attempts)
	require.Equal(t, 200, *d.LastResponseCode)
	require.Nil(t, d.LastError)
	require.NotNil(t, d.CompletedAt)
	attempts, err := b.svc.Attempts(ctx, id)
	require.NoError(t, err)
	require.Len(t, attempts, 2, "every attempt is logged")
	require.Equal(t, 500, *attempts[0].ResponseCode)
	require.Equal(t, 200, *attempts[1].ResponseCode)
	got := r.received()
	require.Len(t, got, 2)
	require.Equal(t, got[0].Body, got[1].Body, "the same event, body and id on every attempt")

	require.NoError(t, w.Work(ctx, job(3)), "a delivery that succeeded is not sent again")
	require.Len(t, r.received(), 2)
}

func TestPermanentFailureAfterTheLastAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Guard{AllowPrivate: true})
	ctx := context.Background()
	r := newReceiver(t, 503, 503)
	s, _ := b.subscribe(t, b.admin.Viewer(), r.URL, webhook.ProductUpdated)
	p := tf.NewProduct(t, b.d, tf.ProductOpts{})
	name := "x"
	_, err := b.catalog.Update(ctx, b.admin.Viewer(), catalog.UpdateInput{ID: p.ID, Name: &name})
	require.NoError(t, err)
	id := b.deliveries(t, s.ID)[0].ID
	w := &webhook.DeliverWorker{Webhooks: b.svc}

	err = w.Work(ctx, &river.Job[jobs.DeliverWebhookArgs]{JobRow: &rivertype.JobRow{Attempt: webhook.MaxAttempts, MaxAttempts: webhook.MaxAttempts},
		Args: jobs.DeliverWebhookArgs{DeliveryID: id}})
	var cancel *river.JobCancelError
	require.True(t, errors.As(err, &cancel), "the last attempt ends the job: %v", err)
	d := b.deliveries(t, s.ID)[0]
	require.Equal(t, webhook.Failed, d.Status)
	require.Equal(t, 503, *d.LastResponseCode)
	require.NotNil(t, d.CompletedAt)

	// A manual redelivery sends the same event again, once.
	again, err := b.svc.Retry(ctx, b.admin.Viewer(), id)
	require.NoError(t, err)
	require.Equal(t, webhook.Pending, again.Status)
	require.Equal(t, 1, tf.Count(t, b.d, "river_job", "kind = 'webhook_deliver' AND (args->>'manual')::boolean AND max_attempts = 1"))
	_, err = b.svc.Deliver(ctx, id, true)
	require.ErrorContains(t, err, "HTTP 503")
	require.Equal(t, webhook.Failed, b.deliveries(t, s.ID)[0].Status)
	_, err = b.svc.Retry(ctx, b.admin.Viewer(), id)
	require.NoError(t, err)
	d, err = b.svc.Deliver(ctx, id, true)
	require.NoError(t, err)
	require.Equal(t, webhook.Succeeded, d.Status)
	require.Equal(t, 3, d.Attempts)
	got := r.received()
	require.Len(t, got, 3)
	e0, _ := envelopeOf(t, got[0].Body)
	e2, _ := envelopeOf(t, got[2].Body)
	require.Equal(t, e0.ID, e2.ID, "a redelivery is the same event")

	vendor := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	_, err = b.svc.Retry(ctx, vendor.Viewer(), id)
	require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err), "only its owner redelivers")
}

func TestBackoffSchedule(t *testing.T) {
	t.Parallel()
	var total time.Duration
	prev := time.Duration(0)
	for attempt := 1; attempt < webhook.MaxAttempts; attempt++ {
		d := webhook.Backoff(attempt)
		require.GreaterOrEqual(t, d, prev, "never shorter than the wait before")
		prev = d
		total += d
	}
	require.Greater(t, total, 23*time.Hour, "retries span about a day")
	require.LessOrEqual(t, total, 24*time.Hour)
	require.Equal(t, webhook.Backoff(webhook.MaxAttempts-1), webhook.Backoff(100), "capped")
	require.Equal(t, 30*time.Second, webhook.Backoff(1))
}

func TestWebhookTestEvent(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Guard{AllowPrivate: true})
	ctx := context.Background()
	r := newReceiver(t)
	vendor := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	s, secret := b.subscribe(t, vendor.Viewer(), r.URL, webhook.OrderPaid)
	d, err := b.svc.Test(ctx, vendor.Viewer(), s.ID)
	require.NoError(t, err)
	require.Equal(t, webhook.Pending, d.Status)
	require.Equal(t, webhook.Test, d.EventType)
	d, err = b.svc.Deliver(ctx, d.ID, true)
	require.NoError(t, err)
	require.Equal(t, webhook.Succeeded, d.Status)
	got := r.received()
	require.Len(t, got, 1)
	require.NoError(t, webhook.Verify(secret, got[0].Header.Get(webhook.SignatureHeader), got[0].Body, time.Minute, time.Now()))
	e, _ := envelopeOf(t, got[0].Body)
	require.Equal(t, webhook.Test, e.Type)
}

func TestVendorReceivesOnlyItsOwnEvents(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Guard{AllowPrivate: true})
	ctx := context.Background()
	acme := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	globex := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	ra, rg, rAdmin := newReceiver(t), newReceiver(t), newReceiver(t)
	sa, _ := b.subscribe(t, acme.Viewer(), ra.URL, webhook.ProductUpdated, webhook.OrderPaid, webhook.StockChanged)
	sg, _ := b.subscribe(t, globex.Viewer(), rg.URL, webhook.ProductUpdated, webhook.OrderPaid, webhook.StockChanged)
	sAdmin, _ := b.subscribe(t, b.admin.Viewer(), rAdmin.URL, webhook.ProductUpdated, webhook.OrderPaid, webhook.StockChanged)

	acmeProduct := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &acme.VendorID})
	globexProduct := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &globex.VendorID})
	name := "Acme anvil"
	_, err := b.catalog.Update(ctx, acme.Viewer(), catalog.UpdateInput{ID: acmeProduct.ID, Name: &name})
	require.NoError(t, err)
	_, err = b.catalog.StockAdjust(ctx, acme.Viewer(), acmeProduct.Variant(), 1)
	require.NoError(t, err)
	customer := tf.NewUser(t, b.d, tf.UserOpts{})
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: customer.ID, Lines: []tf.LineOpts{
		{ProductID: acmeProduct.ID, VariantID: acmeProduct.Variant(), VendorID: &acme.VendorID, Quantity: 1, UnitPrice: 700},
		{ProductID: globexProduct.ID, VariantID: globexProduct.Variant(), VendorID: &globex.VendorID, Quantity: 2, UnitPrice: 300},
	}})
	_, err = b.orders.Transition(ctx, order.SystemActor, o.ID, order.Paid, order.TransitionOptions{})
	require.NoError(t, err)
	for _, s := range []int64{sa.ID, sg.ID, sAdmin.ID} {
		b.deliverAll(t, s)
	}

	types := func(r *receiver) []webhook.EventType {
		var out []webhook.EventType
		for _, g := range r.received() {
			e, _ := envelopeOf(t, g.Body)
			out = append(out, e.Type)
		}
		return out
	}
	require.Equal(t, []webhook.EventType{webhook.ProductUpdated, webhook.StockChanged, webhook.OrderPaid}, types(ra))
	require.Equal(t, []webhook.EventType{webhook.OrderPaid}, types(rg), "globex hears nothing of acme's product")
	require.Equal(t, []webhook.EventType{webhook.ProductUpdated, webhook.StockChanged, webhook.OrderPaid}, types(rAdmin))

	lines := func(r *receiver) (int, float64, bool) {
		_, data := envelopeOf(t, r.received()[len(r.received())-1].Body)
		_, hasAddress := data["shippingAddress"]
		return len(data["lines"].([]any)), data["total"].(map[string]any)["amount"].(float64), hasAddress
	}
	n, total, addr := lines(ra)
	require.Equal(t, []any{1, 700.0, false}, []any{n, total, addr}, "acme sees its line and its total only")
	n, total, addr = lines(rg)
	require.Equal(t, []any{1, 600.0, false}, []any{n, total, addr})
	n, total, addr = lines(rAdmin)
	require.Equal(t, []any{2, 1300.0, true}, []any{n, total, addr}, "an admin's webhook sees the whole order")
}

// TestVariantChangesUpdateTheProduct: a variant added, changed or deleted is a change of its
// product (PRODUCT_UPDATED, with its variants as they now are).
func TestVariantChangesUpdateTheProduct(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Guard{AllowPrivate: true})
	ctx := context.Background()
	r := newReceiver(t)
	s, _ := b.subscribe(t, b.admin.Viewer(), r.URL, webhook.ProductUpdated)
	p := tf.NewProduct(t, b.d, tf.ProductOpts{})
	v, err := b.catalog.VariantCreate(ctx, b.admin.Viewer(), p.ID, catalog.VariantInput{SKU: "NEW-" + p.Slug, Name: "New", Price: 500, Stock: 3})
	require.NoError(t, err)
	price := int64(700)
	_, err = b.catalog.VariantUpdate(ctx, b.admin.Viewer(), catalog.VariantUpdateInput{ID: v.ID, Price: &price})
	require.NoError(t, err)
	_, err = b.catalog.VariantDelete(ctx, b.admin.Viewer(), v.ID)
	require.NoError(t, err)
	b.deliverAll(t, s.ID)

	var counts []int
	for _, g := range r.received() {
		e, data := envelopeOf(t, g.Body)
		require.Equal(t, webhook.ProductUpdated, e.Type)
		counts = append(counts, len(data["variants"].([]any)))
	}
	require.Equal(t, []int{2, 2, 1}, counts)
}

// TestSlowReceiverDoesNotHoldUpOthers: with the real River worker pool, a receiver that never
// answers costs each of its deliveries one timeout, while another webhook's deliveries of the
// same events arrive at once.
func TestSlowReceiverDoesNotHoldUpOthers(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t, postgres.Options{MaxConns: 6})
	ctx := context.Background()
	q := &jobs.Queue{}
	svc := webhook.NewService(d, q, quiet(), webhook.Options{Timeout: 500 * time.Millisecond, Guard: webhook.Guard{AllowPrivate: true}})
	workers := river.NewWorkers()
	river.AddWorker(workers, &webhook.DeliverWorker{Webhooks: svc})
	require.NoError(t, q.Start(ctx, d.Pool, workers, jobs.Options{Work: true, WebhookWorkers: 4, PollOnly: true, Log: quiet()}))
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(stop)
	})
	admin := tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleAdmin})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-req.Context().Done():
		case <-time.After(3 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	fast := newReceiver(t)
	slowHook, _, err := svc.Create(ctx, admin.Viewer(), webhook.CreateInput{URL: slow.URL, EventTypes: []webhook.EventType{webhook.StockChanged}})
	require.NoError(t, err)
	_, _, err = svc.Create(ctx, admin.Viewer(), webhook.CreateInput{URL: fast.URL, EventTypes: []webhook.EventType{webhook.StockChanged}})
	require.NoError(t, err)
	p := tf.NewProduct(t, d, tf.ProductOpts{Variants: []tf.VariantOpts{{}, {}, {}, {}, {}, {}}})
	moves := make([]catalog.StockMovement, len(p.Variants))
	for i, v := range p.Variants {
		moves[i] = catalog.StockMovement{VariantID: v, Delta: 1, Reason: "restock"}
	}
	start := time.Now()
	require.NoError(t, d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
		return svc.StockChanged(ctx, tx, moves)
	}))
	require.Eventually(t, func() bool { return len(fast.received()) == len(moves) }, 10*time.Second, 20*time.Millisecond)
	// Six slow deliveries on four workers take two rounds of the 500 ms timeout at least; the
	// fast ones wait for no more than a worker to come free.
	t.Logf("fast receiver had all %d events after %s", len(moves), time.Since(start))
	require.Eventually(t, func() bool {
		return tf.Count(t, d, "webhook_deliveries", "subscription_id = $1 AND attempts = 1", slowHook.ID) == len(moves)
	}, 15*time.Second, 50*time.Millisecond)
	var lastErr string
	require.NoError(t, d.Pool.QueryRow(ctx, `SELECT last_error FROM webhook_deliveries WHERE subscription_id = $1 LIMIT 1`, slowHook.ID).Scan(&lastErr))
	require.Contains(t, lastErr, "no answer within 500ms", "the slow receiver's attempts timed out")
	require.Zero(t, tf.Count(t, d, "webhook_deliveries", "subscription_id = $1 AND status <> 'PENDING'", slowHook.ID), "and wait for their retry")
}

// TestCommittedEventSurvivesARestart: events committed while no worker runs (a crash between
// commit and delivery) are delivered once a worker starts again: they live in PostgreSQL.
func TestCommittedEventSurvivesARestart(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t, postgres.Options{MaxConns: 4})
	ctx := context.Background()
	down := &jobs.Queue{} // insert-only: nothing works the jobs
	require.NoError(t, down.Start(ctx, d.Pool, nil, jobs.Options{}))
	before := webhook.NewService(d, down, quiet(), webhook.Options{Guard: webhook.Guard{AllowPrivate: true}})
	admin := tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleAdmin})
	r := newReceiver(t)
	_, _, err := before.Create(ctx, admin.Viewer(), webhook.CreateInput{URL: r.URL, EventTypes: []webhook.EventType{webhook.StockChanged}})
	require.NoError(t, err)
	p := tf.NewProduct(t, d, tf.ProductOpts{})
	require.NoError(t, d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
		return before.StockChanged(ctx, tx, []catalog.StockMovement{{VariantID: p.Variant(), Delta: -1, Reason: "sale"}})
	}))
	time.Sleep(300 * time.Millisecond)
	require.Empty(t, r.received())

	up := &jobs.Queue{}
	after := webhook.NewService(d, up, quiet(), webhook.Options{Guard: webhook.Guard{AllowPrivate: true}})
	workers := river.NewWorkers()
	river.AddWorker(workers, &webhook.DeliverWorker{Webhooks: after})
	require.NoError(t, up.Start(ctx, d.Pool, workers, jobs.Options{Work: true, PollOnly: true, Log: quiet()}))
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = up.Stop(stop)
	})
	require.Eventually(t, func() bool { return len(r.received()) == 1 }, 10*time.Second, 20*time.Millisecond)
}

// TestSequencesOfOneCall: events of the same resource owed in one call get consecutive
// numbers, in order, after those of earlier calls; different resources count apart.
func TestSequencesOfOneCall(t *testing.T) {
	t.Parallel()
	b := setup(t, webhook.Guard{AllowPrivate: true})
	ctx := context.Background()
	s, _ := b.subscribe(t, b.admin.Viewer(), "http://127.0.0.1:1/", webhook.StockChanged)
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{}, {}}})
	a, c := p.Variants[0], p.Variants[1]
	emit := func(moves ...catalog.StockMovement) {
		require.NoError(t, b.d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			return webhook.ImportHook{Webhooks: b.svc}.StockChanged(ctx, tx, toImport(moves))
		}))
	}
	emit(catalog.StockMovement{VariantID: a, Delta: 1})
	emit(catalog.StockMovement{VariantID: c, Delta: 1}, catalog.StockMovement{VariantID: a, Delta: 2},
		catalog.StockMovement{VariantID: a, Delta: 3}, catalog.StockMovement{VariantID: c, Delta: 0})
	got := map[int64][]int64{}
	for _, d := range b.deliveries(t, s.ID) {
		got[d.ResourceID] = append(got[d.ResourceID], d.Sequence)
		var e webhook.Envelope
		require.NoError(t, json.Unmarshal(d.Body, &e))
		require.Equal(t, d.Sequence, e.Sequence)
	}
	require.Equal(t, map[int64][]int64{a: {1, 2, 3}, c: {1}}, got, "a movement of 0 owes nothing")
	var reason string
	require.NoError(t, b.d.Pool.QueryRow(ctx, `SELECT convert_from(body, 'UTF8')::jsonb->'data'->>'reason' FROM webhook_deliveries LIMIT 1`).Scan(&reason))
	require.Equal(t, "import", reason)
}

func toImport(moves []catalog.StockMovement) []inventory.StockChange {
	out := make([]inventory.StockChange, len(moves))
	for i, m := range moves {
		out[i] = inventory.StockChange{VariantID: m.VariantID, Delta: m.Delta, Reason: m.Reason}
	}
	return out
}
