package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/product"
)

func TestCart(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)

	t.Run("add creates a line and adds to an existing one", func(t *testing.T) {
		t.Parallel()
		v, w := e.variant(t, 1250, 20), e.variant(t, 300, 5)
		c, _ := e.customer(t)

		cart := mustAdd(t, c, v.gid, 2)
		require.Len(t, cart.Lines, 1)
		require.Equal(t, cartLineView{
			Variant:  cartVariantView{ID: v.gid, SKU: v.sku},
			Quantity: 2, UnitPrice: moneyJSON{1250, "USD"}, LineTotal: moneyJSON{2500, "USD"},
			Available: true, AvailableQuantity: 20,
		}, cart.Lines[0])
		require.Equal(t, 2, cart.TotalQuantity)
		require.Equal(t, &moneyJSON{2500, "USD"}, cart.Subtotal)
		require.Nil(t, cart.Token, "a customer's cart has no token")

		cart = mustAdd(t, c, v.gid, 3)
		require.Len(t, cart.Lines, 1, "the same variant adds to its line")
		require.Equal(t, 5, cart.Lines[0].Quantity)
		require.Equal(t, moneyJSON{6250, "USD"}, cart.Lines[0].LineTotal)

		cart = mustAdd(t, c, w.gid, 1)
		require.Equal(t, map[string]int{v.gid: 5, w.gid: 1}, cart.quantities())
		require.Equal(t, []string{v.gid, w.gid}, []string{cart.Lines[0].Variant.ID, cart.Lines[1].Variant.ID}, "oldest line first")
		require.Equal(t, 6, cart.TotalQuantity)
		require.Equal(t, &moneyJSON{6550, "USD"}, cart.Subtotal)
		require.Equal(t, cart, cartOf(t, c), "the cart query agrees with the payload")
	})

	t.Run("update sets the quantity and 0 removes the line", func(t *testing.T) {
		t.Parallel()
		v, w := e.variant(t, 1000, 20), e.variant(t, 500, 20)
		c, _ := e.customer(t)
		mustAdd(t, c, v.gid, 2)
		mustAdd(t, c, w.gid, 1)

		p := cartUpdate(t, c, v.gid, 7)
		require.Empty(t, p.UserErrors)
		require.Equal(t, map[string]int{v.gid: 7, w.gid: 1}, p.Cart.quantities())
		require.Equal(t, &moneyJSON{7500, "USD"}, p.Cart.Subtotal)

		p = cartUpdate(t, c, v.gid, 0)
		require.Empty(t, p.UserErrors)
		require.Equal(t, map[string]int{w.gid: 1}, p.Cart.quantities())
		require.Equal(t, map[string]int{w.gid: 1}, cartOf(t, c).quantities())
	})

	t.Run("remove deletes a line and a missing line is NOT_FOUND", func(t *testing.T) {
		t.Parallel()
		v, w := e.variant(t, 1000, 20), e.variant(t, 500, 20)
		c, _ := e.customer(t)
		mustAdd(t, c, v.gid, 2)
		mustAdd(t, c, w.gid, 1)

		p := cartRemove(t, c, v.gid)
		require.Empty(t, p.UserErrors)
		require.Equal(t, map[string]int{w.gid: 1}, p.Cart.quantities())

		p = cartRemove(t, c, v.gid)
		require.Equal(t, []string{"NOT_FOUND:input.variantId"}, errorCodesOf(p.UserErrors))
		require.Equal(t, map[string]int{w.gid: 1}, cartOf(t, c).quantities())
	})

	t.Run("clear empties the cart", func(t *testing.T) {
		t.Parallel()
		v, w := e.variant(t, 1000, 20), e.variant(t, 500, 20)
		c, _ := e.customer(t)
		mustAdd(t, c, v.gid, 2)
		mustAdd(t, c, w.gid, 1)

		p := cartClear(t, c)
		require.Empty(t, p.UserErrors)
		require.Empty(t, p.Cart.Lines)
		require.Zero(t, p.Cart.TotalQuantity)
		require.Nil(t, p.Cart.Subtotal, "an empty cart has no subtotal")
		require.Empty(t, cartOf(t, c).Lines)
	})

	t.Run("prices are the current ones until checkout", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 20)
		c, _ := e.customer(t)
		mustAdd(t, c, v.gid, 3)
		e.setPrice(t, v, 1500)

		cart := cartOf(t, c)
		require.Equal(t, moneyJSON{1500, "USD"}, cart.Lines[0].UnitPrice)
		require.Equal(t, moneyJSON{4500, "USD"}, cart.Lines[0].LineTotal)
		require.Equal(t, &moneyJSON{4500, "USD"}, cart.Subtotal)
	})

	t.Run("archived, deleted and short lines stay in the cart flagged unavailable", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		archived := e.variant(t, 1000, 10)
		pair := e.product(t, productSpec{variants: []product.VariantInput{
			{Name: "Kept", Price: 700, Stock: 10}, {Name: "Deleted", Price: 800, Stock: 10},
		}})
		deleted := pair[1]
		short := e.variant(t, 500, 10)
		healthy := e.variant(t, 200, 10)
		c, _ := e.customer(t)
		mustAdd(t, c, archived.gid, 2)
		mustAdd(t, c, deleted.gid, 1)
		mustAdd(t, c, short.gid, 4)
		mustAdd(t, c, healthy.gid, 1)

		_, err := e.srv.app.catalog.Archive(ctx, e.adminViewer(), archived.productID)
		require.NoError(t, err)
		_, err = e.srv.app.catalog.VariantDelete(ctx, e.adminViewer(), deleted.variantID)
		require.NoError(t, err)
		_, err = e.srv.app.catalog.StockAdjust(ctx, e.adminViewer(), short.variantID, -8)
		require.NoError(t, err)

		cart := cartOf(t, c)
		require.Len(t, cart.Lines, 4, "no line is silently dropped")
		type flag struct {
			Quantity, Available int
			OK                  bool
		}
		got := map[string]flag{}
		for _, l := range cart.Lines {
			got[l.Variant.ID] = flag{l.Quantity, l.AvailableQuantity, l.Available}
		}
		require.Equal(t, map[string]flag{
			archived.gid: {2, 0, false},
			deleted.gid:  {1, 0, false},
			short.gid:    {4, 2, false},
			healthy.gid:  {1, 10, true},
		}, got)
		require.Equal(t, 8, cart.TotalQuantity)

		// Restocking makes the short line available again.
		_, err = e.srv.app.catalog.StockAdjust(ctx, e.adminViewer(), short.variantID, 2)
		require.NoError(t, err)
		l := cartOf(t, c).line(short.gid)
		require.True(t, l.Available)
		require.Equal(t, 4, l.AvailableQuantity)
	})

	t.Run("mixed currencies are refused with CURRENCY_MISMATCH", func(t *testing.T) {
		t.Parallel()
		usd := e.variant(t, 1000, 10)
		eur := e.product(t, productSpec{currency: "EUR", variants: []product.VariantInput{{Price: 900, Stock: 10}}})[0]
		c, _ := e.customer(t)
		mustAdd(t, c, usd.gid, 1)

		p := cartAdd(t, c, eur.gid, 1)
		require.Equal(t, []string{"CURRENCY_MISMATCH:input.variantId"}, errorCodesOf(p.UserErrors))
		p = cartUpdate(t, c, eur.gid, 2)
		require.Equal(t, []string{"CURRENCY_MISMATCH:input.variantId"}, errorCodesOf(p.UserErrors))
		require.Equal(t, map[string]int{usd.gid: 1}, cartOf(t, c).quantities())

		// A cart in euros alone is fine.
		other, _ := e.customer(t)
		require.Equal(t, &moneyJSON{900, "EUR"}, mustAdd(t, other, eur.gid, 1).Subtotal)
	})

	t.Run("bad quantities are INVALID and change nothing", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 2000)
		c, _ := e.customer(t)
		mustAdd(t, c, v.gid, 2)
		for _, q := range []int{0, -1, 1001, -1000} {
			p := cartAdd(t, c, v.gid, q)
			require.Equal(t, []string{"INVALID:input.quantity"}, errorCodesOf(p.UserErrors), "add %d", q)
		}
		for _, q := range []int{-1, 1001} {
			p := cartUpdate(t, c, v.gid, q)
			require.Equal(t, []string{"INVALID:input.quantity"}, errorCodesOf(p.UserErrors), "update %d", q)
		}
		p := cartAdd(t, c, v.gid, 999)
		require.Equal(t, []string{"INVALID:input.quantity"}, errorCodesOf(p.UserErrors), "a line holds at most 1000 units")
		require.Equal(t, map[string]int{v.gid: 2}, cartOf(t, c).quantities())

		require.Equal(t, 1000, mustAdd(t, c, v.gid, 998).Lines[0].Quantity, "exactly 1000 is allowed")
	})

	t.Run("unknown or malformed variant ids are NOT_FOUND", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		v := e.variant(t, 1000, 10)
		archived := e.variant(t, 1000, 10)
		_, err := e.srv.app.catalog.Archive(ctx, e.adminViewer(), archived.productID)
		require.NoError(t, err)
		pair := e.product(t, productSpec{variants: []product.VariantInput{{Price: 1}, {Price: 2}}})
		_, err = e.srv.app.catalog.VariantDelete(ctx, e.adminViewer(), pair[1].variantID)
		require.NoError(t, err)

		c, _ := e.customer(t)
		mustAdd(t, c, v.gid, 1)
		for name, id := range map[string]string{
			"unknown id":              globalID("ProductVariant", 1<<40),
			"malformed id":            "not a global id!",
			"empty id":                "",
			"another type's id":       v.productGID,
			"archived product's":      archived.gid,
			"deleted variant":         pair[1].gid,
			"id with a leading zero":  encodeTestID(fmt.Sprintf("ProductVariant:0%d", v.variantID)),
			"negative id":             encodeTestID("ProductVariant:-1"),
			"id that overflows int64": encodeTestID("ProductVariant:99999999999999999999"),
		} {
			p := cartAdd(t, c, id, 1)
			require.Equal(t, []string{"NOT_FOUND:input.variantId"}, errorCodesOf(p.UserErrors), "add: %s", name)
			p = cartUpdate(t, c, id, 1)
			require.Equal(t, []string{"NOT_FOUND:input.variantId"}, errorCodesOf(p.UserErrors), "update: %s", name)
		}
		require.Equal(t, map[string]int{v.gid: 1}, cartOf(t, c).quantities())
	})

	t.Run("a customer's refused first add creates no cart", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		archived := e.variant(t, 1000, 10)
		_, err := e.srv.app.catalog.Archive(ctx, e.adminViewer(), archived.productID)
		require.NoError(t, err)
		c, userID := e.customer(t)
		for _, id := range []string{archived.gid, globalID("ProductVariant", 1<<40)} {
			p := cartAdd(t, c, id, 1)
			require.Equal(t, []string{"NOT_FOUND:input.variantId"}, errorCodesOf(p.UserErrors))
			p = cartUpdate(t, c, id, 1)
			require.Equal(t, []string{"NOT_FOUND:input.variantId"}, errorCodesOf(p.UserErrors))
		}
		var carts int
		require.NoError(t, e.srv.app.db.Pool.QueryRow(ctx, `SELECT count(*) FROM carts WHERE user_id = $1`, userID).Scan(&carts))
		require.Zero(t, carts)

		v := e.variant(t, 1000, 10)
		require.Equal(t, 3, mustAdd(t, c, v.gid, 3).TotalQuantity, "the first accepted add creates the cart")
		require.NoError(t, e.srv.app.db.Pool.QueryRow(ctx, `SELECT count(*) FROM carts WHERE user_id = $1`, userID).Scan(&carts))
		require.Equal(t, 1, carts)
	})

	t.Run("the cart follows the customer across clients", func(t *testing.T) {
		t.Parallel()
		v, w := e.variant(t, 1000, 10), e.variant(t, 500, 10)
		email := uniqueEmail()
		phone := e.srv.client(t)
		reg := phone.register(email, commercePassword)
		require.Empty(t, reg.UserErrors)
		phone.bearer = reg.Tokens.AccessToken
		laptop := e.srv.client(t) // a second session, signed in with cookies only
		require.Empty(t, laptop.login(email, commercePassword).UserErrors)

		mustAdd(t, phone, v.gid, 2)
		require.Equal(t, map[string]int{v.gid: 2}, cartOf(t, laptop).quantities())
		mustAdd(t, laptop, w.gid, 1)
		require.Empty(t, cartUpdate(t, laptop, v.gid, 3).UserErrors)
		require.Equal(t, map[string]int{v.gid: 3, w.gid: 1}, cartOf(t, phone).quantities())
	})
}

func TestCartAnonymous(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)

	t.Run("the token is returned once and the sg_cart cookie keeps the cart", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 10)
		// issued checks that resp, a cart response to a visitor without a token, issued one in
		// Cart.token and in the sg_cart cookie, and returns it.
		issued := func(t *testing.T, resp *gqlResponse, c *cartView) string {
			t.Helper()
			require.NotNil(t, c.Token, "a visitor without a token is issued one")
			token := *c.Token
			require.GreaterOrEqual(t, len(token), 40, "the token is long and random")
			ck := cookieNamed(resp.HTTP, "sg_cart")
			require.NotNil(t, ck, "the token is also set as a cookie")
			require.Equal(t, token, ck.Value)
			require.True(t, ck.HttpOnly)
			return token
		}

		browser := e.srv.client(t)
		var looked struct {
			Cart cartView `json:"cart"`
		}
		resp := browser.do(cartQuery, nil)
		resp.decode(t, &looked)
		require.Empty(t, looked.Cart.Lines, "no cart yet")
		issued(t, resp, &looked.Cart)
		first := mustAdd(t, browser, v.gid, 2)
		require.Nil(t, first.Token, "the token is returned only when issued")
		require.Equal(t, map[string]int{v.gid: 2}, first.quantities())
		again := mustAdd(t, browser, v.gid, 1)
		require.Nil(t, again.Token, "the token is returned only when issued")
		require.Equal(t, map[string]int{v.gid: 3}, again.quantities(), "the cookie found the same cart")
		require.Equal(t, map[string]int{v.gid: 3}, cartOf(t, browser).quantities())
		require.Nil(t, cartOf(t, browser).Token)

		// A visitor whose first request is cartItemAdd is issued the token by it.
		direct := e.srv.client(t)
		var added struct {
			P cartPayloadView `json:"cartItemAdd"`
		}
		resp = direct.do(cartAddMutation, map[string]any{"input": map[string]any{"variantId": v.gid, "quantity": 2}})
		resp.decode(t, &added)
		require.Empty(t, added.P.UserErrors)
		issued(t, resp, added.P.Cart)
		again = mustAdd(t, direct, v.gid, 1)
		require.Nil(t, again.Token, "the token is returned only when issued")
		require.Equal(t, map[string]int{v.gid: 3}, again.quantities(), "the cookie found the same cart")
	})

	t.Run("the X-Cart-Token header finds the same cart", func(t *testing.T) {
		t.Parallel()
		v, w := e.variant(t, 1000, 10), e.variant(t, 500, 10)
		app1 := e.srv.client(t)
		token := mustAdd(t, app1, v.gid, 1).Token
		require.NotNil(t, token)

		app2 := e.srv.client(t) // no cookies: the header only
		app2.header.Set("X-Cart-Token", *token)
		require.Equal(t, map[string]int{v.gid: 1}, cartOf(t, app2).quantities())
		added := mustAdd(t, app2, w.gid, 2)
		require.Nil(t, added.Token)
		require.Equal(t, map[string]int{v.gid: 1, w.gid: 2}, cartOf(t, app1).quantities())
	})

	t.Run("an unknown token reads as an empty cart", func(t *testing.T) {
		t.Parallel()
		c := e.srv.client(t)
		c.header.Set("X-Cart-Token", "no-such-token")
		cart := cartOf(t, c)
		require.Empty(t, cart.Lines)
		require.Nil(t, cart.Subtotal)
	})

	t.Run("anonymous carts are separate", func(t *testing.T) {
		t.Parallel()
		v, w := e.variant(t, 1000, 10), e.variant(t, 500, 10)
		a, b := e.srv.client(t), e.srv.client(t)
		mustAdd(t, a, v.gid, 1)
		mustAdd(t, b, w.gid, 1)
		require.Equal(t, map[string]int{v.gid: 1}, cartOf(t, a).quantities())
		require.Equal(t, map[string]int{w.gid: 1}, cartOf(t, b).quantities())
	})
}

// TestCartID: a cart has one global ID, known before the cart holds anything, across the cart
// query and the cart mutations (so that a client cache updates a watched cart from cartItemAdd),
// which node(id:) resolves for the cart's owner only. Reading a cart writes nothing.
func TestCartID(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	const nodeQuery = `query N($id: ID!) { node(id: $id) { __typename id ... on Cart { id totalQuantity } } }`
	type nodeView struct {
		Typename      string `json:"__typename"`
		ID            string `json:"id"`
		TotalQuantity int    `json:"totalQuantity"`
	}
	nodeAs := func(t *testing.T, c *gqlClient, id string) *nodeView {
		t.Helper()
		var out struct {
			Node *nodeView `json:"node"`
		}
		c.as(t).do(nodeQuery, map[string]any{"id": id}).decode(t, &out)
		return out.Node
	}
	// getCart reads the cart by GET, as a client whose queries a CDN may see, and returns it
	// with the number of SQL statements the request ran.
	getCart := func(t *testing.T, c *gqlClient) (cartView, int64) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/graphql?query="+url.QueryEscape(cartQuery), nil)
		require.NoError(t, err)
		req.Header.Set("Accept", "application/json")
		for k, v := range c.header {
			req.Header[k] = v
		}
		if c.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+c.bearer)
		}
		resp, err := c.http.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		out := &gqlResponse{HTTP: resp}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
		var data struct {
			Cart cartView `json:"cart"`
		}
		out.decode(t, &data)
		return data.Cart, out.sqlStatements(t)
	}
	guestCarts := func(t *testing.T, token string) int {
		t.Helper()
		sum := sha256.Sum256([]byte(token))
		return e.count(t, `SELECT count(*) FROM carts WHERE token_hash = $1`, sum[:])
	}

	t.Run("a customer's cart: one id before and after the first add, a read creates no cart, node for the customer only", func(t *testing.T) {
		t.Parallel()
		v, w := e.variant(t, 1000, 10), e.variant(t, 500, 10)
		alice, aliceID := e.customer(t)
		bob, _ := e.customer(t)
		first := cartOf(t, alice)
		require.NotEmpty(t, first.ID, "an empty cart has its id already")
		require.Nil(t, first.Token)
		got, statements := getCart(t, alice)
		require.Equal(t, first.ID, got.ID)
		require.LessOrEqual(t, statements, int64(1), "the lines, and nothing else")
		require.Equal(t, &nodeView{Typename: "Cart", ID: first.ID}, nodeAs(t, alice, first.ID), "node resolves the cart before it holds anything")
		require.Zero(t, e.count(t, `SELECT count(*) FROM carts WHERE user_id = $1`, aliceID), "reading the cart, by POST or GET, creates none")

		require.Equal(t, first.ID, mustAdd(t, alice, v.gid, 1).ID, "the first cartItemAdd keeps the id")
		require.Equal(t, 1, e.count(t, `SELECT count(*) FROM carts WHERE user_id = $1`, aliceID), "the first add creates the cart")
		require.Equal(t, first.ID, mustAdd(t, alice, w.gid, 2).ID, "the same id in every cartItemAdd response")
		require.Equal(t, first.ID, cartOf(t, alice).ID)
		require.Equal(t, &nodeView{Typename: "Cart", ID: first.ID, TotalQuantity: 3}, nodeAs(t, alice, first.ID))
		require.NotEqual(t, first.ID, cartOf(t, bob).ID, "another customer has another cart")
		require.Nil(t, nodeAs(t, bob, first.ID), "another customer")
		require.Nil(t, nodeAs(t, e.srv.client(t), first.ID), "an anonymous visitor")
		stranger := e.srv.client(t)
		mustAdd(t, stranger, v.gid, 1)
		require.Nil(t, nodeAs(t, stranger, first.ID), "an anonymous visitor with a cart of their own")
	})

	t.Run("a guest's cart: the cart query issues the token, and the id it gives holds from the first add on", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 10)
		browser := e.srv.client(t)
		looked, _ := getCart(t, browser)
		require.NotEmpty(t, looked.ID)
		require.NotNil(t, looked.Token, "a visitor without a token is issued one")
		token := *looked.Token
		again := cartOf(t, browser)
		require.Equal(t, looked.ID, again.ID, "the cookie carries the token")
		require.Nil(t, again.Token, "a token is issued once")
		require.Equal(t, &nodeView{Typename: "Cart", ID: looked.ID}, nodeAs(t, browser, looked.ID), "node resolves the cart before it holds anything")
		require.Zero(t, guestCarts(t, token), "reading the cart creates none")

		added := mustAdd(t, browser, v.gid, 1)
		require.Equal(t, looked.ID, added.ID, "the first cartItemAdd keeps the id the cart query gave")
		require.Nil(t, added.Token, "under the token the cart query issued")
		require.Equal(t, 1, guestCarts(t, token))
		require.Equal(t, looked.ID, mustAdd(t, browser, v.gid, 2).ID, "the same id in every cartItemAdd response")
		require.Equal(t, looked.ID, cartOf(t, browser).ID)
		id := looked.ID
		require.Equal(t, &nodeView{Typename: "Cart", ID: id, TotalQuantity: 3}, nodeAs(t, browser, id), "the cookie's holder")
		app := e.srv.client(t)
		app.header.Set("X-Cart-Token", token)
		require.Equal(t, &nodeView{Typename: "Cart", ID: id, TotalQuantity: 3}, nodeAs(t, app, id), "the header's holder")
		require.Nil(t, nodeAs(t, e.srv.client(t), id), "another anonymous visitor")
		wrong := e.srv.client(t)
		wrong.header.Set("X-Cart-Token", "no-such-token")
		require.Nil(t, nodeAs(t, wrong, id), "a wrong token")
		customer, _ := e.customer(t)
		require.Nil(t, nodeAs(t, customer, id), "a customer")
	})

	t.Run("a guest's cart is read in one statement", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 10)
		browser := e.srv.client(t)
		mustAdd(t, browser, v.gid, 2)
		got, statements := getCart(t, browser)
		require.Equal(t, 2, got.TotalQuantity)
		require.Equal(t, int64(1), statements, "the lines, found by the token, and nothing else")
	})

	t.Run("an app without cookies: the token from the cart query, sent as X-Cart-Token, keeps the id", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 10)
		app := e.srv.client(t)
		app.http.Jar = nil
		looked := cartOf(t, app)
		require.NotNil(t, looked.Token)
		app.header.Set("X-Cart-Token", *looked.Token)
		require.Equal(t, looked.ID, cartOf(t, app).ID)
		added := mustAdd(t, app, v.gid, 1)
		require.Equal(t, looked.ID, added.ID)
		require.Nil(t, added.Token)
		require.Equal(t, 1, cartOf(t, app).TotalQuantity)
	})

	t.Run("signing in merges the guest cart into the customer's, which keeps the customer's id", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 10)
		customer, _ := e.customer(t)
		mine := cartOf(t, customer).ID
		browser := e.srv.client(t)
		guest := cartOf(t, browser)
		require.NotNil(t, guest.Token)
		require.Equal(t, guest.ID, mustAdd(t, browser, v.gid, 2).ID)
		customer.header.Set("X-Cart-Token", *guest.Token) // signing in on the guest's device
		merged := cartOf(t, customer)
		require.Equal(t, mine, merged.ID)
		require.Equal(t, 2, merged.TotalQuantity)
		require.Equal(t, mine, mustAdd(t, customer, v.gid, 1).ID)
	})
}

func TestCartMergeOnSignIn(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)

	t.Run("signing in adds the anonymous lines, capped by stock, and deletes the anonymous cart", func(t *testing.T) {
		t.Parallel()
		x := e.variant(t, 1000, 5) // in both carts: 2 + 4 capped at 5
		y := e.variant(t, 500, 10) // anonymous only
		z := e.variant(t, 200, 10) // customer only
		email := uniqueEmail()
		phone := e.srv.client(t)
		reg := phone.register(email, commercePassword)
		require.Empty(t, reg.UserErrors)
		phone.bearer = reg.Tokens.AccessToken
		mustAdd(t, phone, x.gid, 2)
		mustAdd(t, phone, z.gid, 1)

		browser := e.srv.client(t)
		token := mustAdd(t, browser, x.gid, 4).Token
		require.NotNil(t, token)
		mustAdd(t, browser, y.gid, 3)

		require.Empty(t, browser.login(email, commercePassword).UserErrors)
		var out struct {
			Cart cartView `json:"cart"`
		}
		resp := browser.do(cartQuery, nil)
		resp.decode(t, &out)
		want := map[string]int{x.gid: 5, y.gid: 3, z.gid: 1}
		require.Equal(t, want, out.Cart.quantities())
		require.True(t, out.Cart.line(x.gid).Available, "the merged quantity is within stock")
		ck := cookieNamed(resp.HTTP, "sg_cart")
		require.NotNil(t, ck, "the merged cart's cookie is cleared")
		require.Negative(t, ck.MaxAge)

		require.Equal(t, want, cartOf(t, phone).quantities(), "the customer's other clients see the merged cart")
		require.Equal(t, want, cartOf(t, browser).quantities(), "reading again does not merge twice")

		ghost := e.srv.client(t)
		ghost.header.Set("X-Cart-Token", *token)
		require.Empty(t, cartOf(t, ghost).Lines, "the anonymous cart is gone")
		sum := sha256.Sum256([]byte(*token))
		require.Zero(t, e.count(t, `SELECT count(*) FROM carts WHERE token_hash = $1`, sum[:]))

		// Presenting the spent token again while signed in changes nothing.
		phone.header.Set("X-Cart-Token", *token)
		require.Equal(t, want, cartOf(t, phone).quantities())
	})

	t.Run("a leftover guest token without a cart costs nothing, and its cookie is cleared", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 10)
		// A token the cart query issued to a visitor who then signed in without adding
		// anything: it has no guest cart.
		token := cartOf(t, e.srv.client(t)).Token
		require.NotNil(t, token)
		read := func(t *testing.T, c *gqlClient) (*gqlResponse, cartView) {
			t.Helper()
			var out struct {
				Cart cartView `json:"cart"`
			}
			resp := c.do(cartQuery, nil)
			resp.decode(t, &out)
			return resp, out.Cart
		}
		plain, _ := e.customer(t)
		mustAdd(t, plain, v.gid, 1)
		stale, _ := e.customer(t)
		mustAdd(t, stale, v.gid, 1)
		stale.header.Set("X-Cart-Token", *token)

		without, _ := read(t, plain)
		resp, got := read(t, stale)
		require.Equal(t, map[string]int{v.gid: 1}, got.quantities())
		require.Equal(t, without.sqlStatements(t), resp.sqlStatements(t), "the stale token costs no statement")
		require.Equal(t, without.sqlRoundTrips(t), resp.sqlRoundTrips(t))
		ck := cookieNamed(resp.HTTP, "sg_cart")
		require.NotNil(t, ck, "the spent token's cookie is cleared")
		require.Negative(t, ck.MaxAge)

		// A change made with it clears the cookie too.
		add := stale.do(cartAddMutation, map[string]any{"input": map[string]any{"variantId": v.gid, "quantity": 1}})
		var out struct {
			P cartPayloadView `json:"cartItemAdd"`
		}
		add.decode(t, &out)
		require.Empty(t, out.P.UserErrors)
		require.Equal(t, map[string]int{v.gid: 2}, out.P.Cart.quantities())
		ck = cookieNamed(add.HTTP, "sg_cart")
		require.NotNil(t, ck, "the spent token's cookie is cleared by a change as well")
		require.Negative(t, ck.MaxAge)
	})

	t.Run("a customer without a cart gets the anonymous cart's lines", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 10)
		browser := e.srv.client(t)
		token := mustAdd(t, browser, v.gid, 2).Token
		require.NotNil(t, token)
		c, _ := e.customer(t)
		c.header.Set("X-Cart-Token", *token)
		// The first use after sign-in may be a mutation rather than a read.
		w := e.variant(t, 500, 10)
		require.Equal(t, map[string]int{v.gid: 2, w.gid: 1}, mustAdd(t, c, w.gid, 1).quantities())
		c.header.Del("X-Cart-Token")
		require.Equal(t, map[string]int{v.gid: 2, w.gid: 1}, cartOf(t, c).quantities())
	})

	t.Run("merging never mixes currencies in one cart", func(t *testing.T) {
		t.Parallel()
		usd := e.variant(t, 1000, 10)
		eur := e.product(t, productSpec{currency: "EUR", variants: []product.VariantInput{{Price: 900, Stock: 10}}})[0]
		c, _ := e.customer(t)
		mustAdd(t, c, usd.gid, 1)
		browser := e.srv.client(t)
		token := mustAdd(t, browser, eur.gid, 1).Token
		require.NotNil(t, token)

		c.header.Set("X-Cart-Token", *token)
		resp := c.do(cartQuery, nil)
		require.Empty(t, resp.Errors)
		var out struct {
			Cart cartView `json:"cart"`
		}
		resp.decode(t, &out)
		currencies := map[string]bool{}
		sum := int64(0)
		for _, l := range out.Cart.Lines {
			currencies[l.UnitPrice.Currency] = true
			sum += l.LineTotal.Amount
		}
		require.Len(t, currencies, 1, "a merged cart must not hold USD and EUR lines together: %+v", out.Cart.Lines)
		require.Equal(t, sum, out.Cart.Subtotal.Amount, "the subtotal is the sum of the lines")
		require.Equal(t, 1, out.Cart.quantities()[usd.gid], "the customer's own line is kept")
		require.Empty(t, checkoutWith(t, c, checkoutInput(uuid.NewString(), testAddress())).UserErrors, "the merged cart checks out")
	})
}

func TestCheckout(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)

	t.Run("anonymous shoppers are UNAUTHENTICATED", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 10)
		anon := e.srv.client(t)
		mustAdd(t, anon, v.gid, 1)
		resp := anon.do(checkoutMutation, map[string]any{"input": checkoutInput(uuid.NewString(), testAddress())})
		require.Equal(t, "UNAUTHENTICATED", resp.code())
		require.Equal(t, map[string]int{v.gid: 1}, cartOf(t, anon).quantities())
		require.Equal(t, 10, e.stock(t, v))
	})

	t.Run("the order's lines keep the cart's order, in the response and when read again", func(t *testing.T) {
		t.Parallel()
		older, newer := e.variant(t, 100, 10), e.variant(t, 200, 10) // newer has the higher id
		c, _ := e.customer(t)
		mustAdd(t, c, newer.gid, 1)
		mustAdd(t, c, older.gid, 1)
		mustAdd(t, c, newer.gid, 1) // more of a line does not move it

		p := checkoutWith(t, c, checkoutInput(uuid.NewString(), testAddress()))
		require.Empty(t, p.UserErrors)
		skus := func(lines []orderLineView) []string {
			out := make([]string, len(lines))
			for i, l := range lines {
				out[i] = l.SKU
			}
			return out
		}
		require.Equal(t, []string{newer.sku, older.sku}, skus(p.Order.Lines))
		require.Equal(t, []int{2, 1}, []int{p.Order.Lines[0].Quantity, p.Order.Lines[1].Quantity})
		require.Equal(t, []string{newer.sku, older.sku}, skus(orderAs(t, c, p.Order.ID).Lines))
	})

	t.Run("places a PENDING order holding a snapshot of every line", func(t *testing.T) {
		t.Parallel()
		a := e.product(t, productSpec{name: "Snapshot Kettle", variants: []product.VariantInput{{Name: "Large", Price: 1250, Stock: 10}}})[0]
		b := e.product(t, productSpec{name: "Snapshot Mug", variants: []product.VariantInput{{Name: "Blue", Price: 300, Stock: 5}}})[0]
		c, userID := e.customer(t)
		mustAdd(t, c, a.gid, 2)
		mustAdd(t, c, b.gid, 1)
		key := uuid.NewString()
		before := time.Now().Add(-time.Minute)

		p := checkoutWith(t, c, checkoutInput(key, testAddress()))
		require.Empty(t, p.UserErrors)
		o := p.Order
		require.NotNil(t, o)
		require.Equal(t, "PENDING", o.Status)
		require.Equal(t, moneyJSON{2800, "USD"}, o.Total)
		require.Nil(t, o.TrackingNumber)
		require.WithinRange(t, o.CreatedAt, before, time.Now().Add(time.Minute))
		require.ElementsMatch(t, []orderLineView{
			{ProductName: "Snapshot Kettle", VariantName: "Large", SKU: a.sku, UnitPrice: moneyJSON{1250, "USD"}, Quantity: 2,
				LineTotal: moneyJSON{2500, "USD"}, VariantID: a.gid, ProductID: a.productGID},
			{ProductName: "Snapshot Mug", VariantName: "Blue", SKU: b.sku, UnitPrice: moneyJSON{300, "USD"}, Quantity: 1,
				LineTotal: moneyJSON{300, "USD"}, VariantID: b.gid, ProductID: b.productGID},
		}, o.Lines)
		require.Equal(t, addressView{
			Name: "Ada Lovelace", Line1: "12 Analytical Row", Line2: ptrTo("Flat 3"), City: "London",
			Region: ptrTo("Greater London"), PostalCode: "N1 9GU", Country: "GB", Phone: ptrTo("+44 20 7946 0000"),
		}, o.ShippingAddress)
		require.Len(t, o.Events, 1)
		ev := o.Events[0]
		require.Equal(t, 1, ev.Sequence)
		require.Equal(t, "PENDING", ev.Status)
		require.Nil(t, ev.PreviousStatus)
		require.Equal(t, ptrTo(globalID("User", userID)), ev.ActorID)

		cart := cartOf(t, c)
		require.Empty(t, cart.Lines, "checkout empties the cart")
		require.Nil(t, cart.Subtotal)
		require.Equal(t, 8, e.stock(t, a))
		require.Equal(t, 4, e.stock(t, b))
		require.Equal(t, 1, e.ordersOf(t, userID))

		read := orderAs(t, c, o.ID)
		require.NotNil(t, read)
		require.Equal(t, *o, *read, "order(id:) returns what checkout returned")
	})

	t.Run("the idempotency key may come as the Idempotency-Key header", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 10)
		c, userID := e.customer(t)
		mustAdd(t, c, v.gid, 2)
		key := uuid.NewString()
		c.header.Set("Idempotency-Key", key)
		first := checkoutWith(t, c, checkoutInput("", testAddress()))
		require.Empty(t, first.UserErrors)
		again := checkoutWith(t, c, checkoutInput("", testAddress()))
		require.Empty(t, again.UserErrors)
		require.Equal(t, first.Order.ID, again.Order.ID)
		c.header.Del("Idempotency-Key")
		inInput := checkoutWith(t, c, checkoutInput(key, testAddress()))
		require.Empty(t, inInput.UserErrors)
		require.Equal(t, first.Order.ID, inInput.Order.ID, "the header and the input name the same key")
		require.Equal(t, 8, e.stock(t, v))
		require.Equal(t, 1, e.ordersOf(t, userID))
	})

	t.Run("a missing or malformed idempotency key is INVALID and changes nothing", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 10)
		c, userID := e.customer(t)
		mustAdd(t, c, v.gid, 2)
		for name, key := range map[string]string{"missing": "", "blank": "   ", "too long": strings.Repeat("k", 256)} {
			p := checkoutWith(t, c, checkoutInput(key, testAddress()))
			require.Equal(t, []string{"INVALID:input.idempotencyKey"}, errorCodesOf(p.UserErrors), name)
		}
		require.Equal(t, map[string]int{v.gid: 2}, cartOf(t, c).quantities())
		require.Equal(t, 10, e.stock(t, v))
		require.Zero(t, e.ordersOf(t, userID))
	})

	t.Run("invalid address fields are INVALID with their paths and change nothing", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 10)
		c, userID := e.customer(t)
		mustAdd(t, c, v.gid, 2)
		key := uuid.NewString()
		for _, tc := range []struct {
			name    string
			changes map[string]any
			fields  []string
		}{
			{"three-letter country", map[string]any{"country": "usa"}, []string{"country"}},
			{"lower-case country", map[string]any{"country": "gb"}, []string{"country"}},
			{"country with a digit", map[string]any{"country": "G1"}, []string{"country"}},
			{"empty city", map[string]any{"city": ""}, []string{"city"}},
			{"blank name", map[string]any{"name": "   "}, []string{"name"}},
			{"empty street", map[string]any{"line1": ""}, []string{"line1"}},
			{"long postal code", map[string]any{"postalCode": strings.Repeat("9", 21)}, []string{"postalCode"}},
			{"long phone", map[string]any{"phone": strings.Repeat("1", 31)}, []string{"phone"}},
			{"long region", map[string]any{"region": strings.Repeat("r", 101)}, []string{"region"}},
			{"everything at once", map[string]any{"country": "usa", "city": "", "name": "", "postalCode": ""},
				[]string{"city", "country", "name", "postalCode"}},
		} {
			p := checkoutWith(t, c, checkoutInput(key, withAddress(tc.changes)))
			var want []string
			for _, f := range tc.fields {
				want = append(want, "INVALID:input.shippingAddress."+f)
			}
			got := errorCodesOf(p.UserErrors)
			sort.Strings(got)
			require.Equal(t, want, got, tc.name)
		}
		require.Equal(t, map[string]int{v.gid: 2}, cartOf(t, c).quantities())
		require.Equal(t, 10, e.stock(t, v))
		require.Zero(t, e.ordersOf(t, userID))

		ok := checkoutWith(t, c, checkoutInput(key, testAddress()))
		require.Empty(t, ok.UserErrors, "a refused request does not use up its key")
	})

	t.Run("the same key and address return the same order without taking stock again", func(t *testing.T) {
		t.Parallel()
		v, w := e.variant(t, 1000, 10), e.variant(t, 400, 10)
		c, userID := e.customer(t)
		mustAdd(t, c, v.gid, 2)
		key := uuid.NewString()
		first := checkoutWith(t, c, checkoutInput(key, testAddress()))
		require.Empty(t, first.UserErrors)
		second := checkoutWith(t, c, checkoutInput(key, testAddress()))
		require.Empty(t, second.UserErrors)
		require.Equal(t, *first.Order, *second.Order)
		require.Equal(t, 8, e.stock(t, v))
		require.Equal(t, 1, e.ordersOf(t, userID))

		// A retry after the customer started a new cart still answers with the placed order and
		// leaves the new cart alone.
		mustAdd(t, c, w.gid, 1)
		third := checkoutWith(t, c, checkoutInput(key, testAddress()))
		require.Empty(t, third.UserErrors)
		require.Equal(t, first.Order.ID, third.Order.ID)
		require.Equal(t, map[string]int{w.gid: 1}, cartOf(t, c).quantities())
		require.Equal(t, 10, e.stock(t, w))
		require.Equal(t, 1, e.ordersOf(t, userID))
	})

	t.Run("the same key with another address is IDEMPOTENCY_KEY_REUSED", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 10)
		c, userID := e.customer(t)
		mustAdd(t, c, v.gid, 1)
		key := uuid.NewString()
		require.Empty(t, checkoutWith(t, c, checkoutInput(key, testAddress())).UserErrors)
		mustAdd(t, c, v.gid, 2)
		p := checkoutWith(t, c, checkoutInput(key, withAddress(map[string]any{"city": "Paris", "country": "FR"})))
		require.Equal(t, []string{"IDEMPOTENCY_KEY_REUSED:input.idempotencyKey"}, errorCodesOf(p.UserErrors))
		require.Equal(t, map[string]int{v.gid: 2}, cartOf(t, c).quantities())
		require.Equal(t, 9, e.stock(t, v))
		require.Equal(t, 1, e.ordersOf(t, userID))
	})

	t.Run("idempotency keys are per customer", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 10)
		key := uuid.NewString()
		a, _ := e.customer(t)
		b, _ := e.customer(t)
		oa := buyWithKey(t, a, v, 1, key)
		ob := buyWithKey(t, b, v, 1, key)
		require.NotEqual(t, oa.ID, ob.ID)
		require.Equal(t, 8, e.stock(t, v))
	})

	t.Run("units added during a checkout are in the order or still in the cart, never lost", func(t *testing.T) {
		t.Parallel()
		v, other := e.variant(t, 100, 1000), e.variant(t, 200, 1000)
		for i := range 40 {
			c, _ := e.customer(t)
			mustAdd(t, c, v.gid, 1)
			// A new line's insert waits for the checkout's cart lock through its foreign key
			// check; adding to an existing line does not, unless the add locks the cart.
			late := v
			if i%4 == 3 {
				late = other
			}
			var (
				placed orderPayloadView
				added  cartPayloadView
				errs   [2]error
			)
			together(2, func(i int) {
				if i == 0 {
					errs[0] = c.tryPayload(checkoutMutation, map[string]any{"input": checkoutInput(uuid.NewString(), testAddress())}, "checkout", &placed)
				} else {
					errs[1] = c.tryPayload(cartAddMutation, map[string]any{"input": map[string]any{"variantId": late.gid, "quantity": 1}}, "cartItemAdd", &added)
				}
			})
			require.NoError(t, errs[0])
			require.NoError(t, errs[1])
			require.Empty(t, placed.UserErrors)
			require.Empty(t, added.UserErrors)
			units := map[string]int{}
			for _, l := range placed.Order.Lines {
				units[l.VariantID] += l.Quantity
			}
			for id, n := range cartOf(t, c).quantities() {
				units[id] += n
			}
			want := map[string]int{v.gid: 2}
			if late == other {
				want = map[string]int{v.gid: 1, other.gid: 1}
			}
			require.Equal(t, want, units, "units in the order and the cart")
		}
	})

	t.Run("an empty cart is CART_EMPTY", func(t *testing.T) {
		t.Parallel()
		v := e.variant(t, 1000, 10)
		fresh, freshID := e.customer(t)
		p := checkoutWith(t, fresh, checkoutInput(uuid.NewString(), testAddress()))
		require.Equal(t, []string{"CART_EMPTY"}, errorCodesOf(p.UserErrors), "never had a cart")

		cleared, clearedID := e.customer(t)
		mustAdd(t, cleared, v.gid, 1)
		cartClear(t, cleared)
		key := uuid.NewString()
		p = checkoutWith(t, cleared, checkoutInput(key, testAddress()))
		require.Equal(t, []string{"CART_EMPTY"}, errorCodesOf(p.UserErrors), "emptied cart")
		require.Zero(t, e.ordersOf(t, freshID)+e.ordersOf(t, clearedID))

		mustAdd(t, cleared, v.gid, 1)
		require.Empty(t, checkoutWith(t, cleared, checkoutInput(key, testAddress())).UserErrors, "the key was not used up")
	})

	t.Run("short stock is OUT_OF_STOCK naming the variant and changes nothing", func(t *testing.T) {
		t.Parallel()
		plenty := e.variant(t, 1000, 10) // created first: its stock is taken first, then given back
		scarce := e.variant(t, 500, 3)
		c, userID := e.customer(t)
		mustAdd(t, c, plenty.gid, 2)
		mustAdd(t, c, scarce.gid, 5)
		key := uuid.NewString()

		p := checkoutWith(t, c, checkoutInput(key, testAddress()))
		require.Len(t, p.UserErrors, 1)
		ue := p.UserErrors[0]
		require.Equal(t, "OUT_OF_STOCK", ue.Code)
		require.Equal(t, &scarce.gid, ue.VariantID)
		require.Equal(t, ptrTo(3), ue.AvailableQuantity)
		require.NotEmpty(t, ue.Message)

		require.Equal(t, 10, e.stock(t, plenty), "stock taken for the other line was given back")
		require.Equal(t, 3, e.stock(t, scarce))
		cart := cartOf(t, c)
		require.Equal(t, map[string]int{plenty.gid: 2, scarce.gid: 5}, cart.quantities(), "the cart is intact")
		require.False(t, cart.line(scarce.gid).Available)
		require.Zero(t, e.ordersOf(t, userID))

		require.Empty(t, cartUpdate(t, c, scarce.gid, 3).UserErrors)
		ok := checkoutWith(t, c, checkoutInput(key, testAddress()))
		require.Empty(t, ok.UserErrors, "the same key works once the cart is fixed")
		require.Equal(t, 8, e.stock(t, plenty))
		require.Zero(t, e.stock(t, scarce))
	})

	t.Run("an archived product or a deleted variant in the cart is LINE_UNAVAILABLE", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		for _, gone := range []string{"archived product", "deleted variant"} {
			ok := e.variant(t, 1000, 10)
			pair := e.product(t, productSpec{variants: []product.VariantInput{{Price: 300, Stock: 10}, {Price: 400, Stock: 10}}})
			c, userID := e.customer(t)
			mustAdd(t, c, ok.gid, 1)
			mustAdd(t, c, pair[1].gid, 2)
			var err error
			if gone == "archived product" {
				_, err = e.srv.app.catalog.Archive(ctx, e.adminViewer(), pair[1].productID)
			} else {
				_, err = e.srv.app.catalog.VariantDelete(ctx, e.adminViewer(), pair[1].variantID)
			}
			require.NoError(t, err)

			p := checkoutWith(t, c, checkoutInput(uuid.NewString(), testAddress()))
			require.Len(t, p.UserErrors, 1, gone)
			require.Equal(t, "LINE_UNAVAILABLE", p.UserErrors[0].Code, gone)
			require.Equal(t, &pair[1].gid, p.UserErrors[0].VariantID, gone)
			require.Equal(t, 10, e.stock(t, ok), gone)
			require.Equal(t, 10, e.stock(t, pair[1]), gone)
			require.Equal(t, map[string]int{ok.gid: 1, pair[1].gid: 2}, cartOf(t, c).quantities(), gone)
			require.Zero(t, e.ordersOf(t, userID), gone)
		}
	})
}

// buyWithKey fills c's cart and checks out with key.
func buyWithKey(t *testing.T, c *gqlClient, v variantRef, quantity int, key string) orderView {
	t.Helper()
	mustAdd(t, c, v.gid, quantity)
	p := checkoutWith(t, c, checkoutInput(key, testAddress()))
	require.Empty(t, p.UserErrors)
	return *p.Order
}

// TestCheckoutPriceAtCheckout: the order holds the price at checkout time, not the price when
// the item was added, and later catalog changes never alter a placed order.
func TestCheckoutPriceAtCheckout(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	ctx := context.Background()
	v := e.product(t, productSpec{name: "Repriced Lamp", variants: []product.VariantInput{{Name: "Brass", Price: 1000, Stock: 10}}})[0]
	c, _ := e.customer(t)
	mustAdd(t, c, v.gid, 3)

	e.setPrice(t, v, 1500)
	require.Equal(t, moneyJSON{1500, "USD"}, cartOf(t, c).Lines[0].UnitPrice, "the cart shows the new price")
	o := placeOrder(t, c)
	require.Equal(t, moneyJSON{1500, "USD"}, o.Lines[0].UnitPrice)
	require.Equal(t, moneyJSON{4500, "USD"}, o.Lines[0].LineTotal)
	require.Equal(t, moneyJSON{4500, "USD"}, o.Total)

	e.setPrice(t, v, 2000)
	name, sku := "Renamed Lamp", uniqueSKU("RENAMED")
	_, err := e.srv.app.catalog.Update(ctx, e.adminViewer(), product.UpdateInput{ID: v.productID, Name: &name})
	require.NoError(t, err)
	_, err = e.srv.app.catalog.VariantUpdate(ctx, e.adminViewer(), product.VariantUpdateInput{ID: v.variantID, SKU: &sku})
	require.NoError(t, err)
	_, err = e.srv.app.catalog.Archive(ctx, e.adminViewer(), v.productID)
	require.NoError(t, err)

	read := orderAs(t, c, o.ID)
	require.NotNil(t, read)
	require.Equal(t, o.Lines, read.Lines, "a placed order's lines never change")
	require.Equal(t, o.Total, read.Total)
	require.Equal(t, "Repriced Lamp", read.Lines[0].ProductName)
	require.Equal(t, v.sku, read.Lines[0].SKU)
	adminRead := orderAs(t, e.admin, o.ID)
	require.Equal(t, o.Lines, adminRead.Lines)
}

// TestCheckoutOversell: 200 customers race for the 50 units of one variant. Exactly 50 orders
// are placed, the other 150 get OUT_OF_STOCK, and stock ends at 0 without ever going below.
func TestCheckoutOversell(t *testing.T) {
	t.Parallel()
	const customers, stock = 200, 50
	e := newShopEnv(t)
	v := e.variant(t, 1000, stock)
	start := time.Now()
	ids := e.insertUsers(t, auth.RoleCustomer, customers)
	clients := make([]*gqlClient, customers)
	for i, id := range ids {
		clients[i] = e.clientFor(t, id, auth.RoleCustomer)
	}
	require.NoError(t, parallel(customers, 8, func(i int) error {
		var p cartPayloadView
		if err := clients[i].tryPayload(cartAddMutation, map[string]any{"input": map[string]any{"variantId": v.gid, "quantity": 1}}, "cartItemAdd", &p); err != nil {
			return err
		}
		if len(p.UserErrors) > 0 {
			return fmt.Errorf("cartItemAdd: %+v", p.UserErrors)
		}
		return nil
	}))
	t.Logf("setup of %d customers and carts: %v", customers, time.Since(start))

	// Watch stock while the race runs: it must never be seen below zero.
	stop := make(chan struct{})
	var (
		minSeen  atomic.Int64
		watchErr error
		watching sync.WaitGroup
	)
	minSeen.Store(stock)
	watching.Add(1)
	go func() {
		defer watching.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			var n int64
			if err := e.srv.app.db.Pool.QueryRow(context.Background(), `SELECT stock FROM product_variants WHERE id = $1`, v.variantID).Scan(&n); err != nil {
				watchErr = err
				return
			}
			if n < minSeen.Load() {
				minSeen.Store(n)
			}
		}
	}()

	type outcome struct {
		orderID string
		errs    []commerceError
		err     error
	}
	outcomes := make([]outcome, customers)
	raceStart := time.Now()
	together(customers, func(i int) {
		var p orderPayloadView
		err := clients[i].tryPayload(checkoutMutation, map[string]any{"input": checkoutInput(uuid.NewString(), testAddress())}, "checkout", &p)
		outcomes[i] = outcome{errs: p.UserErrors, err: err}
		if p.Order != nil {
			outcomes[i].orderID = p.Order.ID
		}
	})
	elapsed := time.Since(raceStart)
	close(stop)
	watching.Wait()
	require.NoError(t, watchErr)
	t.Logf("%d concurrent checkouts: %v", customers, elapsed)

	placed, refused := 0, 0
	for i, o := range outcomes {
		require.NoError(t, o.err, "customer %d", i)
		if o.orderID != "" {
			require.Empty(t, o.errs)
			placed++
			continue
		}
		require.Len(t, o.errs, 1, "customer %d", i)
		require.Equal(t, "OUT_OF_STOCK", o.errs[0].Code, "customer %d: %+v", i, o.errs[0])
		require.Equal(t, &v.gid, o.errs[0].VariantID)
		require.Equal(t, ptrTo(0), o.errs[0].AvailableQuantity)
		refused++
	}
	require.Equal(t, stock, placed)
	require.Equal(t, customers-stock, refused)
	require.Zero(t, e.stock(t, v), "final stock")
	require.GreaterOrEqual(t, minSeen.Load(), int64(0), "stock was seen below zero")
	require.Equal(t, stock, e.count(t, `SELECT count(*) FROM orders`))
	require.Equal(t, stock, e.count(t, `SELECT count(DISTINCT user_id) FROM orders`))
	require.Equal(t, stock, e.count(t, `SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE variant_id = $1`, v.variantID))
	require.Equal(t, customers-stock, e.count(t, `SELECT count(*) FROM cart_lines WHERE variant_id = $1`, v.variantID),
		"refused customers keep their carts; served ones have theirs emptied")
	require.Equal(t, stock, e.count(t, `SELECT count(*) FROM checkout_requests`), "refused checkouts leave no idempotency record")
}

// TestCheckoutIdempotencyConcurrent: 20 simultaneous checkouts with one key (as a retrying
// client would send) make exactly one order and take stock once; every response names it.
func TestCheckoutIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	const attempts = 20
	e := newShopEnv(t)
	v, w := e.variant(t, 1000, 10), e.variant(t, 250, 10)
	c, userID := e.customer(t)
	mustAdd(t, c, v.gid, 2)
	mustAdd(t, c, w.gid, 1)
	key := uuid.NewString()

	type outcome struct {
		orderID string
		errs    []commerceError
		err     error
	}
	outcomes := make([]outcome, attempts)
	started := time.Now()
	together(attempts, func(i int) {
		cl := *c
		cl.header = http.Header{}
		in := checkoutInput(key, testAddress())
		if i%2 == 1 { // half send the key as a header
			in = checkoutInput("", testAddress())
			cl.header.Set("Idempotency-Key", key)
		}
		var p orderPayloadView
		err := cl.tryPayload(checkoutMutation, map[string]any{"input": in}, "checkout", &p)
		outcomes[i] = outcome{errs: p.UserErrors, err: err}
		if p.Order != nil {
			outcomes[i].orderID = p.Order.ID
		}
	})
	t.Logf("%d concurrent checkouts with one key: %v", attempts, time.Since(started))

	var orderID string
	for i, o := range outcomes {
		require.NoError(t, o.err, "attempt %d", i)
		require.Empty(t, o.errs, "attempt %d", i)
		require.NotEmpty(t, o.orderID, "attempt %d", i)
		if orderID == "" {
			orderID = o.orderID
		}
		require.Equal(t, orderID, o.orderID, "attempt %d got another order", i)
	}
	require.Equal(t, 1, e.ordersOf(t, userID))
	require.Equal(t, 8, e.stock(t, v))
	require.Equal(t, 9, e.stock(t, w))
	o := orderAs(t, c, orderID)
	require.Len(t, o.Events, 1)
	require.Len(t, o.Lines, 2)
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM checkout_requests WHERE user_id = $1`, userID))
}

// TestCheckoutOneCartManyKeys: a customer checking out one cart from several tabs at once
// (each with its own key) gets one order; the others find the cart already empty.
func TestCheckoutOneCartManyKeys(t *testing.T) {
	t.Parallel()
	const tabs = 10
	e := newShopEnv(t)
	v := e.variant(t, 1000, 10)
	c, userID := e.customer(t)
	mustAdd(t, c, v.gid, 3)

	codes := make([]string, tabs)
	errs := make([]error, tabs)
	together(tabs, func(i int) {
		var p orderPayloadView
		errs[i] = c.tryPayload(checkoutMutation, map[string]any{"input": checkoutInput(uuid.NewString(), testAddress())}, "checkout", &p)
		switch {
		case len(p.UserErrors) > 0:
			codes[i] = p.UserErrors[0].Code
		case p.Order != nil:
			codes[i] = "ORDER"
		}
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	sort.Strings(codes)
	want := append(slices.Repeat([]string{"CART_EMPTY"}, tabs-1), "ORDER")
	require.Equal(t, want, codes)
	require.Equal(t, 1, e.ordersOf(t, userID))
	require.Equal(t, 7, e.stock(t, v))
}

// TestCheckoutNoDeadlock: customers whose carts hold the same variants, added in opposite
// orders, check out at the same time; no deadlock (or any other internal error) reaches a
// client and every order is placed.
func TestCheckoutNoDeadlock(t *testing.T) {
	t.Parallel()
	const customers, rounds, stock = 30, 3, 1000
	e := newShopEnv(t)
	// Two variants of one product and one of another, so stock rows of two products are taken.
	ab := e.product(t, productSpec{variants: []product.VariantInput{{Name: "A", Price: 100, Stock: stock}, {Name: "B", Price: 200, Stock: stock}}})
	vc := e.variant(t, 300, stock)
	vs := []variantRef{ab[0], ab[1], vc}
	ids := e.insertUsers(t, auth.RoleCustomer, customers)
	clients := make([]*gqlClient, customers)
	for i, id := range ids {
		clients[i] = e.clientFor(t, id, auth.RoleCustomer)
	}

	started := time.Now()
	for round := range rounds {
		require.NoError(t, parallel(customers, 6, func(i int) error {
			order := []int{0, 1, 2}
			if i%2 == 1 {
				order = []int{2, 1, 0}
			}
			for _, k := range order {
				var p cartPayloadView
				if err := clients[i].tryPayload(cartAddMutation, map[string]any{"input": map[string]any{"variantId": vs[k].gid, "quantity": 1 + k}}, "cartItemAdd", &p); err != nil {
					return err
				}
				if len(p.UserErrors) > 0 {
					return fmt.Errorf("cartItemAdd: %+v", p.UserErrors)
				}
			}
			return nil
		}))
		errs := make([]error, customers)
		together(customers, func(i int) {
			var p orderPayloadView
			err := clients[i].tryPayload(checkoutMutation, map[string]any{"input": checkoutInput(uuid.NewString(), testAddress())}, "checkout", &p)
			switch {
			case err != nil:
				errs[i] = err
			case len(p.UserErrors) > 0:
				errs[i] = fmt.Errorf("userErrors: %+v", p.UserErrors)
			case p.Order == nil || len(p.Order.Lines) != 3:
				errs[i] = fmt.Errorf("order without its three lines: %+v", p.Order)
			}
		})
		for i, err := range errs {
			require.NoError(t, err, "round %d, customer %d", round, i)
		}
	}
	t.Logf("%d rounds of %d concurrent three-variant checkouts: %v", rounds, customers, time.Since(started))

	for k, v := range vs {
		require.Equal(t, stock-customers*rounds*(1+k), e.stock(t, v), "variant %d", k)
	}
	require.Equal(t, customers*rounds, e.count(t, `SELECT count(*) FROM orders`))
}

// TestCheckoutRoundTrips holds the revenue path's round trips to Postgres (bench/README.md,
// "Checkout") to a small number that does not grow with the cart: every statement of checkout
// handles all the lines at once, and statements go together in pipelines (fastpath).
func TestCheckoutRoundTrips(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	const (
		add = `mutation CartItemAdd($input: CartItemAddInput!) { cartItemAdd(input: $input) { cart { totalQuantity subtotal { amount currency } lines { quantity variant { id } } } userErrors { code message } } }`
		pay = `mutation Checkout($input: CheckoutInput!) { checkout(input: $input) { order { id status total { amount currency } lines { sku quantity } } payment { intentId status } userErrors { code message } } }`
	)
	type cost struct{ statements, roundTrips int64 }
	costOf := func(resp *gqlResponse) cost { return cost{resp.sqlStatements(t), resp.sqlRoundTrips(t)} }
	// costs fills a new customer's cart with n variants, then checks out; it returns the most
	// one cartItemAdd cost and what the checkout cost.
	costs := func(t *testing.T, n int) (maxAdd, checkout cost) {
		c, _ := e.customer(t)
		for range n {
			v := e.variant(t, 500, 10)
			resp := c.do(add, map[string]any{"input": map[string]any{"variantId": v.gid, "quantity": 2}})
			var out struct {
				P cartPayloadView `json:"cartItemAdd"`
			}
			resp.decode(t, &out)
			require.Empty(t, out.P.UserErrors)
			got := costOf(resp)
			maxAdd = cost{max(maxAdd.statements, got.statements), max(maxAdd.roundTrips, got.roundTrips)}
		}
		resp := c.do(pay, map[string]any{"input": checkoutInput(uuid.NewString(), testAddress())})
		var out struct {
			P struct {
				Order *struct {
					Status string `json:"status"`
					Lines  []struct {
						Quantity int `json:"quantity"`
					} `json:"lines"`
				} `json:"order"`
				Payment *struct {
					IntentID string `json:"intentId"`
				} `json:"payment"`
				UserErrors []commerceError `json:"userErrors"`
			} `json:"checkout"`
		}
		resp.decode(t, &out)
		require.Empty(t, out.P.UserErrors)
		require.Equal(t, "PENDING", out.P.Order.Status)
		require.Len(t, out.P.Order.Lines, n)
		require.NotEmpty(t, out.P.Payment.IntentID)
		return maxAdd, costOf(resp)
	}
	add1, checkout1 := costs(t, 1)
	add5, checkout5 := costs(t, 5)
	t.Logf("cartItemAdd at most %+v (1 line) / %+v (5 lines); checkout %+v (1 line) / %+v (5 lines)", add1, add5, checkout1, checkout5)
	// A signed-in customer's cartItemAdd is one pipeline, one implicit transaction (lock the
	// cart, put the line: the rule of what may be put in a cart), then the cart read back.
	require.LessOrEqual(t, add5.statements, int64(3))
	require.LessOrEqual(t, add5.roundTrips, int64(2))
	// Checkout: BEGIN, [claim key and lock cart, lines locking their variants], [plan
	// setting, stock, order with lines and event], expiry job (River's InsertTx), COMMIT;
	// then the payment record.
	require.LessOrEqual(t, checkout5.statements, int64(9))
	require.LessOrEqual(t, checkout5.roundTrips, int64(6))
	require.Equal(t, checkout1, checkout5, "checkout's cost does not grow with the lines")
}

// TestCheckoutExpiryJob: the expiry job that checkout inserts (River's InsertTx, in the
// order's transaction) is the row River writes for the same job.
func TestCheckoutExpiryJob(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	ctx := context.Background()
	c, _ := e.customer(t)
	o := buy(t, c, e.variant(t, 1250, 10), 1)
	id := trackDBID(t, o.ID)

	const columns = `state, attempt, max_attempts, priority, args, kind, metadata, queue, tags, unique_key,
		unique_states, attempted_at, attempted_by, errors, finalized_at, scheduled_at`
	read := func(q pgx.Tx, where string, arg any) []any {
		rows, err := q.Query(ctx, `SELECT `+columns+` FROM river_job WHERE `+where, arg)
		require.NoError(t, err)
		values, err := pgx.CollectExactlyOneRow(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
		require.NoError(t, err)
		return values
	}
	tx, err := e.srv.app.db.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	ours := read(tx, `kind = 'expire_order' AND (args->>'order_id')::bigint = $1`, id)

	var placedAt time.Time
	require.NoError(t, tx.QueryRow(ctx, `SELECT created_at FROM orders WHERE id = $1`, id).Scan(&placedAt))
	insertOnly, err := river.NewClient(riverpgxv5.New(e.srv.app.db.Pool), &river.Config{})
	require.NoError(t, err)
	res, err := insertOnly.InsertTx(ctx, tx, jobs.ExpireOrderArgs{OrderID: id},
		&river.InsertOpts{ScheduledAt: placedAt.Add(e.srv.app.payments.ExpireAfter)})
	require.NoError(t, err)
	rivers := read(tx, `id = $1`, res.Job.ID)

	require.Equal(t, rivers, ours)
	require.Equal(t, "scheduled", ours[0])
}
