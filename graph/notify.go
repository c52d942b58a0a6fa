package graph

import (
	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/notify"
)

const typeEmailDelivery = gid.EmailDelivery

func deliveryFilter(f *model.EmailDeliveryFilter) notify.DeliveryFilter {
	if f == nil {
		return notify.DeliveryFilter{}
	}
	return notify.DeliveryFilter{Status: f.Status, Recipient: f.Recipient}
}
