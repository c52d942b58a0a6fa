package auth

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/shopgraph/shopgraph/internal/apperr"
)

// Viewer is the authenticated account behind a request.
type Viewer struct {
	UserID    int64
	Role      Role
	SessionID uuid.UUID
	// ExpiresAt is when the access token that identified the viewer expires; long-lived
	// subscriptions end then.
	ExpiresAt time.Time
}

// Has reports whether the viewer holds role (ADMIN holds every role).
func (v Viewer) Has(role Role) bool { return v.Role.Satisfies(role) }

// IsAdmin reports whether the viewer is an admin.
func (v Viewer) IsAdmin() bool { return v.Role == RoleAdmin }

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
