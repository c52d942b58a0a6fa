package graph_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/payment/paymenttest"
)

// The shapes below are what the documented operations (docs/operations) select; the test reads
// only what it asserts on.
type docMoney struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type docCart struct {
	ID            string    `json:"id"`
	Token         *string   `json:"token"`
	TotalQuantity int       `json:"totalQuantity"`
	Subtotal      *docMoney `json:"subtotal"`
	Lines         []struct {
		Quantity int `json:"quantity"`
		Variant  struct {
			ID string `json:"id"`
		} `json:"variant"`
	} `json:"lines"`
}

type docCartPayload struct {
	Cart       *docCart            `json:"cart"`
	UserErrors []apitest.UserError `json:"userErrors"`
}

type docOrder struct {
	ID                string   `json:"id"`
	Status            string   `json:"status"`
	FulfillmentStatus string   `json:"fulfillmentStatus"`
	TrackingNumber    *string  `json:"trackingNumber"`
	Total             docMoney `json:"total"`
	Lines             []struct {
		ID        string `json:"id"`
		VariantID string `json:"variantId"`
		Quantity  int    `json:"quantity"`
	} `json:"lines"`
	ShippingAddress struct {
		City string `json:"city"`
	} `json:"shippingAddress"`
	Events []struct {
		Status string `json:"status"`
	} `json:"events"`
	Payment *struct {
		Provider string `json:"provider"`
		IntentID string `json:"intentId"`
		Status   string `json:"status"`
	} `json:"payment"`
}

// TestDocumentedStorefrontFlow runs a shop's day through the documented operations only, as a
// frontend built on docs/operations would: a vendor lists a product, a guest finds it and fills
// a cart, registers (the guest cart merges), checks out to a saved address, reads the order and
// follows it live while it is paid; the vendor fulfils its lines; the shopper sees it shipped.
func TestDocumentedStorefrontFlow(t *testing.T) {
	t.Parallel()
	fake := paymenttest.New()
	e := apitest.NewEnv(t, apitest.EnvOptions{Gateway: fake})
	word := "zephyr" + uuid.NewString()[:6]

	vendorClient, _ := e.RegisterVendor(t, "Docs Vendor")
	var created struct {
		Product *struct {
			ID       string `json:"id"`
			Slug     string `json:"slug"`
			Variants []struct {
				ID string `json:"id"`
			} `json:"variants"`
		} `json:"product"`
		UserErrors []apitest.UserError `json:"userErrors"`
	}
	vendorClient.Payload("ProductCreate", map[string]any{
		"name": "Lamp " + word, "currency": "USD", "description": "A lamp for reading.",
		"variants": []map[string]any{
			{"sku": apitest.UniqueSKU("LAMP"), "name": "Brass", "price": 4500, "stock": 10},
			{"sku": apitest.UniqueSKU("LAMP"), "name": "Steel", "price": 3900, "stock": 10},
		},
	}, &created)
	require.Empty(t, created.UserErrors)
	require.NotNil(t, created.Product)
	brass, steel := created.Product.Variants[0].ID, created.Product.Variants[1].ID

	// A guest without cookies, like a mobile app: the cart token travels as a header.
	shopper := e.Server.Client(t)
	shopper.HTTP.Jar = nil
	var cart struct {
		Cart docCart `json:"cart"`
	}
	shopper.Operation("Cart", nil).Decode(t, &cart)
	require.NotNil(t, cart.Cart.Token, "a guest is issued a cart token")
	shopper.Header.Set("X-Cart-Token", *cart.Cart.Token)

	var list struct {
		Products struct {
			TotalCount int `json:"totalCount"`
			Nodes      []struct {
				ID   string `json:"id"`
				Slug string `json:"slug"`
			} `json:"nodes"`
			Facets struct {
				Stock struct {
					InStock int `json:"inStock"`
				} `json:"stock"`
			} `json:"facets"`
		} `json:"products"`
	}
	shopper.Operation("Products", map[string]any{"first": 10, "filter": map[string]any{"search": word}, "sort": "RELEVANCE"}).Decode(t, &list)
	require.Equal(t, 1, list.Products.TotalCount)
	require.Equal(t, created.Product.ID, list.Products.Nodes[0].ID)
	require.Equal(t, 1, list.Products.Facets.Stock.InStock)

	var page struct {
		Product *struct {
			ID       string `json:"id"`
			Variants []struct {
				ID    string   `json:"id"`
				Price docMoney `json:"price"`
			} `json:"variants"`
			Rating struct {
				Count     int   `json:"count"`
				Histogram []int `json:"histogram"`
			} `json:"rating"`
			Reviews struct {
				TotalCount int `json:"totalCount"`
			} `json:"reviews"`
		} `json:"product"`
	}
	shopper.Operation("ProductPage", map[string]any{"slug": list.Products.Nodes[0].Slug}).Decode(t, &page)
	require.NotNil(t, page.Product)
	require.Len(t, page.Product.Variants, 2)
	require.Equal(t, docMoney{4500, "USD"}, page.Product.Variants[0].Price)
	require.Zero(t, page.Product.Rating.Count)

	var added docCartPayload
	shopper.Payload("CartItemAdd", map[string]any{"variantId": brass, "quantity": 2}, &added)
	require.Empty(t, added.UserErrors)
	shopper.Payload("CartItemAdd", map[string]any{"variantId": steel, "quantity": 3}, &added)
	require.Empty(t, added.UserErrors)
	var updated docCartPayload
	shopper.Payload("CartItemUpdate", map[string]any{"variantId": steel, "quantity": 1}, &updated)
	require.Empty(t, updated.UserErrors)
	require.Equal(t, 3, updated.Cart.TotalQuantity)
	require.Equal(t, &docMoney{2*4500 + 3900, "USD"}, updated.Cart.Subtotal)

	var reg apitest.Session
	shopper.Payload("Register", map[string]any{"email": apitest.UniqueEmail(), "password": apitest.Password, "name": "Doc Shopper"}, &reg)
	require.Empty(t, reg.UserErrors)
	shopper.Bearer = reg.Tokens.AccessToken
	shopper.Operation("Cart", nil).Decode(t, &cart)
	require.Equal(t, 3, cart.Cart.TotalQuantity, "the guest cart merged on the first cart read after sign-in")
	shopper.Header.Del("X-Cart-Token")

	var address struct {
		Address *struct {
			ID string `json:"id"`
		} `json:"address"`
		UserErrors []apitest.UserError `json:"userErrors"`
	}
	shopper.Payload("AddressCreate", apitest.Address(), &address)
	require.Empty(t, address.UserErrors)
	var book struct {
		Me struct {
			Addresses []struct {
				ID string `json:"id"`
			} `json:"addresses"`
		} `json:"me"`
	}
	shopper.Operation("AddressBook", nil).Decode(t, &book)
	require.Len(t, book.Me.Addresses, 1)

	var checkout struct {
		Order      *docOrder           `json:"order"`
		UserErrors []apitest.UserError `json:"userErrors"`
		Payment    *struct {
			IntentID     string  `json:"intentId"`
			ClientSecret *string `json:"clientSecret"`
		} `json:"payment"`
	}
	shopper.Payload("Checkout", map[string]any{"idempotencyKey": uuid.NewString(), "shippingAddressId": book.Me.Addresses[0].ID}, &checkout)
	require.Empty(t, checkout.UserErrors)
	require.NotNil(t, checkout.Order)
	require.NotNil(t, checkout.Payment)
	require.NotNil(t, checkout.Payment.ClientSecret, "Stripe.js confirms with it")
	require.Equal(t, "PENDING", checkout.Order.Status)
	require.Equal(t, docMoney{2*4500 + 3900, "USD"}, checkout.Order.Total)
	require.Equal(t, "London", checkout.Order.ShippingAddress.City)

	o := apitest.Order{ID: apitest.OrderNumber(t, checkout.Order.ID), GID: checkout.Order.ID, Intent: checkout.Payment.IntentID, Total: 2*4500 + 3900}
	// The order page follows the order live, as a browser does: graphql-ws with the token in
	// connection_init.
	live := openTrack(t, e.Server.Server, protoTransportWS, shopper.Bearer,
		apitest.OperationDocument(t, "OrderStatusChanged"), map[string]any{"orderId": o.GID})
	require.Equal(t, "PENDING", nextEvent(t, live).Status, "it starts with the current status")
	apitest.PayWithFake(t, e, fake, o)
	require.Equal(t, "PAID", nextEvent(t, live).Status)

	var read struct {
		Order *docOrder `json:"order"`
	}
	shopper.Operation("Order", map[string]any{"id": o.GID}).Decode(t, &read)
	require.NotNil(t, read.Order)
	require.Equal(t, "PAID", read.Order.Status)
	require.Len(t, read.Order.Lines, 2)
	var orders struct {
		Orders struct {
			TotalCount int `json:"totalCount"`
		} `json:"orders"`
	}
	shopper.Operation("MyOrders", nil).Decode(t, &orders)
	require.Equal(t, 1, orders.Orders.TotalCount)

	var toFulfil struct {
		Orders struct {
			Nodes []docOrder `json:"nodes"`
		} `json:"orders"`
	}
	vendorClient.Operation("OrdersToFulfil", nil).Decode(t, &toFulfil)
	require.Len(t, toFulfil.Orders.Nodes, 1)
	require.Equal(t, o.GID, toFulfil.Orders.Nodes[0].ID)
	var lines []map[string]any
	for _, l := range toFulfil.Orders.Nodes[0].Lines {
		lines = append(lines, map[string]any{"orderLineId": l.ID, "quantity": l.Quantity})
	}
	var shipped struct {
		Fulfillment *struct {
			Order struct {
				Status string `json:"status"`
			} `json:"order"`
		} `json:"fulfillment"`
		UserErrors []apitest.UserError `json:"userErrors"`
	}
	vendorClient.Payload("FulfillmentCreate", map[string]any{
		"orderId": o.GID, "lines": lines, "carrier": "UPS", "trackingNumber": "1Z999",
	}, &shipped)
	require.Empty(t, shipped.UserErrors)
	require.Equal(t, "SHIPPED", shipped.Fulfillment.Order.Status)

	shipping := nextEvent(t, live)
	require.Equal(t, "SHIPPED", shipping.Status)
	require.Equal(t, "1Z999", *shipping.Order.TrackingNumber)
	shopper.Operation("Order", map[string]any{"id": o.GID}).Decode(t, &read)
	require.Equal(t, "SHIPPED", read.Order.Status)
	require.Equal(t, "FULFILLED", read.Order.FulfillmentStatus)
	require.Equal(t, "1Z999", *read.Order.TrackingNumber)
}

// TestPlaygroundOpensDocumentedTabs checks the served GraphiQL page carries the documented
// operations as its example tabs (the bundle's handling of them has a browser test in
// internal/httpapi/playground).
func TestPlaygroundOpensDocumentedTabs(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/graphql", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	m := regexp.MustCompile(`data-tabs="([^"]*)"`).FindSubmatch(body)
	require.NotNil(t, m, "no data-tabs on the page")
	var tabs []struct {
		Query string `json:"query"`
	}
	require.NoError(t, json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &tabs))
	var queries []string
	for _, tab := range tabs {
		queries = append(queries, tab.Query)
	}
	var want []string
	for _, name := range []string{"SignIn", "Products", "CartItemAdd", "Checkout", "OrderStatusChanged"} {
		want = append(want, apitest.OperationDocument(t, name))
	}
	require.Equal(t, want, queries, "the page opens the documented operations in tabs")
}
