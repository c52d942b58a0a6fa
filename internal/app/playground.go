package app

import (
	"encoding/json"
	"fmt"

	"github.com/shopgraph/shopgraph/docs/operations"
	"github.com/shopgraph/shopgraph/internal/httpapi/playground"
)

// playgroundExamples are the tabs GraphiQL opens with: a shopper's path through the documented
// operations (docs/operations), in order, with variables to start from. The playground sends
// the session cookies SignIn sets, so the tabs after it run as that customer.
var playgroundExamples = []struct {
	name      string
	variables map[string]any
}{
	{"SignIn", map[string]any{"input": map[string]any{"email": "shopper@example.com", "password": "your password"}}},
	{"Products", map[string]any{"first": 10, "filter": map[string]any{"search": "lamp", "inStock": true}, "sort": "RELEVANCE"}},
	{"CartItemAdd", map[string]any{"input": map[string]any{"variantId": "a variant id from Products or ProductPage", "quantity": 1}}},
	{"Checkout", map[string]any{"input": map[string]any{
		"idempotencyKey": "playground-checkout-1",
		"shippingAddress": map[string]any{
			"name": "Ada Lovelace", "line1": "12 Analytical Row", "city": "London", "postalCode": "N1 9GU", "country": "GB",
		},
	}}},
	{"OrderStatusChanged", map[string]any{"orderId": "the order id Checkout returned"}},
}

// playgroundTabs are playgroundExamples as the playground's tabs.
func playgroundTabs() ([]playground.Tab, error) {
	set, err := operations.Embedded()
	if err != nil {
		return nil, err
	}
	tabs := make([]playground.Tab, 0, len(playgroundExamples))
	for _, ex := range playgroundExamples {
		op, ok := set.Get(ex.name)
		if !ok {
			return nil, fmt.Errorf("playground: docs/operations has no operation %s", ex.name)
		}
		vars, err := json.MarshalIndent(ex.variables, "", "  ")
		if err != nil {
			return nil, err
		}
		tabs = append(tabs, playground.Tab{Query: op.Document, Variables: string(vars)})
	}
	return tabs, nil
}
