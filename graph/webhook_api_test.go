package graph_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/webhook"
)

const (
	webhookCreateMutation = `mutation($input: WebhookCreateInput!) { webhookCreate(input: $input) {
		webhook { id url eventTypes active vendorScoped } secret userErrors { field code message } } }`
	webhookDeliveriesQuery = `query($id: ID!) { webhookDeliveries(webhookId: $id, first: 50) { totalCount nodes {
		id eventId eventType sequence status attempts lastResponseCode lastError payload attemptLog { responseCode durationMs } } } }`
	webhookTestMutation  = `mutation($id: ID!) { webhookTest(input: {id: $id}) { delivery { id status eventType } userErrors { code } } }`
	webhookRetryMutation = `mutation($id: ID!) { webhookDeliveryRetry(input: {id: $id}) { delivery { id status eventId } userErrors { code } } }`
)

// hookReceiver is a real HTTP server on loopback that keeps every request.
type hookReceiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []hookRequest
}

type hookRequest struct {
	header http.Header
	body   []byte
	env    webhook.Envelope
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var env webhook.Envelope
		_ = json.Unmarshal(body, &env)
		r.mu.Lock()
		r.got = append(r.got, hookRequest{header: req.Header.Clone(), body: body, env: env})
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

// wait returns the requests once there are n of them (the job queue's workers send them).
func (r *hookReceiver) wait(t *testing.T, n int) []hookRequest {
	t.Helper()
	var got []hookRequest
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		got = append([]hookRequest(nil), r.got...)
		return len(got) >= n
	}, 20*time.Second, 50*time.Millisecond, "waiting for %d webhook requests", n)
	return got
}

type webhookCreateView struct {
	Webhook *struct {
		ID           string   `json:"id"`
		URL          string   `json:"url"`
		EventTypes   []string `json:"eventTypes"`
		Active       bool     `json:"active"`
		VendorScoped bool     `json:"vendorScoped"`
	} `json:"webhook"`
	Secret     *string         `json:"secret"`
	UserErrors []commerceError `json:"userErrors"`
}

func createWebhook(t *testing.T, c *apitest.Client, url string, types ...string) webhookCreateView {
	t.Helper()
	var out struct {
		P webhookCreateView `json:"webhookCreate"`
	}
	c.As(t).Do(webhookCreateMutation, map[string]any{"input": map[string]any{"url": url, "eventTypes": types}}).Decode(t, &out)
	return out.P
}

type deliveryView struct {
	ID               string `json:"id"`
	EventID          string `json:"eventId"`
	EventType        string `json:"eventType"`
	Sequence         int64  `json:"sequence"`
	Status           string `json:"status"`
	Attempts         int    `json:"attempts"`
	LastResponseCode *int   `json:"lastResponseCode"`
	Payload          string `json:"payload"`
	AttemptLog       []struct {
		ResponseCode *int `json:"responseCode"`
	} `json:"attemptLog"`
}

func deliveriesOf(t *testing.T, c *apitest.Client, id string) []deliveryView {
	t.Helper()
	var out struct {
		D struct {
			Nodes []deliveryView `json:"nodes"`
		} `json:"webhookDeliveries"`
	}
	c.As(t).Do(webhookDeliveriesQuery, map[string]any{"id": id}).Decode(t, &out)
	return out.D.Nodes
}

// TestWebhookCheckoutDeliveriesEndToEnd: an admin's webhook hears of a checkout (the order and
// the stock it took), signed with the secret shown at creation, through the real job queue;
// the delivery log, a test event and a manual redelivery work through the API.
func TestWebhookCheckoutDeliveriesEndToEnd(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}})
	r := newHookReceiver(t)
	created := createWebhook(t, e.Admin, r.URL+"/erp", "ORDER_CREATED", "STOCK_CHANGED")
	require.Empty(t, created.UserErrors)
	require.True(t, strings.HasPrefix(*created.Secret, "whsec_"))
	require.Equal(t, []string{"ORDER_CREATED", "STOCK_CHANGED"}, created.Webhook.EventTypes)
	secret, hookID := *created.Secret, created.Webhook.ID

	customer, _ := e.Customer(t)
	resp := customer.As(t).Do(webhookCreateMutation, map[string]any{"input": map[string]any{"url": r.URL, "eventTypes": []string{"ORDER_PAID"}}})
	require.Equal(t, "FORBIDDEN", resp.Code(), "customers may not subscribe")

	v := e.Variant(t, 1500, 10)
	o := buy(t, customer, v, 2)
	got := r.wait(t, 2)
	byType := map[webhook.EventType]hookRequest{}
	for _, g := range got {
		require.NoError(t, webhook.Verify(secret, g.header.Get("Shopgraph-Signature"), g.body, time.Minute, time.Now()))
		byType[g.env.Type] = g
	}
	var order struct {
		ID    string `json:"id"`
		Total struct {
			Amount int64 `json:"amount"`
		} `json:"total"`
		Lines []struct {
			SKU      string `json:"sku"`
			Quantity int    `json:"quantity"`
		} `json:"lines"`
	}
	require.NoError(t, json.Unmarshal(byType[webhook.OrderCreated].env.Data, &order))
	require.Equal(t, o.ID, order.ID)
	require.Equal(t, int64(3000), order.Total.Amount)
	require.Equal(t, v.SKU, order.Lines[0].SKU)
	var stock map[string]any
	require.NoError(t, json.Unmarshal(byType[webhook.StockChanged].env.Data, &stock))
	require.Equal(t, map[string]any{"variantId": v.GID, "productId": v.ProductGID, "sku": v.SKU, "quantity": 8.0, "delta": -2.0, "reason": "sale"}, stock)

	// The receiver has the requests; the worker records each outcome just after its response.
	log := deliveriesOf(t, e.Admin, hookID)
	for deadline := time.Now().Add(10 * time.Second); !allSucceeded(log) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		log = deliveriesOf(t, e.Admin, hookID)
	}
	require.Len(t, log, 2)
	for _, d := range log {
		require.Equal(t, "SUCCEEDED", d.Status)
		require.Equal(t, 1, d.Attempts)
		require.Equal(t, 200, *d.LastResponseCode)
		require.Len(t, d.AttemptLog, 1)
		require.Equal(t, int64(1), d.Sequence)
	}

	var test struct {
		P struct {
			Delivery struct {
				Status    string `json:"status"`
				EventType string `json:"eventType"`
			} `json:"delivery"`
		} `json:"webhookTest"`
	}
	e.Admin.As(t).Do(webhookTestMutation, map[string]any{"id": hookID}).Decode(t, &test)
	require.Equal(t, "WEBHOOK_TEST", test.P.Delivery.EventType)
	got = r.wait(t, 3)
	require.Equal(t, webhook.Test, got[2].env.Type)

	var retry struct {
		P struct {
			Delivery struct {
				Status  string `json:"status"`
				EventID string `json:"eventId"`
			} `json:"delivery"`
		} `json:"webhookDeliveryRetry"`
	}
	e.Admin.As(t).Do(webhookRetryMutation, map[string]any{"id": log[0].ID}).Decode(t, &retry)
	require.Equal(t, "PENDING", retry.P.Delivery.Status)
	got = r.wait(t, 4)
	require.Equal(t, log[0].EventID, got[3].env.ID, "a redelivery is the same event")
	require.Equal(t, log[0].EventID, got[3].header.Get("Shopgraph-Event-Id"))

	// A checkout that fails (not enough stock) owes nothing.
	mustAdd(t, customer, v.GID, 9)
	p := checkoutWith(t, customer, checkoutInput(uuid.NewString(), apitest.Address()))
	require.Equal(t, "OUT_OF_STOCK", p.UserErrors[0].Code)
	require.Equal(t, 3, e.Count(t, `SELECT count(*) FROM webhook_deliveries`))

	vendor, _ := e.Vendor(t)
	resp = vendor.As(t).Do(webhookDeliveriesQuery, map[string]any{"id": hookID})
	require.Equal(t, "NOT_FOUND", resp.Code(), "a vendor does not see an admin's webhook")

	var node struct {
		Node *struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"node"`
	}
	const nodeQuery = `query($id: ID!) { node(id: $id) { id ... on WebhookDelivery { status } } }`
	e.Admin.As(t).Do(nodeQuery, map[string]any{"id": log[1].ID}).Decode(t, &node)
	require.Equal(t, log[1].ID, node.Node.ID)
	require.Equal(t, "SUCCEEDED", node.Node.Status)
	vendor.As(t).Do(nodeQuery, map[string]any{"id": log[1].ID}).Decode(t, &node)
	require.Nil(t, node.Node, "nor its deliveries")
}

// TestWebhookInternalTargetsRefused: without WEBHOOK_ALLOW_PRIVATE_TARGETS, loopback, private
// and link-local targets are refused with a clear code, and nothing is saved.
func TestWebhookInternalTargetsRefused(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	for _, u := range []string{"http://127.0.0.1:8080/hook", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/"} {
		p := createWebhook(t, e.Admin, u, "ORDER_PAID")
		require.Nil(t, p.Webhook, u)
		require.Nil(t, p.Secret, u)
		require.Len(t, p.UserErrors, 1, u)
		require.Equal(t, "WEBHOOK_TARGET_FORBIDDEN", p.UserErrors[0].Code, u)
		require.Equal(t, []string{"input", "url"}, p.UserErrors[0].Field, u)
	}
	p := createWebhook(t, e.Admin, "gopher://example.com/", "ORDER_PAID")
	require.Equal(t, "INVALID", p.UserErrors[0].Code)
	require.Zero(t, e.Count(t, `SELECT count(*) FROM webhook_subscriptions`))
}

// TestWebhookVendorSubscribes: a vendor's webhook is scoped to it, listed to it alone, and
// hears of its own product's changes only.
func TestWebhookVendorSubscribes(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}})
	r := newHookReceiver(t)
	vendor, vendorID := e.Vendor(t)
	created := createWebhook(t, vendor, r.URL, "PRODUCT_CREATED")
	require.Empty(t, created.UserErrors)
	require.True(t, created.Webhook.VendorScoped)

	e.Variant(t, 100, 1) // the shop's own product: not the vendor's business
	mine := e.Product(t, apitest.ProductOptions{VendorID: &vendorID, Variants: []catalog.VariantInput{{Name: "A", Price: 100, Stock: 1}}})
	got := r.wait(t, 1)
	require.Len(t, got, 1)
	require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM webhook_deliveries`), "none owed for the shop's product")
	require.Equal(t, webhook.ProductCreated, got[0].env.Type)
	require.Equal(t, mine[0].ProductGID, got[0].env.Resource.ID)

	var list struct {
		W struct {
			TotalCount int `json:"totalCount"`
		} `json:"webhooks"`
	}
	q := `{ webhooks { totalCount nodes { id } } }`
	vendor.As(t).Do(q, nil).Decode(t, &list)
	require.Equal(t, 1, list.W.TotalCount)
	other, _ := e.Vendor(t)
	other.As(t).Do(q, nil).Decode(t, &list)
	require.Zero(t, list.W.TotalCount)

	var node struct {
		Node *struct {
			ID string `json:"id"`
		} `json:"node"`
	}
	vendor.As(t).Do(`query($id: ID!) { node(id: $id) { id ... on Webhook { url } } }`, map[string]any{"id": created.Webhook.ID}).Decode(t, &node)
	require.Equal(t, created.Webhook.ID, node.Node.ID)
	other.As(t).Do(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": created.Webhook.ID}).Decode(t, &node)
	require.Nil(t, node.Node)
}

// TestWebhookInventoryImportStockChanged: an inventory import's stock changes are STOCK_CHANGED
// events, owed in the import's apply transaction, with the row's reason ("import" without one).
func TestWebhookInventoryImportStockChanged(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}})
	r := newHookReceiver(t)
	created := createWebhook(t, e.Admin, r.URL, "STOCK_CHANGED")
	require.Empty(t, created.UserErrors)
	vs := stockVariants(t, e, nil, 3) // 10 in stock each
	csv := "sku,quantity,reason\n" + vs[0].SKU + ",4,recount\n" + vs[1].SKU + ",15,\n" + vs[2].SKU + ",10,\n"
	out := upload(t, e.Admin, csv).InventoryImport
	require.Empty(t, out.UserErrors)
	require.Equal(t, "SUCCEEDED", awaitImport(t, e.Admin, out.InventoryImport.ID).Status)

	got := r.wait(t, 2)
	bySKU := map[string]map[string]any{}
	for _, g := range got {
		require.Equal(t, webhook.StockChanged, g.env.Type)
		var data map[string]any
		require.NoError(t, json.Unmarshal(g.env.Data, &data))
		bySKU[data["sku"].(string)] = data
	}
	require.Equal(t, "recount", bySKU[vs[0].SKU]["reason"])
	require.Equal(t, -6.0, bySKU[vs[0].SKU]["delta"])
	require.Equal(t, 4.0, bySKU[vs[0].SKU]["quantity"])
	require.Equal(t, "import", bySKU[vs[1].SKU]["reason"])
	require.Equal(t, 5.0, bySKU[vs[1].SKU]["delta"])
	require.Equal(t, 2, e.Count(t, `SELECT count(*) FROM webhook_deliveries`), "an unchanged variant owes nothing")
}

// allSucceeded reports whether every delivery of log is SUCCEEDED.
func allSucceeded(log []deliveryView) bool {
	for _, d := range log {
		if d.Status != "SUCCEEDED" {
			return false
		}
	}
	return len(log) > 0
}
