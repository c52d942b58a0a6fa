package auth

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/shopgraph/shopgraph/internal/apperr"
)

// Viewer is the authenticated account behind a request.
type Viewer struct {
	UserID int64
	Role   Role
	// VendorID is the vendor the account is a member of and acts for (0: none). It counts
	// only with the VENDOR role (ActingVendor): a VENDOR without a vendor acts as no vendor.
	VendorID  int64
	SessionID uuid.UUID
	// ExpiresAt is when the access token that identified the viewer expires; long-lived
	// subscriptions end then.
	ExpiresAt time.Time
}

// Has reports whether the viewer holds role (ADMIN holds every role).
func (v Viewer) Has(role Role) bool { return v.Role.Satisfies(role) }

// IsAdmin reports whether the viewer is an admin.
func (v Viewer) IsAdmin() bool { return v.Role == RoleAdmin }

// ActingVendor is the vendor the viewer acts for and whether there is one: a VENDOR that is a
// member of a vendor. Every rule that asks "is this the viewer's own vendor?" asks this, never
// the viewer's user id (vendors and accounts are different things with different ids).
func (v Viewer) ActingVendor() (int64, bool) {
	if v.Role == RoleVendor && v.VendorID > 0 {
		return v.VendorID, true
	}
	return 0, false
}

// ActsFor reports whether the viewer acts for vendor id (see ActingVendor).
func (v Viewer) ActsFor(vendorID int64) bool {
	id, ok := v.ActingVendor()
	return ok && id == vendorID
}

// MemberOf reports whether the account is a member of vendor id, whatever its role (an admin
// may be a member too): members see their vendor's private profile.
func (v Viewer) MemberOf(vendorID int64) bool { return v.VendorID > 0 && v.VendorID == vendorID }

type viewerKey struct{}

// credentialErrorKey marks a request that presented a token which failed verification.
type credentialErrorKey struct{}

// WithViewer returns ctx carrying v.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// WithCredentialError returns ctx recording that the request's credentials were rejected, so
// that fields requiring a viewer can say why (an expired token rather than none at all).
func WithCredentialError(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, credentialErrorKey{}, err)
}

// ViewerFrom returns the request's viewer and whether there is one.
func ViewerFrom(ctx context.Context) (Viewer, bool) {
	v, ok := ctx.Value(viewerKey{}).(Viewer)
	return v, ok
}

// RequireViewer returns the viewer, or UNAUTHENTICATED.
func RequireViewer(ctx context.Context) (Viewer, error) {
	if v, ok := ViewerFrom(ctx); ok {
		return v, nil
	}
	if err, ok := ctx.Value(credentialErrorKey{}).(error); ok {
		return Viewer{}, apperr.Wrap(err, apperr.Unauthenticated, "the access token is invalid or expired")
	}
	return Viewer{}, apperr.New(apperr.Unauthenticated, "sign in to do this")
}

// RequireRole returns the viewer if it holds role: UNAUTHENTICATED without a viewer, FORBIDDEN
// with another role.
func RequireRole(ctx context.Context, role Role) (Viewer, error) {
	v, err := RequireViewer(ctx)
	if err != nil {
		return Viewer{}, err
	}
	if !v.Has(role) {
		return Viewer{}, apperr.Newf(apperr.Forbidden, "this needs the %s role", role)
	}
	return v, nil
}
