package address

import "github.com/shopgraph/shopgraph/internal/auth"

// This file is the address-book policy, the one place that decides; the service calls it and
// resolvers ask the service. Another account's address is answered as missing (NOT_FOUND),
// never FORBIDDEN, so that ids cannot be probed.

// CanView reports whether v may read the address book of account userID: the account itself,
// and admins (who help customers with their orders).
func CanView(v auth.Viewer, userID int64) bool { return v.UserID == userID || v.IsAdmin() }

// owner is the only account whose book v may change: its own. Admins read others' books but
// never write them; every write statement names this owner, so another account's address id
// matches no row.
func owner(v auth.Viewer) int64 { return v.UserID }
