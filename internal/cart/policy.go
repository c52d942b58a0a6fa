package cart

// owns returns which of o's carts the global ID id names: the signed-in customer's own cart, or
// the guest cart of the token o holds; ok is false for any other ID. This is the cart's one
// authorisation rule; everyone else is told the cart does not exist. The IDs compared are
// derived from what o presents, so the comparison reveals nothing o does not already hold.
func (o Owner) owns(id string) (mine Owner, ok bool) {
	if o.UserID != nil {
		if customer := (Owner{UserID: o.UserID}); idOf(customer) == id {
			return customer, true
		}
	}
	if guest := (Owner{Token: o.Token}); validToken(o.Token) && idOf(guest) == id {
		return guest, true
	}
	return Owner{}, false
}
