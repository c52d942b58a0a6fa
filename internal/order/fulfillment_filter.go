package order

// fulfillmentFilter is f's fulfilment status as the list statements take it (nil: any).
func fulfillmentFilter(f ListFilter) *string {
	if f.FulfillmentStatus == nil {
		return nil
	}
	s := string(*f.FulfillmentStatus)
	return &s
}
