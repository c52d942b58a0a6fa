package graph

import (
	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/webhook"
)

func webhookPayload(w webhook.Subscription, err error) (*model.WebhookPayload, error) {
	ue, err := userErrors(err)
	if err != nil || len(ue) > 0 {
		return &model.WebhookPayload{UserErrors: ue}, err
	}
	return &model.WebhookPayload{Webhook: &w, UserErrors: ue}, nil
}

func webhookDeliveryPayload(d webhook.Delivery, err error) (*model.WebhookDeliveryPayload, error) {
	ue, err := userErrors(err)
	if err != nil || len(ue) > 0 {
		return &model.WebhookDeliveryPayload{UserErrors: ue}, err
	}
	return &model.WebhookDeliveryPayload{Delivery: &d, UserErrors: ue}, nil
}

func webhookDeliveryConnection(p webhook.DeliveryPage, after string) *model.WebhookDeliveryConnection {
	conn := &model.WebhookDeliveryConnection{
		PageInfo:   &model.PageInfo{HasNextPage: p.HasNextPage, HasPreviousPage: after != ""},
		TotalCount: p.TotalCount, Edges: []*model.WebhookDeliveryEdge{}, Nodes: []*webhook.Delivery{},
	}
	for i := range p.Deliveries {
		d := &p.Deliveries[i]
		conn.Edges = append(conn.Edges, &model.WebhookDeliveryEdge{Cursor: p.Cursors[i], Node: d})
		conn.Nodes = append(conn.Nodes, d)
	}
	if n := len(p.Cursors); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &p.Cursors[0], &p.Cursors[n-1]
	}
	return conn
}
