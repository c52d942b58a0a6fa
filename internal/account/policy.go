package account

import (
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// This file is the account policy: who may see an account and who may change roles. It is the
// one place that decides; the service calls it, resolvers ask the service. The schema's
// @hasRole gates user and accountRoleUpdate coarsely at the API; the rules below are the
// domain's own, for every caller.

// CanView reports whether v may see account id: itself, and admins.
func CanView(v auth.Viewer, id int64) bool { return v.UserID == id || v.IsAdmin() }

// maySeeSessions says whether v may see and end account userID's sessions: only the account
// itself, admins included (a session's device and address are its owner's business).
// Errors: NOT_FOUND.
func maySeeSessions(v auth.Viewer, userID int64) error {
	if v.UserID != userID {
		return apperr.New(apperr.NotFound, "sessions not found")
	}
	return nil
}

// mayChangeRoles says whether v may change accounts' roles: admins. Errors: FORBIDDEN.
func mayChangeRoles(v auth.Viewer) error {
	if !v.IsAdmin() {
		return apperr.New(apperr.Forbidden, "only admins can change roles")
	}
	return nil
}

// mayGiveRole says whether v, who may change roles, may give account userID the role role:
// not take its own admin role away, so that a shop never locks out its last administrator by
// accident. Errors: INVALID.
func mayGiveRole(v auth.Viewer, userID int64, role auth.Role) error {
	if userID == v.UserID && role != auth.RoleAdmin {
		return apperr.FieldError(apperr.Invalid, "Admins cannot remove their own admin role.", "input", "id")
	}
	return nil
}
