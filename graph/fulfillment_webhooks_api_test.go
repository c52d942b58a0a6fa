package graph_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/webhook"
)

// A fulfilment's creation, tracking update and delivery are webhook events, owed in their
// transactions: the admin's subscription and the fulfilling vendor's receive them, with the
// fulfilment's tracking and lines; the order's other vendor's subscription receives nothing.
func TestFulfillmentWebhooks(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}})
	s := newTwoVendorShop(t, e)
	types := []string{"FULFILLMENT_CREATED", "FULFILLMENT_TRACKING_UPDATED", "FULFILLMENT_DELIVERED"}
	toAdmin, toA, toB := newHookReceiver(t), newHookReceiver(t), newHookReceiver(t)
	for c, r := range map[*apitest.Client]*hookReceiver{e.Admin: toAdmin, s.vendorA: toA} {
		created := createWebhook(t, c, r.URL, types...)
		require.Empty(t, created.UserErrors)
		require.ElementsMatch(t, types, created.Webhook.EventTypes)
	}
	hookB := createWebhook(t, s.vendorB, toB.URL, types...)
	require.Empty(t, hookB.UserErrors)

	p := fulfilCreate(t, s.vendorA, s.orderID, "A1", fline(s.lineA, 3))
	require.Empty(t, p.UserErrors)
	id := p.Fulfillment.ID
	up := fulfil(t, s.vendorA, fulfillmentTrackingMutation, "fulfillmentUpdateTracking", map[string]any{
		"id": id, "carrier": "DHL", "trackingNumber": "A1b", "trackingUrl": "https://dhl.example/A1b"})
	require.Empty(t, up.UserErrors)
	done := fulfil(t, s.vendorA, fulfillmentDeliveredMutation, "fulfillmentMarkDelivered", map[string]any{"id": id})
	require.Empty(t, done.UserErrors)

	for name, r := range map[string]*hookReceiver{"admin": toAdmin, "vendor A": toA} {
		got := r.wait(t, 3)
		require.Len(t, got, 3, name)
		bySeq := map[int64]hookRequest{}
		for _, g := range got {
			require.Equal(t, "fulfillment", g.env.Resource.Type, name)
			require.Equal(t, id, g.env.Resource.ID, name)
			bySeq[g.env.Sequence] = g
		}
		require.Len(t, bySeq, 3, name+": numbered per fulfilment")
		want := []webhook.EventType{webhook.FulfillmentCreated, webhook.FulfillmentTrackingUpdated, webhook.FulfillmentDelivered}
		for i, typ := range want {
			g, ok := bySeq[int64(i+1)]
			require.True(t, ok, name)
			require.Equal(t, typ, g.env.Type, name)
			var d webhook.FulfillmentData
			require.NoError(t, json.Unmarshal(g.env.Data, &d))
			require.Equal(t, id, d.ID)
			require.Equal(t, s.orderID, d.OrderID)
			require.Equal(t, []webhook.FulfillmentLineData{{OrderLineID: s.lineA, Quantity: 3}}, d.Lines)
			switch typ {
			case webhook.FulfillmentCreated:
				require.Equal(t, "A1", d.TrackingNumber)
				require.Nil(t, d.DeliveredAt)
			case webhook.FulfillmentTrackingUpdated:
				require.Equal(t, "DHL", d.Carrier)
				require.Equal(t, "A1b", d.TrackingNumber)
			case webhook.FulfillmentDelivered:
				require.Equal(t, "DELIVERED", d.Status)
				require.NotNil(t, d.DeliveredAt)
			}
		}
	}
	require.Empty(t, deliveriesOf(t, s.vendorB, hookB.Webhook.ID), "vendor B's subscription hears nothing of A's fulfilment")
	require.Zero(t, e.Count(t, `SELECT count(*) FROM webhook_deliveries WHERE subscription_id IN
		(SELECT id FROM webhook_subscriptions WHERE vendor_id = $1)`, s.vendorBID))
}
