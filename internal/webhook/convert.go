package webhook

import (
	"github.com/shopgraph/shopgraph/db"
)

func subscriptionFromRow(r db.WebhookSubscription) Subscription {
	types := make([]EventType, len(r.EventTypes))
	for i, t := range r.EventTypes {
		types[i] = EventType(t)
	}
	return Subscription{ID: r.ID, URL: r.Url, EventTypes: types, Active: r.Active, Description: r.Description,
		VendorID: r.VendorID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func intPtr(p *int32) *int {
	if p == nil {
		return nil
	}
	n := int(*p)
	return &n
}

func deliveryFromRow(r db.WebhookDelivery) Delivery {
	return Delivery{
		ID: r.ID, SubscriptionID: r.SubscriptionID, EventID: r.EventID, EventType: EventType(r.EventType),
		ResourceType: r.ResourceType, ResourceID: r.ResourceID, Sequence: r.Sequence, Body: r.Body,
		Status: Status(r.Status), Attempts: int(r.Attempts), LastResponseCode: intPtr(r.LastResponseCode),
		LastError: r.LastError, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, LastAttemptAt: r.LastAttemptAt,
		CompletedAt: r.CompletedAt,
	}
}

func deliveryFromGetRow(r db.WebhookDeliveryGetRow) Delivery {
	return deliveryFromRow(db.WebhookDelivery{
		ID: r.ID, SubscriptionID: r.SubscriptionID, EventID: r.EventID, EventType: r.EventType,
		ResourceType: r.ResourceType, ResourceID: r.ResourceID, Sequence: r.Sequence, Body: r.Body,
		Status: r.Status, Attempts: r.Attempts, LastResponseCode: r.LastResponseCode, LastError: r.LastError,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, LastAttemptAt: r.LastAttemptAt, CompletedAt: r.CompletedAt,
	})
}
