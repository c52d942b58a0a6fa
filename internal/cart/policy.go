package cart

import "crypto/subtle"

// owns reports whether o may see the cart of userID or tokenHash: a signed-in customer their
// own cart, and whoever holds an anonymous cart's token that cart. This is the cart's one
// authorisation rule; everyone else is told the cart does not exist.
func (o Owner) owns(userID *int64, tokenHash []byte) bool {
	if userID != nil {
		return o.UserID != nil && *o.UserID == *userID
	}
	return o.Token != "" && len(tokenHash) > 0 && subtle.ConstantTimeCompare(hashToken(o.Token), tokenHash) == 1
}
