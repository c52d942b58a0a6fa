package graph_test

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

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/jobs"
)

func TestCart(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)

	t.Run("add creates a line and adds to an existing one", func(t *testing.T) {
		v, w := e.Variant(t, 1250, 20), e.Variant(t, 300, 5)
		c, _ := e.Customer(t)

		cart := mustAdd(t, c, v.GID, 2)
		require.Len(t, cart.Lines, 1)
		require.Equal(t, cartLineView{
			Variant:  cartVariantView{ID: v.GID, SKU: v.SKU},
			Quantity: 2, UnitPrice: moneyJSON{1250, "USD"}, LineTotal: moneyJSON{2500, "USD"},
			Available: true, AvailableQuantity: 20,
		}, cart.Lines[0])
		require.Equal(t, 2, cart.TotalQuantity)
		require.Equal(t, &moneyJSON{2500, "USD"}, cart.Subtotal)
		require.Nil(t, cart.Token, "a customer's cart has no token")

		cart = mustAdd(t, c, v.GID, 3)
		require.Len(t, cart.Lines, 1, "the same variant adds to its line")
		require.Equal(t, 5, cart.Lines[0].Quantity)
		require.Equal(t, moneyJSON{6250, "USD"}, cart.Lines[0].LineTotal)

		cart = mustAdd(t, c, w.GID, 1)
		require.Equal(t, map[string]int{v.GID: 5, w.GID: 1}, cart.quantities())
		require.Equal(t, []string{v.GID, w.GID}, []string{cart.Lines[0].Variant.ID, cart.Lines[1].Variant.ID}, "oldest line first")
		require.Equal(t, 6, cart.TotalQuantity)
		require.Equal(t, &moneyJSON{6550, "USD"}, cart.Subtotal)
		require.Equal(t, cart, cartOf(t, c), "the cart query agrees with the payload")
	})

	t.Run("update sets the quantity and 0 removes the line", func(t *testing.T) {
		v, w := e.Variant(t, 1000, 20), e.Variant(t, 500, 20)
		c, _ := e.Customer(t)
		mustAdd(t, c, v.GID, 2)
		mustAdd(t, c, w.GID, 1)

		p := cartUpdate(t, c, v.GID, 7)
		require.Empty(t, p.UserErrors)
		require.Equal(t, map[string]int{v.GID: 7, w.GID: 1}, p.Cart.quantities())
		require.Equal(t, &moneyJSON{7500, "USD"}, p.Cart.Subtotal)

		p = cartUpdate(t, c, v.GID, 0)
		require.Empty(t, p.UserErrors)
		require.Equal(t, map[string]int{w.GID: 1}, p.Cart.quantities())
		require.Equal(t, map[string]int{w.GID: 1}, cartOf(t, c).quantities())
	})

	t.Run("remove deletes a line and a missing line is NOT_FOUND", func(t *testing.T) {
		v, w := e.Variant(t, 1000, 20), e.Variant(t, 500, 20)
		c, _ := e.Customer(t)
		mustAdd(t, c, v.GID, 2)
		mustAdd(t, c, w.GID, 1)

		p := cartRemove(t, c, v.GID)
		require.Empty(t, p.UserErrors)
		require.Equal(t, map[string]int{w.GID: 1}, p.Cart.quantities())

		p = cartRemove(t, c, v.GID)
		require.Equal(t, []string{"NOT_FOUND:input.variantId"}, errorCodesOf(p.UserErrors))
		require.Equal(t, map[string]int{w.GID: 1}, cartOf(t, c).quantities())
	})

	t.Run("clear empties the cart", func(t *testing.T) {
		v, w := e.Variant(t, 1000, 20), e.Variant(t, 500, 20)
		c, _ := e.Customer(t)
		mustAdd(t, c, v.GID, 2)
		mustAdd(t, c, w.GID, 1)

		p := cartClear(t, c)
		require.Empty(t, p.UserErrors)
		require.Empty(t, p.Cart.Lines)
		require.Zero(t, p.Cart.TotalQuantity)
		require.Nil(t, p.Cart.Subtotal, "an empty cart has no subtotal")
		require.Empty(t, cartOf(t, c).Lines)
	})

	t.Run("prices are the current ones until checkout", func(t *testing.T) {
		v := e.Variant(t, 1000, 20)
		c, _ := e.Customer(t)
		mustAdd(t, c, v.GID, 3)
		e.SetPrice(t, v, 1500)

		cart := cartOf(t, c)
		require.Equal(t, moneyJSON{1500, "USD"}, cart.Lines[0].UnitPrice)
		require.Equal(t, moneyJSON{4500, "USD"}, cart.Lines[0].LineTotal)
		require.Equal(t, &moneyJSON{4500, "USD"}, cart.Subtotal)
	})

	t.Run("archived, deleted and short lines stay in the cart flagged unavailable", func(t *testing.T) {
		ctx := context.Background()
		archived := e.Variant(t, 1000, 10)
		pair := e.Product(t, apitest.ProductOptions{Variants: []catalog.VariantInput{
			{Name: "Kept", Price: 700, Stock: 10}, {Name: "Deleted", Price: 800, Stock: 10},
		}})
		deleted := pair[1]
		short := e.Variant(t, 500, 10)
		healthy := e.Variant(t, 200, 10)
		c, _ := e.Customer(t)
		mustAdd(t, c, archived.GID, 2)
		mustAdd(t, c, deleted.GID, 1)
		mustAdd(t, c, short.GID, 4)
		mustAdd(t, c, healthy.GID, 1)

		_, err := e.Server.App.Catalog.Archive(ctx, e.AdminViewer(), archived.ProductID)
		require.NoError(t, err)
		_, err = e.Server.App.Catalog.VariantDelete(ctx, e.AdminViewer(), deleted.VariantID)
		require.NoError(t, err)
		_, err = e.Server.App.Catalog.StockAdjust(ctx, e.AdminViewer(), short.VariantID, -8)
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
			archived.GID: {2, 0, false},
			deleted.GID:  {1, 0, false},
			short.GID:    {4, 2, false},
			healthy.GID:  {1, 10, true},
		}, got)
		require.Equal(t, 8, cart.TotalQuantity)

		// Restocking makes the short line available again.
		_, err = e.Server.App.Catalog.StockAdjust(ctx, e.AdminViewer(), short.VariantID, 2)
		require.NoError(t, err)
		l := cartOf(t, c).line(short.GID)
		require.True(t, l.Available)
		require.Equal(t, 4, l.AvailableQuantity)
	})

	t.Run("mixed currencies are refused with CURRENCY_MISMATCH", func(t *testing.T) {
		usd := e.Variant(t, 1000, 10)
		eur := e.Product(t, apitest.ProductOptions{Currency: "EUR", Variants: []catalog.VariantInput{{Price: 900, Stock: 10}}})[0]
		c, _ := e.Customer(t)
		mustAdd(t, c, usd.GID, 1)

		p := cartAdd(t, c, eur.GID, 1)
		require.Equal(t, []string{"CURRENCY_MISMATCH:input.variantId"}, errorCodesOf(p.UserErrors))
		p = cartUpdate(t, c, eur.GID, 2)
		require.Equal(t, []string{"CURRENCY_MISMATCH:input.variantId"}, errorCodesOf(p.UserErrors))
		require.Equal(t, map[string]int{usd.GID: 1}, cartOf(t, c).quantities())

		// A cart in euros alone is fine.
		other, _ := e.Customer(t)
		require.Equal(t, &moneyJSON{900, "EUR"}, mustAdd(t, other, eur.GID, 1).Subtotal)
	})

	t.Run("bad quantities are INVALID and change nothing", func(t *testing.T) {
		v := e.Variant(t, 1000, 2000)
		c, _ := e.Customer(t)
		mustAdd(t, c, v.GID, 2)
		for _, q := range []int{0, -1, 1001, -1000} {
			p := cartAdd(t, c, v.GID, q)
			require.Equal(t, []string{"INVALID:input.quantity"}, errorCodesOf(p.UserErrors), "add %d", q)
		}
		for _, q := range []int{-1, 1001} {
			p := cartUpdate(t, c, v.GID, q)
			require.Equal(t, []string{"INVALID:input.quantity"}, errorCodesOf(p.UserErrors), "update %d", q)
		}
		p := cartAdd(t, c, v.GID, 999)
		require.Equal(t, []string{"INVALID:input.quantity"}, errorCodesOf(p.UserErrors), "a line holds at most 1000 units")
		require.Equal(t, map[string]int{v.GID: 2}, cartOf(t, c).quantities())

		require.Equal(t, 1000, mustAdd(t, c, v.GID, 998).Lines[0].Quantity, "exactly 1000 is allowed")
	})

	t.Run("unknown or malformed variant ids are NOT_FOUND", func(t *testing.T) {
		ctx := context.Background()
		v := e.Variant(t, 1000, 10)
		archived := e.Variant(t, 1000, 10)
		_, err := e.Server.App.Catalog.Archive(ctx, e.AdminViewer(), archived.ProductID)
		require.NoError(t, err)
		pair := e.Product(t, apitest.ProductOptions{Variants: []catalog.VariantInput{{Price: 1}, {Price: 2}}})
		_, err = e.Server.App.Catalog.VariantDelete(ctx, e.AdminViewer(), pair[1].VariantID)
		require.NoError(t, err)

		c, _ := e.Customer(t)
		mustAdd(t, c, v.GID, 1)
		for name, id := range map[string]string{
			"unknown id":              apitest.GlobalID("ProductVariant", 1<<40),
			"malformed id":            "not a global id!",
			"empty id":                "",
			"another type's id":       v.ProductGID,
			"archived product's":      archived.GID,
			"deleted variant":         pair[1].GID,
			"id with a leading zero":  apitest.EncodeID(fmt.Sprintf("ProductVariant:0%d", v.VariantID)),
			"negative id":             apitest.EncodeID("ProductVariant:-1"),
			"id that overflows int64": apitest.EncodeID("ProductVariant:99999999999999999999"),
		} {
			p := cartAdd(t, c, id, 1)
			require.Equal(t, []string{"NOT_FOUND:input.variantId"}, errorCodesOf(p.UserErrors), "add: %s", name)
			p = cartUpdate(t, c, id, 1)
			require.Equal(t, []string{"NOT_FOUND:input.variantId"}, errorCodesOf(p.UserErrors), "update: %s", name)
		}
		require.Equal(t, map[string]int{v.GID: 1}, cartOf(t, c).quantities())
	})

	t.Run("a customer's refused first add creates no cart", func(t *testing.T) {
		ctx := context.Background()
		archived := e.Variant(t, 1000, 10)
		_, err := e.Server.App.Catalog.Archive(ctx, e.AdminViewer(), archived.ProductID)
		require.NoError(t, err)
		c, userID := e.Customer(t)
		for _, id := range []string{archived.GID, apitest.GlobalID("ProductVariant", 1<<40)} {
			p := cartAdd(t, c, id, 1)
			require.Equal(t, []string{"NOT_FOUND:input.variantId"}, errorCodesOf(p.UserErrors))
			p = cartUpdate(t, c, id, 1)
			require.Equal(t, []string{"NOT_FOUND:input.variantId"}, errorCodesOf(p.UserErrors))
		}
		var carts int
		require.NoError(t, e.Server.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM carts WHERE user_id = $1`, userID).Scan(&carts))
		require.Zero(t, carts)

		v := e.Variant(t, 1000, 10)
		require.Equal(t, 3, mustAdd(t, c, v.GID, 3).TotalQuantity, "the first accepted add creates the cart")
		require.NoError(t, e.Server.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM carts WHERE user_id = $1`, userID).Scan(&carts))
		require.Equal(t, 1, carts)
	})

	t.Run("the cart follows the customer across clients", func(t *testing.T) {
		v, w := e.Variant(t, 1000, 10), e.Variant(t, 500, 10)
		email := apitest.UniqueEmail()
		phone := e.Server.Client(t)
		reg := phone.Register(email, commercePassword)
		require.Empty(t, reg.UserErrors)
		phone.Bearer = reg.Tokens.AccessToken
		laptop := e.Server.Client(t) // a second session, signed in with cookies only
		require.Empty(t, laptop.Login(email, commercePassword).UserErrors)

		mustAdd(t, phone, v.GID, 2)
		require.Equal(t, map[string]int{v.GID: 2}, cartOf(t, laptop).quantities())
		mustAdd(t, laptop, w.GID, 1)
		require.Empty(t, cartUpdate(t, laptop, v.GID, 3).UserErrors)
		require.Equal(t, map[string]int{v.GID: 3, w.GID: 1}, cartOf(t, phone).quantities())
	})
}

func TestCartAnonymous(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)

	t.Run("the token is returned once and the sg_cart cookie keeps the cart", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		// issued checks that resp, a cart response to a visitor without a token, issued one in
		// Cart.token and in the sg_cart cookie, and returns it.
		issued := func(t *testing.T, resp *apitest.Response, c *cartView) string {
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

		browser := e.Server.Client(t)
		var looked struct {
			Cart cartView `json:"cart"`
		}
		resp := browser.Do(cartQuery, nil)
		resp.Decode(t, &looked)
		require.Empty(t, looked.Cart.Lines, "no cart yet")
		issued(t, resp, &looked.Cart)
		first := mustAdd(t, browser, v.GID, 2)
		require.Nil(t, first.Token, "the token is returned only when issued")
		require.Equal(t, map[string]int{v.GID: 2}, first.quantities())
		again := mustAdd(t, browser, v.GID, 1)
		require.Nil(t, again.Token, "the token is returned only when issued")
		require.Equal(t, map[string]int{v.GID: 3}, again.quantities(), "the cookie found the same cart")
		require.Equal(t, map[string]int{v.GID: 3}, cartOf(t, browser).quantities())
		require.Nil(t, cartOf(t, browser).Token)

		// A visitor whose first request is cartItemAdd is issued the token by it.
		direct := e.Server.Client(t)
		var added struct {
			P cartPayloadView `json:"cartItemAdd"`
		}
		resp = direct.Do(cartAddMutation, map[string]any{"input": map[string]any{"variantId": v.GID, "quantity": 2}})
		resp.Decode(t, &added)
		require.Empty(t, added.P.UserErrors)
		issued(t, resp, added.P.Cart)
		again = mustAdd(t, direct, v.GID, 1)
		require.Nil(t, again.Token, "the token is returned only when issued")
		require.Equal(t, map[string]int{v.GID: 3}, again.quantities(), "the cookie found the same cart")
	})

	t.Run("the X-Cart-Token header finds the same cart", func(t *testing.T) {
		v, w := e.Variant(t, 1000, 10), e.Variant(t, 500, 10)
		app1 := e.Server.Client(t)
		token := mustAdd(t, app1, v.GID, 1).Token
		require.NotNil(t, token)

		app2 := e.Server.Client(t) // no cookies: the header only
		app2.Header.Set("X-Cart-Token", *token)
		require.Equal(t, map[string]int{v.GID: 1}, cartOf(t, app2).quantities())
		added := mustAdd(t, app2, w.GID, 2)
		require.Nil(t, added.Token)
		require.Equal(t, map[string]int{v.GID: 1, w.GID: 2}, cartOf(t, app1).quantities())
	})

	t.Run("an unknown token reads as an empty cart", func(t *testing.T) {
		c := e.Server.Client(t)
		c.Header.Set("X-Cart-Token", "no-such-token")
		cart := cartOf(t, c)
		require.Empty(t, cart.Lines)
		require.Nil(t, cart.Subtotal)
	})

	t.Run("anonymous carts are separate", func(t *testing.T) {
		v, w := e.Variant(t, 1000, 10), e.Variant(t, 500, 10)
		a, b := e.Server.Client(t), e.Server.Client(t)
		mustAdd(t, a, v.GID, 1)
		mustAdd(t, b, w.GID, 1)
		require.Equal(t, map[string]int{v.GID: 1}, cartOf(t, a).quantities())
		require.Equal(t, map[string]int{w.GID: 1}, cartOf(t, b).quantities())
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
	nodeAs := func(t *testing.T, c *apitest.Client, id string) *nodeView {
		t.Helper()
		var out struct {
			Node *nodeView `json:"node"`
		}
		c.As(t).Do(nodeQuery, map[string]any{"id": id}).Decode(t, &out)
		return out.Node
	}
	// getCart reads the cart by GET, as a client whose queries a CDN may see, and returns it
	// with the number of SQL statements the request ran.
	getCart := func(t *testing.T, c *apitest.Client) (cartView, int64) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, e.Server.URL+"/graphql?query="+url.QueryEscape(cartQuery), nil)
		require.NoError(t, err)
		req.Header.Set("Accept", "application/json")
		for k, v := range c.Header {
			req.Header[k] = v
		}
		if c.Bearer != "" {
			req.Header.Set("Authorization", "Bearer "+c.Bearer)
		}
		resp, err := c.HTTP.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		out := &apitest.Response{HTTP: resp}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
		var data struct {
			Cart cartView `json:"cart"`
		}
		out.Decode(t, &data)
		return data.Cart, out.SQLStatements(t)
	}
	guestCarts := func(t *testing.T, token string) int {
		t.Helper()
		sum := sha256.Sum256([]byte(token))
		return e.Count(t, `SELECT count(*) FROM carts WHERE token_hash = $1`, sum[:])
	}

	t.Run("a customer's cart: one id before and after the first add, a read creates no cart, node for the customer only", func(t *testing.T) {
		v, w := e.Variant(t, 1000, 10), e.Variant(t, 500, 10)
		alice, aliceID := e.Customer(t)
		bob, _ := e.Customer(t)
		first := cartOf(t, alice)
		require.NotEmpty(t, first.ID, "an empty cart has its id already")
		require.Nil(t, first.Token)
		got, statements := getCart(t, alice)
		require.Equal(t, first.ID, got.ID)
		require.LessOrEqual(t, statements, int64(1), "the lines, and nothing else")
		require.Equal(t, &nodeView{Typename: "Cart", ID: first.ID}, nodeAs(t, alice, first.ID), "node resolves the cart before it holds anything")
		require.Zero(t, e.Count(t, `SELECT count(*) FROM carts WHERE user_id = $1`, aliceID), "reading the cart, by POST or GET, creates none")

		require.Equal(t, first.ID, mustAdd(t, alice, v.GID, 1).ID, "the first cartItemAdd keeps the id")
		require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM carts WHERE user_id = $1`, aliceID), "the first add creates the cart")
		require.Equal(t, first.ID, mustAdd(t, alice, w.GID, 2).ID, "the same id in every cartItemAdd response")
		require.Equal(t, first.ID, cartOf(t, alice).ID)
		require.Equal(t, &nodeView{Typename: "Cart", ID: first.ID, TotalQuantity: 3}, nodeAs(t, alice, first.ID))
		require.NotEqual(t, first.ID, cartOf(t, bob).ID, "another customer has another cart")
		require.Nil(t, nodeAs(t, bob, first.ID), "another customer")
		require.Nil(t, nodeAs(t, e.Server.Client(t), first.ID), "an anonymous visitor")
		stranger := e.Server.Client(t)
		mustAdd(t, stranger, v.GID, 1)
		require.Nil(t, nodeAs(t, stranger, first.ID), "an anonymous visitor with a cart of their own")
	})

	t.Run("a guest's cart: the cart query issues the token, and the id it gives holds from the first add on", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		browser := e.Server.Client(t)
		looked, _ := getCart(t, browser)
		require.NotEmpty(t, looked.ID)
		require.NotNil(t, looked.Token, "a visitor without a token is issued one")
		token := *looked.Token
		again := cartOf(t, browser)
		require.Equal(t, looked.ID, again.ID, "the cookie carries the token")
		require.Nil(t, again.Token, "a token is issued once")
		require.Equal(t, &nodeView{Typename: "Cart", ID: looked.ID}, nodeAs(t, browser, looked.ID), "node resolves the cart before it holds anything")
		require.Zero(t, guestCarts(t, token), "reading the cart creates none")

		added := mustAdd(t, browser, v.GID, 1)
		require.Equal(t, looked.ID, added.ID, "the first cartItemAdd keeps the id the cart query gave")
		require.Nil(t, added.Token, "under the token the cart query issued")
		require.Equal(t, 1, guestCarts(t, token))
		require.Equal(t, looked.ID, mustAdd(t, browser, v.GID, 2).ID, "the same id in every cartItemAdd response")
		require.Equal(t, looked.ID, cartOf(t, browser).ID)
		id := looked.ID
		require.Equal(t, &nodeView{Typename: "Cart", ID: id, TotalQuantity: 3}, nodeAs(t, browser, id), "the cookie's holder")
		app := e.Server.Client(t)
		app.Header.Set("X-Cart-Token", token)
		require.Equal(t, &nodeView{Typename: "Cart", ID: id, TotalQuantity: 3}, nodeAs(t, app, id), "the header's holder")
		require.Nil(t, nodeAs(t, e.Server.Client(t), id), "another anonymous visitor")
		wrong := e.Server.Client(t)
		wrong.Header.Set("X-Cart-Token", "no-such-token")
		require.Nil(t, nodeAs(t, wrong, id), "a wrong token")
		customer, _ := e.Customer(t)
		require.Nil(t, nodeAs(t, customer, id), "a customer")
	})

	t.Run("a guest's cart is read in one statement", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		browser := e.Server.Client(t)
		mustAdd(t, browser, v.GID, 2)
		got, statements := getCart(t, browser)
		require.Equal(t, 2, got.TotalQuantity)
		require.Equal(t, int64(1), statements, "the lines, found by the token, and nothing else")
	})

	t.Run("an app without cookies: the token from the cart query, sent as X-Cart-Token, keeps the id", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		app := e.Server.Client(t)
		app.HTTP.Jar = nil
		looked := cartOf(t, app)
		require.NotNil(t, looked.Token)
		app.Header.Set("X-Cart-Token", *looked.Token)
		require.Equal(t, looked.ID, cartOf(t, app).ID)
		added := mustAdd(t, app, v.GID, 1)
		require.Equal(t, looked.ID, added.ID)
		require.Nil(t, added.Token)
		require.Equal(t, 1, cartOf(t, app).TotalQuantity)
	})

	t.Run("signing in merges the guest cart into the customer's, which keeps the customer's id", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		customer, _ := e.Customer(t)
		mine := cartOf(t, customer).ID
		browser := e.Server.Client(t)
		guest := cartOf(t, browser)
		require.NotNil(t, guest.Token)
		require.Equal(t, guest.ID, mustAdd(t, browser, v.GID, 2).ID)
		customer.Header.Set("X-Cart-Token", *guest.Token) // signing in on the guest's device
		merged := cartOf(t, customer)
		require.Equal(t, mine, merged.ID)
		require.Equal(t, 2, merged.TotalQuantity)
		require.Equal(t, mine, mustAdd(t, customer, v.GID, 1).ID)
	})
}

func TestCartMergeOnSignIn(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)

	t.Run("signing in adds the anonymous lines, capped by stock, and deletes the anonymous cart", func(t *testing.T) {
		x := e.Variant(t, 1000, 5) // in both carts: 2 + 4 capped at 5
		y := e.Variant(t, 500, 10) // anonymous only
		z := e.Variant(t, 200, 10) // customer only
		email := apitest.UniqueEmail()
		phone := e.Server.Client(t)
		reg := phone.Register(email, commercePassword)
		require.Empty(t, reg.UserErrors)
		phone.Bearer = reg.Tokens.AccessToken
		mustAdd(t, phone, x.GID, 2)
		mustAdd(t, phone, z.GID, 1)

		browser := e.Server.Client(t)
		token := mustAdd(t, browser, x.GID, 4).Token
		require.NotNil(t, token)
		mustAdd(t, browser, y.GID, 3)

		require.Empty(t, browser.Login(email, commercePassword).UserErrors)
		var out struct {
			Cart cartView `json:"cart"`
		}
		resp := browser.Do(cartQuery, nil)
		resp.Decode(t, &out)
		want := map[string]int{x.GID: 5, y.GID: 3, z.GID: 1}
		require.Equal(t, want, out.Cart.quantities())
		require.True(t, out.Cart.line(x.GID).Available, "the merged quantity is within stock")
		ck := cookieNamed(resp.HTTP, "sg_cart")
		require.NotNil(t, ck, "the merged cart's cookie is cleared")
		require.Negative(t, ck.MaxAge)

		require.Equal(t, want, cartOf(t, phone).quantities(), "the customer's other clients see the merged cart")
		require.Equal(t, want, cartOf(t, browser).quantities(), "reading again does not merge twice")

		ghost := e.Server.Client(t)
		ghost.Header.Set("X-Cart-Token", *token)
		require.Empty(t, cartOf(t, ghost).Lines, "the anonymous cart is gone")
		sum := sha256.Sum256([]byte(*token))
		require.Zero(t, e.Count(t, `SELECT count(*) FROM carts WHERE token_hash = $1`, sum[:]))

		// Presenting the spent token again while signed in changes nothing.
		phone.Header.Set("X-Cart-Token", *token)
		require.Equal(t, want, cartOf(t, phone).quantities())
	})

	t.Run("a leftover guest token without a cart costs nothing, and its cookie is cleared", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		// A token the cart query issued to a visitor who then signed in without adding
		// anything: it has no guest cart.
		token := cartOf(t, e.Server.Client(t)).Token
		require.NotNil(t, token)
		read := func(t *testing.T, c *apitest.Client) (*apitest.Response, cartView) {
			t.Helper()
			var out struct {
				Cart cartView `json:"cart"`
			}
			resp := c.Do(cartQuery, nil)
			resp.Decode(t, &out)
			return resp, out.Cart
		}
		plain, _ := e.Customer(t)
		mustAdd(t, plain, v.GID, 1)
		stale, _ := e.Customer(t)
		mustAdd(t, stale, v.GID, 1)
		stale.Header.Set("X-Cart-Token", *token)

		without, _ := read(t, plain)
		resp, got := read(t, stale)
		require.Equal(t, map[string]int{v.GID: 1}, got.quantities())
		require.Equal(t, without.SQLStatements(t), resp.SQLStatements(t), "the stale token costs no statement")
		require.Equal(t, without.SQLRoundTrips(t), resp.SQLRoundTrips(t))
		ck := cookieNamed(resp.HTTP, "sg_cart")
		require.NotNil(t, ck, "the spent token's cookie is cleared")
		require.Negative(t, ck.MaxAge)

		// A change made with it clears the cookie too.
		add := stale.Do(cartAddMutation, map[string]any{"input": map[string]any{"variantId": v.GID, "quantity": 1}})
		var out struct {
			P cartPayloadView `json:"cartItemAdd"`
		}
		add.Decode(t, &out)
		require.Empty(t, out.P.UserErrors)
		require.Equal(t, map[string]int{v.GID: 2}, out.P.Cart.quantities())
		ck = cookieNamed(add.HTTP, "sg_cart")
		require.NotNil(t, ck, "the spent token's cookie is cleared by a change as well")
		require.Negative(t, ck.MaxAge)
	})

	t.Run("a customer without a cart gets the anonymous cart's lines", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		browser := e.Server.Client(t)
		token := mustAdd(t, browser, v.GID, 2).Token
		require.NotNil(t, token)
		c, _ := e.Customer(t)
		c.Header.Set("X-Cart-Token", *token)
		// The first use after sign-in may be a mutation rather than a read.
		w := e.Variant(t, 500, 10)
		require.Equal(t, map[string]int{v.GID: 2, w.GID: 1}, mustAdd(t, c, w.GID, 1).quantities())
		c.Header.Del("X-Cart-Token")
		require.Equal(t, map[string]int{v.GID: 2, w.GID: 1}, cartOf(t, c).quantities())
	})

	t.Run("merging never mixes currencies in one cart", func(t *testing.T) {
		usd := e.Variant(t, 1000, 10)
		eur := e.Product(t, apitest.ProductOptions{Currency: "EUR", Variants: []catalog.VariantInput{{Price: 900, Stock: 10}}})[0]
		c, _ := e.Customer(t)
		mustAdd(t, c, usd.GID, 1)
		browser := e.Server.Client(t)
		token := mustAdd(t, browser, eur.GID, 1).Token
		require.NotNil(t, token)

		c.Header.Set("X-Cart-Token", *token)
		resp := c.Do(cartQuery, nil)
		require.Empty(t, resp.Errors)
		var out struct {
			Cart cartView `json:"cart"`
		}
		resp.Decode(t, &out)
		currencies := map[string]bool{}
		sum := int64(0)
		for _, l := range out.Cart.Lines {
			currencies[l.UnitPrice.Currency] = true
			sum += l.LineTotal.Amount
		}
		require.Len(t, currencies, 1, "a merged cart must not hold USD and EUR lines together: %+v", out.Cart.Lines)
		require.Equal(t, sum, out.Cart.Subtotal.Amount, "the subtotal is the sum of the lines")
		require.Equal(t, 1, out.Cart.quantities()[usd.GID], "the customer's own line is kept")
		require.Empty(t, checkoutWith(t, c, checkoutInput(uuid.NewString(), apitest.Address())).UserErrors, "the merged cart checks out")
	})
}

func TestCheckout(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)

	t.Run("anonymous shoppers are UNAUTHENTICATED", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		anon := e.Server.Client(t)
		mustAdd(t, anon, v.GID, 1)
		resp := anon.Do(checkoutMutation, map[string]any{"input": checkoutInput(uuid.NewString(), apitest.Address())})
		require.Equal(t, "UNAUTHENTICATED", resp.Code())
		require.Equal(t, map[string]int{v.GID: 1}, cartOf(t, anon).quantities())
		require.Equal(t, 10, e.Stock(t, v))
	})

	t.Run("the order's lines keep the cart's order, in the response and when read again", func(t *testing.T) {
		older, newer := e.Variant(t, 100, 10), e.Variant(t, 200, 10) // newer has the higher id
		c, _ := e.Customer(t)
		mustAdd(t, c, newer.GID, 1)
		mustAdd(t, c, older.GID, 1)
		mustAdd(t, c, newer.GID, 1) // more of a line does not move it

		p := checkoutWith(t, c, checkoutInput(uuid.NewString(), apitest.Address()))
		require.Empty(t, p.UserErrors)
		skus := func(lines []orderLineView) []string {
			out := make([]string, len(lines))
			for i, l := range lines {
				out[i] = l.SKU
			}
			return out
		}
		require.Equal(t, []string{newer.SKU, older.SKU}, skus(p.Order.Lines))
		require.Equal(t, []int{2, 1}, []int{p.Order.Lines[0].Quantity, p.Order.Lines[1].Quantity})
		require.Equal(t, []string{newer.SKU, older.SKU}, skus(orderAs(t, c, p.Order.ID).Lines))
	})

	t.Run("places a PENDING order holding a snapshot of every line", func(t *testing.T) {
		a := e.Product(t, apitest.ProductOptions{Name: "Snapshot Kettle", Variants: []catalog.VariantInput{{Name: "Large", Price: 1250, Stock: 10}}})[0]
		b := e.Product(t, apitest.ProductOptions{Name: "Snapshot Mug", Variants: []catalog.VariantInput{{Name: "Blue", Price: 300, Stock: 5}}})[0]
		c, userID := e.Customer(t)
		mustAdd(t, c, a.GID, 2)
		mustAdd(t, c, b.GID, 1)
		key := uuid.NewString()
		before := time.Now().Add(-time.Minute)

		p := checkoutWith(t, c, checkoutInput(key, apitest.Address()))
		require.Empty(t, p.UserErrors)
		o := p.Order
		require.NotNil(t, o)
		require.Equal(t, "PENDING", o.Status)
		require.Equal(t, moneyJSON{2800, "USD"}, o.Total)
		require.Nil(t, o.TrackingNumber)
		require.WithinRange(t, o.CreatedAt, before, time.Now().Add(time.Minute))
		require.ElementsMatch(t, []orderLineView{
			{ProductName: "Snapshot Kettle", VariantName: "Large", SKU: a.SKU, UnitPrice: moneyJSON{1250, "USD"}, Quantity: 2,
				LineTotal: moneyJSON{2500, "USD"}, VariantID: a.GID, ProductID: a.ProductGID},
			{ProductName: "Snapshot Mug", VariantName: "Blue", SKU: b.SKU, UnitPrice: moneyJSON{300, "USD"}, Quantity: 1,
				LineTotal: moneyJSON{300, "USD"}, VariantID: b.GID, ProductID: b.ProductGID},
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
		require.Equal(t, ptrTo(apitest.GlobalID("User", userID)), ev.ActorID)

		cart := cartOf(t, c)
		require.Empty(t, cart.Lines, "checkout empties the cart")
		require.Nil(t, cart.Subtotal)
		require.Equal(t, 8, e.Stock(t, a))
		require.Equal(t, 4, e.Stock(t, b))
		require.Equal(t, 1, e.OrdersOf(t, userID))

		read := orderAs(t, c, o.ID)
		require.NotNil(t, read)
		require.Equal(t, *o, *read, "order(id:) returns what checkout returned")
	})

	t.Run("the idempotency key may come as the Idempotency-Key header", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		c, userID := e.Customer(t)
		mustAdd(t, c, v.GID, 2)
		key := uuid.NewString()
		c.Header.Set("Idempotency-Key", key)
		first := checkoutWith(t, c, checkoutInput("", apitest.Address()))
		require.Empty(t, first.UserErrors)
		again := checkoutWith(t, c, checkoutInput("", apitest.Address()))
		require.Empty(t, again.UserErrors)
		require.Equal(t, first.Order.ID, again.Order.ID)
		c.Header.Del("Idempotency-Key")
		inInput := checkoutWith(t, c, checkoutInput(key, apitest.Address()))
		require.Empty(t, inInput.UserErrors)
		require.Equal(t, first.Order.ID, inInput.Order.ID, "the header and the input name the same key")
		require.Equal(t, 8, e.Stock(t, v))
		require.Equal(t, 1, e.OrdersOf(t, userID))
	})

	t.Run("a missing or malformed idempotency key is INVALID and changes nothing", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		c, userID := e.Customer(t)
		mustAdd(t, c, v.GID, 2)
		for name, key := range map[string]string{"missing": "", "blank": "   ", "too long": strings.Repeat("k", 256)} {
			p := checkoutWith(t, c, checkoutInput(key, apitest.Address()))
			require.Equal(t, []string{"INVALID:input.idempotencyKey"}, errorCodesOf(p.UserErrors), name)
		}
		require.Equal(t, map[string]int{v.GID: 2}, cartOf(t, c).quantities())
		require.Equal(t, 10, e.Stock(t, v))
		require.Zero(t, e.OrdersOf(t, userID))
	})

	t.Run("invalid address fields are INVALID with their paths and change nothing", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		c, userID := e.Customer(t)
		mustAdd(t, c, v.GID, 2)
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
		require.Equal(t, map[string]int{v.GID: 2}, cartOf(t, c).quantities())
		require.Equal(t, 10, e.Stock(t, v))
		require.Zero(t, e.OrdersOf(t, userID))

		ok := checkoutWith(t, c, checkoutInput(key, apitest.Address()))
		require.Empty(t, ok.UserErrors, "a refused request does not use up its key")
	})

	t.Run("the same key and address return the same order without taking stock again", func(t *testing.T) {
		v, w := e.Variant(t, 1000, 10), e.Variant(t, 400, 10)
		c, userID := e.Customer(t)
		mustAdd(t, c, v.GID, 2)
		key := uuid.NewString()
		first := checkoutWith(t, c, checkoutInput(key, apitest.Address()))
		require.Empty(t, first.UserErrors)
		second := checkoutWith(t, c, checkoutInput(key, apitest.Address()))
		require.Empty(t, second.UserErrors)
		require.Equal(t, *first.Order, *second.Order)
		require.Equal(t, 8, e.Stock(t, v))
		require.Equal(t, 1, e.OrdersOf(t, userID))

		// A retry after the customer started a new cart still answers with the placed order and
		// leaves the new cart alone.
		mustAdd(t, c, w.GID, 1)
		third := checkoutWith(t, c, checkoutInput(key, apitest.Address()))
		require.Empty(t, third.UserErrors)
		require.Equal(t, first.Order.ID, third.Order.ID)
		require.Equal(t, map[string]int{w.GID: 1}, cartOf(t, c).quantities())
		require.Equal(t, 10, e.Stock(t, w))
		require.Equal(t, 1, e.OrdersOf(t, userID))
	})

	t.Run("the same key with another address is IDEMPOTENCY_KEY_REUSED", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		c, userID := e.Customer(t)
		mustAdd(t, c, v.GID, 1)
		key := uuid.NewString()
		require.Empty(t, checkoutWith(t, c, checkoutInput(key, apitest.Address())).UserErrors)
		mustAdd(t, c, v.GID, 2)
		p := checkoutWith(t, c, checkoutInput(key, withAddress(map[string]any{"city": "Paris", "country": "FR", "postalCode": "75001"})))
		require.Equal(t, []string{"IDEMPOTENCY_KEY_REUSED:input.idempotencyKey"}, errorCodesOf(p.UserErrors))
		require.Equal(t, map[string]int{v.GID: 2}, cartOf(t, c).quantities())
		require.Equal(t, 9, e.Stock(t, v))
		require.Equal(t, 1, e.OrdersOf(t, userID))
	})

	t.Run("idempotency keys are per customer", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		key := uuid.NewString()
		a, _ := e.Customer(t)
		b, _ := e.Customer(t)
		oa := buyWithKey(t, a, v, 1, key)
		ob := buyWithKey(t, b, v, 1, key)
		require.NotEqual(t, oa.ID, ob.ID)
		require.Equal(t, 8, e.Stock(t, v))
	})

	t.Run("units added during a checkout are in the order or still in the cart, never lost", func(t *testing.T) {
		v, other := e.Variant(t, 100, 1000), e.Variant(t, 200, 1000)
		for i := range 40 {
			c, _ := e.Customer(t)
			mustAdd(t, c, v.GID, 1)
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
					errs[0] = c.TryPayload(checkoutMutation, map[string]any{"input": checkoutInput(uuid.NewString(), apitest.Address())}, "checkout", &placed)
				} else {
					errs[1] = c.TryPayload(cartAddMutation, map[string]any{"input": map[string]any{"variantId": late.GID, "quantity": 1}}, "cartItemAdd", &added)
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
			want := map[string]int{v.GID: 2}
			if late == other {
				want = map[string]int{v.GID: 1, other.GID: 1}
			}
			require.Equal(t, want, units, "units in the order and the cart")
		}
	})

	t.Run("an empty cart is CART_EMPTY", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		fresh, freshID := e.Customer(t)
		p := checkoutWith(t, fresh, checkoutInput(uuid.NewString(), apitest.Address()))
		require.Equal(t, []string{"CART_EMPTY"}, errorCodesOf(p.UserErrors), "never had a cart")

		cleared, clearedID := e.Customer(t)
		mustAdd(t, cleared, v.GID, 1)
		cartClear(t, cleared)
		key := uuid.NewString()
		p = checkoutWith(t, cleared, checkoutInput(key, apitest.Address()))
		require.Equal(t, []string{"CART_EMPTY"}, errorCodesOf(p.UserErrors), "emptied cart")
		require.Zero(t, e.OrdersOf(t, freshID)+e.OrdersOf(t, clearedID))

		mustAdd(t, cleared, v.GID, 1)
		require.Empty(t, checkoutWith(t, cleared, checkoutInput(key, apitest.Address())).UserErrors, "the key was not used up")
	})

	t.Run("short stock is OUT_OF_STOCK naming the variant and changes nothing", func(t *testing.T) {
		plenty := e.Variant(t, 1000, 10) // created first: its stock is taken first, then given back
		scarce := e.Variant(t, 500, 3)
		c, userID := e.Customer(t)
		mustAdd(t, c, plenty.GID, 2)
		mustAdd(t, c, scarce.GID, 5)
		key := uuid.NewString()

		p := checkoutWith(t, c, checkoutInput(key, apitest.Address()))
		require.Len(t, p.UserErrors, 1)
		ue := p.UserErrors[0]
		require.Equal(t, "OUT_OF_STOCK", ue.Code)
		require.Equal(t, &scarce.GID, ue.VariantID)
		require.Equal(t, ptrTo(3), ue.AvailableQuantity)
		require.NotEmpty(t, ue.Message)

		require.Equal(t, 10, e.Stock(t, plenty), "stock taken for the other line was given back")
		require.Equal(t, 3, e.Stock(t, scarce))
		cart := cartOf(t, c)
		require.Equal(t, map[string]int{plenty.GID: 2, scarce.GID: 5}, cart.quantities(), "the cart is intact")
		require.False(t, cart.line(scarce.GID).Available)
		require.Zero(t, e.OrdersOf(t, userID))

		require.Empty(t, cartUpdate(t, c, scarce.GID, 3).UserErrors)
		ok := checkoutWith(t, c, checkoutInput(key, apitest.Address()))
		require.Empty(t, ok.UserErrors, "the same key works once the cart is fixed")
		require.Equal(t, 8, e.Stock(t, plenty))
		require.Zero(t, e.Stock(t, scarce))
	})

	t.Run("an archived product or a deleted variant in the cart is LINE_UNAVAILABLE", func(t *testing.T) {
		ctx := context.Background()
		for _, gone := range []string{"archived product", "deleted variant"} {
			ok := e.Variant(t, 1000, 10)
			pair := e.Product(t, apitest.ProductOptions{Variants: []catalog.VariantInput{{Price: 300, Stock: 10}, {Price: 400, Stock: 10}}})
			c, userID := e.Customer(t)
			mustAdd(t, c, ok.GID, 1)
			mustAdd(t, c, pair[1].GID, 2)
			var err error
			if gone == "archived product" {
				_, err = e.Server.App.Catalog.Archive(ctx, e.AdminViewer(), pair[1].ProductID)
			} else {
				_, err = e.Server.App.Catalog.VariantDelete(ctx, e.AdminViewer(), pair[1].VariantID)
			}
			require.NoError(t, err)

			p := checkoutWith(t, c, checkoutInput(uuid.NewString(), apitest.Address()))
			require.Len(t, p.UserErrors, 1, gone)
			require.Equal(t, "LINE_UNAVAILABLE", p.UserErrors[0].Code, gone)
			require.Equal(t, &pair[1].GID, p.UserErrors[0].VariantID, gone)
			require.Equal(t, 10, e.Stock(t, ok), gone)
			require.Equal(t, 10, e.Stock(t, pair[1]), gone)
			require.Equal(t, map[string]int{ok.GID: 1, pair[1].GID: 2}, cartOf(t, c).quantities(), gone)
			require.Zero(t, e.OrdersOf(t, userID), gone)
		}
	})
}

// buyWithKey fills c's cart and checks out with key.
func buyWithKey(t *testing.T, c *apitest.Client, v apitest.Variant, quantity int, key string) orderView {
	t.Helper()
	mustAdd(t, c, v.GID, quantity)
	p := checkoutWith(t, c, checkoutInput(key, apitest.Address()))
	require.Empty(t, p.UserErrors)
	return *p.Order
}

// TestCheckoutPriceAtCheckout: the order holds the price at checkout time, not the price when
// the item was added, and later catalog changes never alter a placed order.
func TestCheckoutPriceAtCheckout(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	ctx := context.Background()
	v := e.Product(t, apitest.ProductOptions{Name: "Repriced Lamp", Variants: []catalog.VariantInput{{Name: "Brass", Price: 1000, Stock: 10}}})[0]
	c, _ := e.Customer(t)
	mustAdd(t, c, v.GID, 3)

	e.SetPrice(t, v, 1500)
	require.Equal(t, moneyJSON{1500, "USD"}, cartOf(t, c).Lines[0].UnitPrice, "the cart shows the new price")
	o := placeOrder(t, c)
	require.Equal(t, moneyJSON{1500, "USD"}, o.Lines[0].UnitPrice)
	require.Equal(t, moneyJSON{4500, "USD"}, o.Lines[0].LineTotal)
	require.Equal(t, moneyJSON{4500, "USD"}, o.Total)

	e.SetPrice(t, v, 2000)
	name, sku := "Renamed Lamp", apitest.UniqueSKU("RENAMED")
	_, err := e.Server.App.Catalog.Update(ctx, e.AdminViewer(), catalog.UpdateInput{ID: v.ProductID, Name: &name})
	require.NoError(t, err)
	_, err = e.Server.App.Catalog.VariantUpdate(ctx, e.AdminViewer(), catalog.VariantUpdateInput{ID: v.VariantID, SKU: &sku})
	require.NoError(t, err)
	_, err = e.Server.App.Catalog.Archive(ctx, e.AdminViewer(), v.ProductID)
	require.NoError(t, err)

	read := orderAs(t, c, o.ID)
	require.NotNil(t, read)
	require.Equal(t, o.Lines, read.Lines, "a placed order's lines never change")
	require.Equal(t, o.Total, read.Total)
	require.Equal(t, "Repriced Lamp", read.Lines[0].ProductName)
	require.Equal(t, v.SKU, read.Lines[0].SKU)
	adminRead := orderAs(t, e.Admin, o.ID)
	require.Equal(t, o.Lines, adminRead.Lines)
}

// TestCheckoutOversell: 200 customers race for the 50 units of one variant. Exactly 50 orders
// are placed, the other 150 get OUT_OF_STOCK, and stock ends at 0 without ever going below.
func TestCheckoutOversell(t *testing.T) {
	t.Parallel()
	const customers, stock = 200, 50
	e := newShopEnv(t)
	v := e.Variant(t, 1000, stock)
	start := time.Now()
	ids := e.InsertUsers(t, auth.RoleCustomer, customers)
	clients := make([]*apitest.Client, customers)
	for i, id := range ids {
		clients[i] = e.ClientFor(t, id, auth.RoleCustomer)
	}
	require.NoError(t, parallel(customers, 8, func(i int) error {
		var p cartPayloadView
		if err := clients[i].TryPayload(cartAddMutation, map[string]any{"input": map[string]any{"variantId": v.GID, "quantity": 1}}, "cartItemAdd", &p); err != nil {
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
			if err := e.Server.App.DB.Pool.QueryRow(context.Background(), `SELECT stock FROM product_variants WHERE id = $1`, v.VariantID).Scan(&n); err != nil {
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
		err := clients[i].TryPayload(checkoutMutation, map[string]any{"input": checkoutInput(uuid.NewString(), apitest.Address())}, "checkout", &p)
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
		require.Equal(t, &v.GID, o.errs[0].VariantID)
		require.Equal(t, ptrTo(0), o.errs[0].AvailableQuantity)
		refused++
	}
	require.Equal(t, stock, placed)
	require.Equal(t, customers-stock, refused)
	require.Zero(t, e.Stock(t, v), "final stock")
	require.GreaterOrEqual(t, minSeen.Load(), int64(0), "stock was seen below zero")
	require.Equal(t, stock, e.Count(t, `SELECT count(*) FROM orders`))
	require.Equal(t, stock, e.Count(t, `SELECT count(DISTINCT user_id) FROM orders`))
	require.Equal(t, stock, e.Count(t, `SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE variant_id = $1`, v.VariantID))
	require.Equal(t, customers-stock, e.Count(t, `SELECT count(*) FROM cart_lines WHERE variant_id = $1`, v.VariantID),
		"refused customers keep their carts; served ones have theirs emptied")
	require.Equal(t, stock, e.Count(t, `SELECT count(*) FROM checkout_requests`), "refused checkouts leave no idempotency record")
}

// TestCheckoutIdempotencyConcurrent: 20 simultaneous checkouts with one key (as a retrying
// client would send) make exactly one order and take stock once; every response names it.
func TestCheckoutIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	const attempts = 20
	e := newShopEnv(t)
	v, w := e.Variant(t, 1000, 10), e.Variant(t, 250, 10)
	c, userID := e.Customer(t)
	mustAdd(t, c, v.GID, 2)
	mustAdd(t, c, w.GID, 1)
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
		cl.Header = http.Header{}
		in := checkoutInput(key, apitest.Address())
		if i%2 == 1 { // half send the key as a header
			in = checkoutInput("", apitest.Address())
			cl.Header.Set("Idempotency-Key", key)
		}
		var p orderPayloadView
		err := cl.TryPayload(checkoutMutation, map[string]any{"input": in}, "checkout", &p)
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
	require.Equal(t, 1, e.OrdersOf(t, userID))
	require.Equal(t, 8, e.Stock(t, v))
	require.Equal(t, 9, e.Stock(t, w))
	o := orderAs(t, c, orderID)
	require.Len(t, o.Events, 1)
	require.Len(t, o.Lines, 2)
	require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM checkout_requests WHERE user_id = $1`, userID))
}

// TestCheckoutOneCartManyKeys: a customer checking out one cart from several tabs at once
// (each with its own key) gets one order; the others find the cart already empty.
func TestCheckoutOneCartManyKeys(t *testing.T) {
	t.Parallel()
	const tabs = 10
	e := newShopEnv(t)
	v := e.Variant(t, 1000, 10)
	c, userID := e.Customer(t)
	mustAdd(t, c, v.GID, 3)

	codes := make([]string, tabs)
	errs := make([]error, tabs)
	together(tabs, func(i int) {
		var p orderPayloadView
		errs[i] = c.TryPayload(checkoutMutation, map[string]any{"input": checkoutInput(uuid.NewString(), apitest.Address())}, "checkout", &p)
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
	require.Equal(t, 1, e.OrdersOf(t, userID))
	require.Equal(t, 7, e.Stock(t, v))
}

// TestCheckoutNoDeadlock: customers whose carts hold the same variants, added in opposite
// orders, check out at the same time; no deadlock (or any other internal error) reaches a
// client and every order is placed.
func TestCheckoutNoDeadlock(t *testing.T) {
	t.Parallel()
	const customers, rounds, stock = 30, 3, 1000
	e := newShopEnv(t)
	// Two variants of one product and one of another, so stock rows of two products are taken.
	ab := e.Product(t, apitest.ProductOptions{Variants: []catalog.VariantInput{{Name: "A", Price: 100, Stock: stock}, {Name: "B", Price: 200, Stock: stock}}})
	vc := e.Variant(t, 300, stock)
	vs := []apitest.Variant{ab[0], ab[1], vc}
	ids := e.InsertUsers(t, auth.RoleCustomer, customers)
	clients := make([]*apitest.Client, customers)
	for i, id := range ids {
		clients[i] = e.ClientFor(t, id, auth.RoleCustomer)
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
				if err := clients[i].TryPayload(cartAddMutation, map[string]any{"input": map[string]any{"variantId": vs[k].GID, "quantity": 1 + k}}, "cartItemAdd", &p); err != nil {
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
			err := clients[i].TryPayload(checkoutMutation, map[string]any{"input": checkoutInput(uuid.NewString(), apitest.Address())}, "checkout", &p)
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
		require.Equal(t, stock-customers*rounds*(1+k), e.Stock(t, v), "variant %d", k)
	}
	require.Equal(t, customers*rounds, e.Count(t, `SELECT count(*) FROM orders`))
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
	costOf := func(resp *apitest.Response) cost { return cost{resp.SQLStatements(t), resp.SQLRoundTrips(t)} }
	// costs fills a new customer's cart with n variants, then checks out; it returns the most
	// one cartItemAdd cost and what the checkout cost.
	costs := func(t *testing.T, n int) (maxAdd, checkout cost) {
		c, _ := e.Customer(t)
		for range n {
			v := e.Variant(t, 500, 10)
			resp := c.Do(add, map[string]any{"input": map[string]any{"variantId": v.GID, "quantity": 2}})
			var out struct {
				P cartPayloadView `json:"cartItemAdd"`
			}
			resp.Decode(t, &out)
			require.Empty(t, out.P.UserErrors)
			got := costOf(resp)
			maxAdd = cost{max(maxAdd.statements, got.statements), max(maxAdd.roundTrips, got.roundTrips)}
		}
		resp := c.Do(pay, map[string]any{"input": checkoutInput(uuid.NewString(), apitest.Address())})
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
		resp.Decode(t, &out)
		require.Empty(t, out.P.UserErrors)
		require.Equal(t, "PENDING", out.P.Order.Status)
		require.Len(t, out.P.Order.Lines, n)
		require.NotEmpty(t, out.P.Payment.IntentID)
		return maxAdd, costOf(resp)
	}
	add1, checkout1 := costs(t, 1)
	add5, checkout5 := costs(t, 5)
	t.Logf("cartItemAdd at most %+v (1 line) / %+v (5 lines); checkout %+v (1 line) / %+v (5 lines)", add1, add5, checkout1, checkout5)
	// A signed-in customer's cartItemAdd is one pipeline, one implicit transaction: lock the
	// cart, put the line (the rule of what may be put in a cart), read the cart back.
	require.LessOrEqual(t, add5.statements, int64(3))
	require.LessOrEqual(t, add5.roundTrips, int64(1))
	// Checkout: [BEGIN, claim key and lock cart, lines locking their variants], [plan
	// setting, stock, order with lines and event], expiry job (River's InsertTx), COMMIT;
	// then the payment record.
	require.LessOrEqual(t, checkout5.statements, int64(9))
	require.LessOrEqual(t, checkout5.roundTrips, int64(5))
	require.Equal(t, checkout1, checkout5, "checkout's cost does not grow with the lines")
}

// TestCheckoutExpiryJob: the expiry job that checkout inserts (River's InsertTx, in the
// order's transaction) is the row River writes for the same job.
func TestCheckoutExpiryJob(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	ctx := context.Background()
	c, _ := e.Customer(t)
	o := buy(t, c, e.Variant(t, 1250, 10), 1)
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
	tx, err := e.Server.App.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	ours := read(tx, `kind = 'expire_order' AND (args->>'order_id')::bigint = $1`, id)

	var placedAt time.Time
	require.NoError(t, tx.QueryRow(ctx, `SELECT created_at FROM orders WHERE id = $1`, id).Scan(&placedAt))
	insertOnly, err := river.NewClient(riverpgxv5.New(e.Server.App.DB.Pool), &river.Config{})
	require.NoError(t, err)
	res, err := insertOnly.InsertTx(ctx, tx, jobs.ExpireOrderArgs{OrderID: id},
		&river.InsertOpts{ScheduledAt: placedAt.Add(e.Server.App.Payments.ExpireAfter)})
	require.NoError(t, err)
	rivers := read(tx, `id = $1`, res.Job.ID)

	require.Equal(t, rivers, ours)
	require.Equal(t, "scheduled", ours[0])
}
