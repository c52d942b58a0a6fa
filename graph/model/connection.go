package model

import (
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/notify"
	"github.com/shopgraph/shopgraph/internal/order"
)

// ProductConnection is a page of products. TotalCount is resolved only when asked for, since
// counting a large filtered catalog costs far more than reading one page.
type ProductConnection struct {
	Edges    []*ProductEdge
	Nodes    []*catalog.Product
	PageInfo *PageInfo

	// Viewer and Filter are what totalCount counts.
	Viewer *auth.Viewer
	Filter catalog.Filter
}

// OrderConnection is a page of orders; TotalCount is resolved only when asked for.
type OrderConnection struct {
	Edges    []*OrderEdge
	Nodes    []*order.Order
	PageInfo *PageInfo

	Viewer auth.Viewer
	Filter order.ListFilter
}

// EmailDeliveryConnection is a page of email deliveries; TotalCount is resolved only when asked
// for.
type EmailDeliveryConnection struct {
	Edges    []*EmailDeliveryEdge
	Nodes    []*notify.Delivery
	PageInfo *PageInfo

	Viewer auth.Viewer
	Filter notify.DeliveryFilter
}
