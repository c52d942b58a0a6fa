package graph

import (
	"context"

	"github.com/google/uuid"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/gid"
)

// sessionIDOf decodes an AccountSession's global ID; anything else is NOT_FOUND on field.
func sessionIDOf(id string, field ...string) (uuid.UUID, error) {
	typ, sid, ok := gid.DecodeUUID(id)
	if !ok || typ != gid.AccountSession {
		return uuid.UUID{}, apperr.FieldError(apperr.NotFound, "You have no active session with this ID.", field...)
	}
	return sid, nil
}

// sessionNode is node(id:) for an AccountSession: ok is false for an ID of another kind. Only
// its owner sees it, and only while it is live.
func (r *Resolver) sessionNode(ctx context.Context, id string) (node any, ok bool, err error) {
	typ, sid, decoded := gid.DecodeUUID(id)
	if !decoded || typ != gid.AccountSession {
		return nil, false, nil
	}
	v, signedIn := auth.ViewerFrom(ctx)
	if !signedIn {
		return nil, true, nil
	}
	s, err := nullIfNotFound(r.Accounts.Session(ctx, v, sid))
	if s == nil || err != nil {
		return nil, true, err
	}
	return s, true, nil
}
