package graph_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
)

// Shared helpers of the cart, checkout and order API tests (checkout_api_test.go,
// order_api_test.go).

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
  events { sequence kind status previousStatus at actorId note }`

const (
	checkoutMutation     = `mutation Checkout($input: CheckoutInput!) { checkout(input: $input) { order { ` + orderFields + ` } ` + commerceErrorFields + ` } }`
	orderQuery           = `query Order($id: ID!) { order(id: $id) { ` + orderFields + ` } }`
	orderNodeQuery       = `query Node($id: ID!) { node(id: $id) { ... on Order { ` + orderFields + ` } } }`
	orderCancelMutation  = `mutation Cancel($input: OrderCancelInput!) { orderCancel(input: $input) { order { ` + orderFields + ` } ` + commerceErrorFields + ` } }`
	orderStatusMutation  = `mutation Status($input: OrderStatusUpdateInput!) { orderStatusUpdate(input: $input) { order { ` + orderFields + ` } ` + commerceErrorFields + ` } }`
	ordersQuery          = `query Orders($first: Int, $after: String, $filter: OrderFilter) { orders(first: $first, after: $after, filter: $filter) { edges { cursor node { id status createdAt } } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } }`
	commercePassword     = apitest.Password
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
	Kind           string    `json:"kind"`
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

// newShopEnv starts a server (on Redis when `make test` found one, so the catalog cache's
// stock invalidation is exercised) with an admin.
func newShopEnv(t *testing.T) *apitest.Env {
	t.Helper()
	return apitest.NewEnv(t, apitest.EnvOptions{Redis: true})
}

func withAddress(changes map[string]any) map[string]any {
	a := apitest.Address()
	for k, v := range changes {
		a[k] = v
	}
	return a
}

// cartOf reads the client's cart.
func cartOf(t *testing.T, c *apitest.Client) cartView {
	t.Helper()
	var out struct {
		Cart cartView `json:"cart"`
	}
	c.As(t).Do(cartQuery, nil).Decode(t, &out)
	return out.Cart
}

func cartMutation(t *testing.T, c *apitest.Client, query, field string, input map[string]any) cartPayloadView {
	t.Helper()
	var vars map[string]any
	if input != nil {
		vars = map[string]any{"input": input}
	}
	var out map[string]cartPayloadView
	c.As(t).Do(query, vars).Decode(t, &out)
	p, ok := out[field]
	require.True(t, ok, field)
	require.NotNil(t, p.UserErrors, "userErrors is never null")
	if len(p.UserErrors) == 0 {
		require.NotNil(t, p.Cart, "a successful cart mutation returns the cart")
	}
	return p
}

func cartAdd(t *testing.T, c *apitest.Client, variantGID string, quantity int) cartPayloadView {
	t.Helper()
	return cartMutation(t, c, cartAddMutation, "cartItemAdd", map[string]any{"variantId": variantGID, "quantity": quantity})
}

func cartUpdate(t *testing.T, c *apitest.Client, variantGID string, quantity int) cartPayloadView {
	t.Helper()
	return cartMutation(t, c, cartUpdateMutation, "cartItemUpdate", map[string]any{"variantId": variantGID, "quantity": quantity})
}

func cartRemove(t *testing.T, c *apitest.Client, variantGID string) cartPayloadView {
	t.Helper()
	return cartMutation(t, c, cartRemoveMutation, "cartItemRemove", map[string]any{"variantId": variantGID})
}

func cartClear(t *testing.T, c *apitest.Client) cartPayloadView {
	t.Helper()
	return cartMutation(t, c, cartClearMutation, "cartClear", nil)
}

// mustAdd adds to the cart and fails on any user error.
func mustAdd(t *testing.T, c *apitest.Client, variantGID string, quantity int) cartView {
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

func checkoutWith(t *testing.T, c *apitest.Client, input map[string]any) orderPayloadView {
	t.Helper()
	var out struct {
		P orderPayloadView `json:"checkout"`
	}
	c.As(t).Do(checkoutMutation, map[string]any{"input": input}).Decode(t, &out)
	require.NotNil(t, out.P.UserErrors, "userErrors is never null")
	for _, ue := range out.P.UserErrors {
		require.NotEqual(t, "PAYMENT_PROVIDER_UNAVAILABLE", ue.Code,
			"the order was placed but no payment intent was made: is stripe-mock running (TEST_STRIPE_URL, default %s)?", apitest.StripeURL())
	}
	if len(out.P.UserErrors) > 0 {
		require.Nil(t, out.P.Order, "no order beside userErrors")
	}
	return out.P
}

// placeOrder checks out c's cart with a fresh key and fails on any user error.
func placeOrder(t *testing.T, c *apitest.Client) orderView {
	t.Helper()
	p := checkoutWith(t, c, checkoutInput(uuid.NewString(), apitest.Address()))
	require.Empty(t, p.UserErrors)
	require.NotNil(t, p.Order)
	return *p.Order
}

// buy fills c's cart with quantity of v and checks out.
func buy(t *testing.T, c *apitest.Client, v apitest.Variant, quantity int) orderView {
	t.Helper()
	mustAdd(t, c, v.GID, quantity)
	return placeOrder(t, c)
}

// orderAs reads order(id:) as c; nil when not visible.
func orderAs(t *testing.T, c *apitest.Client, id string) *orderView {
	t.Helper()
	var out struct {
		Order *orderView `json:"order"`
	}
	c.As(t).Do(orderQuery, map[string]any{"id": id}).Decode(t, &out)
	return out.Order
}

// nodeOrderAs reads node(id:) as c; nil when not visible.
func nodeOrderAs(t *testing.T, c *apitest.Client, id string) *orderView {
	t.Helper()
	var out struct {
		Node *orderView `json:"node"`
	}
	c.As(t).Do(orderNodeQuery, map[string]any{"id": id}).Decode(t, &out)
	return out.Node
}

func orderMutation(t *testing.T, c *apitest.Client, query, field string, input map[string]any) orderPayloadView {
	t.Helper()
	var out map[string]orderPayloadView
	c.As(t).Do(query, map[string]any{"input": input}).Decode(t, &out)
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

func cancelOrder(t *testing.T, c *apitest.Client, id string) orderPayloadView {
	t.Helper()
	return orderMutation(t, c, orderCancelMutation, "orderCancel", map[string]any{"id": id})
}

// setStatus is orderStatusUpdate; tracking "" leaves trackingNumber out.
func setStatus(t *testing.T, c *apitest.Client, id, status, tracking string) orderPayloadView {
	t.Helper()
	in := map[string]any{"id": id, "status": status}
	if tracking != "" {
		in["trackingNumber"] = tracking
	}
	return orderMutation(t, c, orderStatusMutation, "orderStatusUpdate", in)
}

func listOrders(t *testing.T, c *apitest.Client, first int, after string, filter map[string]any) ordersPage {
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
	c.As(t).Do(ordersQuery, vars).Decode(t, &out)
	return out.Orders
}

// walkOrders pages through orders size at a time and returns every ID in order, failing if a
// page repeats an ID.
func walkOrders(t *testing.T, c *apitest.Client, size int, filter map[string]any) []string {
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
