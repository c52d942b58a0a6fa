package notify

import (
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// This file is the notify policy: who may see the record of the emails sent. The schema's
// @hasRole gates the field at the API; the rule below is the domain's own, for every caller.

// CanSeeDeliveries reports whether v may read email deliveries: admins only, since they hold
// every customer's address and the mail server's replies.
func CanSeeDeliveries(v auth.Viewer) bool { return v.IsAdmin() }

// errDeliveriesForbidden is the answer to anyone else.
var errDeliveriesForbidden = apperr.New(apperr.Forbidden, "Only admins may see email deliveries.")
