package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/product"
)

// Shared helpers of the cart, checkout and order API tests (api_checkout_test.go,
// api_orders_test.go).

const commerceErrorFields = `userErrors { field message code variantId availableQuantity }`

const cartFields = `lines {
    variant { id sku }
    quantity unitPrice { amount currency } lineTotal { amount currency } available availableQuantity
  }
  totalQuantity subtotal { amount currency } token id`

const (
	cartQuery          = `query Cart { cart { ` + cartFields + ` } }`
	cartAddMutation    = `mutation Add($input: CartItemAddInput!) { cartItemAdd(input: $input) { cart { ` + cartFields + ` } ` + commerceErrorFields + ` } }`
	cartUpdateMutation = `mutation Upd($input: CartItemUpdateInput!) { cartItemUpdate(input: $input) { cart { ` + cartFields + ` } ` + commerceErrorFields + ` } }`
	cartRemoveMutation = `mutation Rm($input: CartItemRemoveInput!) { cartItemRemove(input: $input) { cart { ` + cartFields + ` } ` + commerceErrorFields + ` } }`
	cartClearMutation  = `mutation Clear { cartClear { cart { ` + cartFields + ` } ` + commerceErrorFields + ` } }`
)

const orderFields = `id status trackingNumber createdAt updatedAt
  total { amount currency }
  shippingAddress { name line1 line2 city region postalCode country phone }
  lines { productName variantName sku unitPrice { amount currency } quantity lineTotal { amount currency } variantId productId }
  events { sequence status previousStatus at actorId note }`

const (
	checkoutMutation     = `mutation Checkout($input: CheckoutInput!) { checkout(input: $input) { order { ` + orderFields + ` } ` + commerceErrorFields + ` } }`
	orderQuery           = `query Order($id: ID!) { order(id: $id) { ` + orderFields + ` } }`
	orderNodeQuery       = `query Node($id: ID!) { node(id: $id) { ... on Order { ` + orderFields + ` } } }`
	orderCancelMutation  = `mutation Cancel($input: OrderCancelInput!) { orderCancel(input: $input) { order { ` + orderFields + ` } ` + commerceErrorFields + ` } }`
	orderStatusMutation  = `mutation Status($input: OrderStatusUpdateInput!) { orderStatusUpdate(input: $input) { order { ` + orderFields + ` } ` + commerceErrorFields + ` } }`
	ordersQuery          = `query Orders($first: Int, $after: String, $filter: OrderFilter) { orders(first: $first, after: $after, filter: $filter) { edges { cursor node { id status createdAt } } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } }`
	commercePassword     = "commerce-password"
	defaultCheckoutPrice = 1000
)

type commerceError struct {
	Field             []string `json:"field"`
	Message           string   `json:"message"`
	Code              string   `json:"code"`
	VariantID         *string  `json:"variantId"`
	AvailableQuantity *int     `json:"availableQuantity"`
}

type cartVariantView struct {
	ID  string `json:"id"`
	SKU string `json:"sku"`
}

type cartLineView struct {
	Variant           cartVariantView `json:"variant"`
	Quantity          int             `json:"quantity"`
	UnitPrice         moneyJSON       `json:"unitPrice"`
	LineTotal         moneyJSON       `json:"lineTotal"`
	Available         bool            `json:"available"`
	AvailableQuantity int             `json:"availableQuantity"`
}

type cartView struct {
	ID            string         `json:"id"`
	Lines         []cartLineView `json:"lines"`
	TotalQuantity int            `json:"totalQuantity"`
	Subtotal      *moneyJSON     `json:"subtotal"`
	Token         *string        `json:"token"`
}

// line returns the cart's line of a variant, or nil.
func (c cartView) line(variantGID string) *cartLineView {
	for i := range c.Lines {
		if c.Lines[i].Variant.ID == variantGID {
			return &c.Lines[i]
		}
	}
	return nil
}

// quantities maps variant IDs to quantities.
func (c cartView) quantities() map[string]int {
	out := map[string]int{}
	for _, l := range c.Lines {
		out[l.Variant.ID] = l.Quantity
	}
	return out
}

type cartPayloadView struct {
	Cart       *cartView       `json:"cart"`
	UserErrors []commerceError `json:"userErrors"`
}

type orderLineView struct {
	ProductName string    `json:"productName"`
	VariantName string    `json:"variantName"`
	SKU         string    `json:"sku"`
	UnitPrice   moneyJSON `json:"unitPrice"`
	Quantity    int       `json:"quantity"`
	LineTotal   moneyJSON `json:"lineTotal"`
	VariantID   string    `json:"variantId"`
	ProductID   string    `json:"productId"`
}

type orderEventView struct {
	Sequence       int       `json:"sequence"`
	Status         string    `json:"status"`
	PreviousStatus *string   `json:"previousStatus"`
	At             time.Time `json:"at"`
	ActorID        *string   `json:"actorId"`
	Note           string    `json:"note"`
}

type addressView struct {
	Name       string  `json:"name"`
	Line1      string  `json:"line1"`
	Line2      *string `json:"line2"`
	City       string  `json:"city"`
	Region     *string `json:"region"`
	PostalCode string  `json:"postalCode"`
	Country    string  `json:"country"`
	Phone      *string `json:"phone"`
}

type orderView struct {
	ID              string           `json:"id"`
	Status          string           `json:"status"`
	TrackingNumber  *string          `json:"trackingNumber"`
	CreatedAt       time.Time        `json:"createdAt"`
	UpdatedAt       time.Time        `json:"updatedAt"`
	Total           moneyJSON        `json:"total"`
	ShippingAddress addressView      `json:"shippingAddress"`
	Lines           []orderLineView  `json:"lines"`
	Events          []orderEventView `json:"events"`
}

type orderPayloadView struct {
	Order      *orderView      `json:"order"`
	UserErrors []commerceError `json:"userErrors"`
}

type ordersPage struct {
	Edges []struct {
		Cursor string `json:"cursor"`
		Node   struct {
			ID        string    `json:"id"`
			Status    string    `json:"status"`
			CreatedAt time.Time `json:"createdAt"`
		} `json:"node"`
	} `json:"edges"`
	Nodes []struct {
		ID string `json:"id"`
	} `json:"nodes"`
	PageInfo struct {
		HasNextPage     bool    `json:"hasNextPage"`
		HasPreviousPage bool    `json:"hasPreviousPage"`
		StartCursor     *string `json:"startCursor"`
		EndCursor       *string `json:"endCursor"`
	} `json:"pageInfo"`
	TotalCount int `json:"totalCount"`
}

func (p ordersPage) ids() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.ID
	}
	return out
}

// errorCodesOf lists "CODE:field.path" of user errors, in order.
func errorCodesOf(errs []commerceError) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Code
		if len(e.Field) > 0 {
			out[i] += ":" + joinPath(e.Field)
		}
	}
	return out
}

func joinPath(p []string) string { return strings.Join(p, ".") }

// shopEnv is a server with an admin, and fast fixtures: users inserted directly with minted
// access tokens, products created through the catalog service.
type shopEnv struct {
	srv     *testServer
	admin   *gqlClient
	adminID int64
	// passwordHash is a real argon2 hash (of commercePassword), computed once per server.
	hashOnce     sync.Once
	passwordHash string
}

// newShopEnv starts a server (on Redis when `make test` found one, so the catalog cache's
// stock invalidation is exercised) with an admin.
func newShopEnv(t *testing.T) *shopEnv {
	t.Helper()
	env := map[string]string{}
	if u := testRedisURL(t); u != "" {
		env["REDIS_URL"] = u
	}
	e := &shopEnv{srv: newTestServer(t, env)}
	e.adminID = e.insertUsers(t, auth.RoleAdmin, 1)[0]
	e.admin = e.clientFor(t, e.adminID, auth.RoleAdmin)
	return e
}

func (e *shopEnv) hash(t *testing.T) string {
	t.Helper()
	e.hashOnce.Do(func() {
		s, err := e.srv.app.accounts.Register(context.Background(),
			account.RegisterInput{Email: uniqueEmail(), Password: commercePassword}, account.ClientMeta{})
		require.NoError(t, err)
		require.NoError(t, e.srv.app.db.Pool.QueryRow(context.Background(),
			`SELECT password_hash FROM users WHERE id = $1`, s.User.ID).Scan(&e.passwordHash))
	})
	require.NotEmpty(t, e.passwordHash)
	return e.passwordHash
}

// insertUsers creates n accounts of role in one statement (argon2 per user would take ~50 ms
// each on two cores) and returns their ids.
func (e *shopEnv) insertUsers(t *testing.T, role auth.Role, n int) []int64 {
	t.Helper()
	prefix := "u-" + uuid.NewString()[:8]
	rows, err := e.srv.app.db.Pool.Query(context.Background(), `
		INSERT INTO users (email, password_hash, role)
		SELECT $1 || '-' || g || '@example.com', $2, $3::user_role FROM generate_series(1, $4::int) g
		RETURNING id`, prefix, e.hash(t), string(role), n)
	require.NoError(t, err)
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	require.Len(t, ids, n)
	return ids
}

// clientFor is a client carrying a freshly minted access token of user id.
func (e *shopEnv) clientFor(t *testing.T, id int64, role auth.Role) *gqlClient {
	t.Helper()
	tok, _, err := e.srv.app.tokens.Issue(auth.Viewer{UserID: id, Role: role, SessionID: uuid.New()})
	require.NoError(t, err)
	c := e.srv.client(t)
	c.bearer = tok
	return c
}

// customer is a new CUSTOMER's client and id.
func (e *shopEnv) customer(t *testing.T) (*gqlClient, int64) {
	t.Helper()
	id := e.insertUsers(t, auth.RoleCustomer, 1)[0]
	return e.clientFor(t, id, auth.RoleCustomer), id
}

// vendor is a new VENDOR's client and id.
func (e *shopEnv) vendor(t *testing.T) (*gqlClient, int64) {
	t.Helper()
	id := e.insertUsers(t, auth.RoleVendor, 1)[0]
	return e.clientFor(t, id, auth.RoleVendor), id
}

// variantRef is a variant created for a test.
type variantRef struct {
	productID, variantID int64
	gid, productGID      string
	sku, name            string
	productName          string
	price                int64
}

// productSpec describes a product to create; variants get unique SKUs.
type productSpec struct {
	name     string
	currency string
	vendorID *int64
	variants []product.VariantInput
}

// product creates a product through the catalog service and returns its variants in order.
func (e *shopEnv) product(t *testing.T, spec productSpec) []variantRef {
	t.Helper()
	ctx := context.Background()
	if spec.currency == "" {
		spec.currency = "USD"
	}
	if spec.name == "" {
		spec.name = "Product " + uuid.NewString()[:8]
	}
	for i := range spec.variants {
		if spec.variants[i].SKU == "" {
			spec.variants[i].SKU = uniqueSKU("SKU")
		}
	}
	p, err := e.srv.app.catalog.Create(ctx, auth.Viewer{UserID: e.adminID, Role: auth.RoleAdmin}, product.CreateInput{
		Name: spec.name, Slug: uniqueSlug("p"), Currency: spec.currency, VendorID: spec.vendorID, Variants: spec.variants,
	})
	require.NoError(t, err)
	vs, err := e.srv.app.catalog.VariantsByProductIDs(ctx, []int64{p.ID})
	require.NoError(t, err)
	require.Len(t, vs[p.ID], len(spec.variants))
	out := make([]variantRef, len(vs[p.ID]))
	for i, v := range vs[p.ID] {
		out[i] = variantRef{
			productID: p.ID, variantID: v.ID, gid: globalID("ProductVariant", v.ID), productGID: globalID("Product", p.ID),
			sku: v.SKU, name: v.Name, productName: p.Name, price: v.Price.Amount,
		}
	}
	return out
}

// variant creates a one-variant USD product.
func (e *shopEnv) variant(t *testing.T, price int64, stock int) variantRef {
	t.Helper()
	return e.product(t, productSpec{variants: []product.VariantInput{{Name: "Default", Price: price, Stock: stock}}})[0]
}

func (e *shopEnv) adminViewer() auth.Viewer {
	return auth.Viewer{UserID: e.adminID, Role: auth.RoleAdmin}
}

// setPrice changes a variant's price through the catalog service.
func (e *shopEnv) setPrice(t *testing.T, v variantRef, price int64) {
	t.Helper()
	_, err := e.srv.app.catalog.VariantUpdate(context.Background(), e.adminViewer(), product.VariantUpdateInput{ID: v.variantID, Price: &price})
	require.NoError(t, err)
}

// stock reads a variant's stock straight from the database.
func (e *shopEnv) stock(t *testing.T, v variantRef) int {
	t.Helper()
	var n int
	require.NoError(t, e.srv.app.db.Pool.QueryRow(context.Background(), `SELECT stock FROM product_variants WHERE id = $1`, v.variantID).Scan(&n))
	return n
}

// count runs a SELECT count(*)-like query.
func (e *shopEnv) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, e.srv.app.db.Pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

// ordersOf is how many orders a user has.
func (e *shopEnv) ordersOf(t *testing.T, userID int64) int {
	t.Helper()
	return e.count(t, `SELECT count(*) FROM orders WHERE user_id = $1`, userID)
}

// testAddress is a valid shipping address.
func testAddress() map[string]any {
	return map[string]any{
		"name": "Ada Lovelace", "line1": "12 Analytical Row", "line2": "Flat 3", "city": "London",
		"region": "Greater London", "postalCode": "N1 9GU", "country": "GB", "phone": "+44 20 7946 0000",
	}
}

func withAddress(changes map[string]any) map[string]any {
	a := testAddress()
	for k, v := range changes {
		a[k] = v
	}
	return a
}

// cartOf reads the client's cart.
func cartOf(t *testing.T, c *gqlClient) cartView {
	t.Helper()
	var out struct {
		Cart cartView `json:"cart"`
	}
	c.as(t).do(cartQuery, nil).decode(t, &out)
	return out.Cart
}

func cartMutation(t *testing.T, c *gqlClient, query, field string, input map[string]any) cartPayloadView {
	t.Helper()
	var vars map[string]any
	if input != nil {
		vars = map[string]any{"input": input}
	}
	var out map[string]cartPayloadView
	c.as(t).do(query, vars).decode(t, &out)
	p, ok := out[field]
	require.True(t, ok, field)
	require.NotNil(t, p.UserErrors, "userErrors is never null")
	if len(p.UserErrors) == 0 {
		require.NotNil(t, p.Cart, "a successful cart mutation returns the cart")
	}
	return p
}

func cartAdd(t *testing.T, c *gqlClient, variantGID string, quantity int) cartPayloadView {
	t.Helper()
	return cartMutation(t, c, cartAddMutation, "cartItemAdd", map[string]any{"variantId": variantGID, "quantity": quantity})
}

func cartUpdate(t *testing.T, c *gqlClient, variantGID string, quantity int) cartPayloadView {
	t.Helper()
	return cartMutation(t, c, cartUpdateMutation, "cartItemUpdate", map[string]any{"variantId": variantGID, "quantity": quantity})
}

func cartRemove(t *testing.T, c *gqlClient, variantGID string) cartPayloadView {
	t.Helper()
	return cartMutation(t, c, cartRemoveMutation, "cartItemRemove", map[string]any{"variantId": variantGID})
}

func cartClear(t *testing.T, c *gqlClient) cartPayloadView {
	t.Helper()
	return cartMutation(t, c, cartClearMutation, "cartClear", nil)
}

// mustAdd adds to the cart and fails on any user error.
func mustAdd(t *testing.T, c *gqlClient, variantGID string, quantity int) cartView {
	t.Helper()
	p := cartAdd(t, c, variantGID, quantity)
	require.Empty(t, p.UserErrors)
	return *p.Cart
}

// checkoutInput is a CheckoutInput; key "" leaves idempotencyKey out.
func checkoutInput(key string, address map[string]any) map[string]any {
	in := map[string]any{"shippingAddress": address}
	if key != "" {
		in["idempotencyKey"] = key
	}
	return in
}

func checkoutWith(t *testing.T, c *gqlClient, input map[string]any) orderPayloadView {
	t.Helper()
	var out struct {
		P orderPayloadView `json:"checkout"`
	}
	c.as(t).do(checkoutMutation, map[string]any{"input": input}).decode(t, &out)
	require.NotNil(t, out.P.UserErrors, "userErrors is never null")
	for _, ue := range out.P.UserErrors {
		require.NotEqual(t, "PAYMENT_PROVIDER_UNAVAILABLE", ue.Code,
			"the order was placed but no payment intent was made: is stripe-mock running (TEST_STRIPE_URL, default %s)?", testStripeURL())
	}
	if len(out.P.UserErrors) > 0 {
		require.Nil(t, out.P.Order, "no order beside userErrors")
	}
	return out.P
}

// placeOrder checks out c's cart with a fresh key and fails on any user error.
func placeOrder(t *testing.T, c *gqlClient) orderView {
	t.Helper()
	p := checkoutWith(t, c, checkoutInput(uuid.NewString(), testAddress()))
	require.Empty(t, p.UserErrors)
	require.NotNil(t, p.Order)
	return *p.Order
}

// buy fills c's cart with quantity of v and checks out.
func buy(t *testing.T, c *gqlClient, v variantRef, quantity int) orderView {
	t.Helper()
	mustAdd(t, c, v.gid, quantity)
	return placeOrder(t, c)
}

// orderAs reads order(id:) as c; nil when not visible.
func orderAs(t *testing.T, c *gqlClient, id string) *orderView {
	t.Helper()
	var out struct {
		Order *orderView `json:"order"`
	}
	c.as(t).do(orderQuery, map[string]any{"id": id}).decode(t, &out)
	return out.Order
}

// nodeOrderAs reads node(id:) as c; nil when not visible.
func nodeOrderAs(t *testing.T, c *gqlClient, id string) *orderView {
	t.Helper()
	var out struct {
		Node *orderView `json:"node"`
	}
	c.as(t).do(orderNodeQuery, map[string]any{"id": id}).decode(t, &out)
	return out.Node
}

func orderMutation(t *testing.T, c *gqlClient, query, field string, input map[string]any) orderPayloadView {
	t.Helper()
	var out map[string]orderPayloadView
	c.as(t).do(query, map[string]any{"input": input}).decode(t, &out)
	p, ok := out[field]
	require.True(t, ok, field)
	require.NotNil(t, p.UserErrors, "userErrors is never null")
	if len(p.UserErrors) > 0 {
		require.Nil(t, p.Order, "no order beside userErrors")
	} else {
		require.NotNil(t, p.Order)
	}
	return p
}

func cancelOrder(t *testing.T, c *gqlClient, id string) orderPayloadView {
	t.Helper()
	return orderMutation(t, c, orderCancelMutation, "orderCancel", map[string]any{"id": id})
}

// setStatus is orderStatusUpdate; tracking "" leaves trackingNumber out.
func setStatus(t *testing.T, c *gqlClient, id, status, tracking string) orderPayloadView {
	t.Helper()
	in := map[string]any{"id": id, "status": status}
	if tracking != "" {
		in["trackingNumber"] = tracking
	}
	return orderMutation(t, c, orderStatusMutation, "orderStatusUpdate", in)
}

func listOrders(t *testing.T, c *gqlClient, first int, after string, filter map[string]any) ordersPage {
	t.Helper()
	vars := map[string]any{"first": first}
	if after != "" {
		vars["after"] = after
	}
	if filter != nil {
		vars["filter"] = filter
	}
	var out struct {
		Orders ordersPage `json:"orders"`
	}
	c.as(t).do(ordersQuery, vars).decode(t, &out)
	return out.Orders
}

// walkOrders pages through orders size at a time and returns every ID in order, failing if a
// page repeats an ID.
func walkOrders(t *testing.T, c *gqlClient, size int, filter map[string]any) []string {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	after := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 100, "pagination does not end")
		page := listOrders(t, c, size, after, filter)
		require.LessOrEqual(t, len(page.Edges), size)
		for _, id := range page.ids() {
			require.False(t, seen[id], "order %s listed twice", id)
			seen[id] = true
			ids = append(ids, id)
		}
		if !page.PageInfo.HasNextPage {
			return ids
		}
		require.NotNil(t, page.PageInfo.EndCursor)
		after = *page.PageInfo.EndCursor
	}
}

// tryRequest is do for goroutines: it returns errors instead of failing the test, and sends
// c.header too.
func (c *gqlClient) tryRequest(query string, vars map[string]any) (*gqlResponse, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, c.srv.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := &gqlResponse{HTTP: resp}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("decode %q: %w", raw, err)
	}
	return out, nil
}

// tryPayload runs a one-field mutation from a goroutine and decodes its payload into out.
func (c *gqlClient) tryPayload(query string, vars map[string]any, field string, out any) error {
	resp, err := c.tryRequest(query, vars)
	if err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("top-level errors: %+v", resp.Errors)
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(resp.Data, &data); err != nil {
		return err
	}
	raw, ok := data[field]
	if !ok {
		return fmt.Errorf("no %s in %s", field, resp.Data)
	}
	return json.Unmarshal(raw, out)
}

// parallel runs fn(i) for i in [0, n) on at most workers goroutines and returns the first
// error.
func parallel(n, workers int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// together runs fn(i) for i in [0, n), each on its own goroutine, all released at once.
func together(n int, fn func(i int)) {
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}
