package graph

import (
	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/gid"
)

// Global ID type names.
const (
	typeUser   = gid.User
	typeVendor = gid.Vendor
)

// globalID encodes a type and a database id as an opaque Relay ID.
func globalID(typ string, id int64) string { return gid.Encode(typ, id) }

// parseGlobalID decodes an opaque ID into its type and database id. ok is false for anything
// malformed, so that callers answer NOT_FOUND or a field error, never a 500.
func parseGlobalID(s string) (typ string, id int64, ok bool) { return gid.Decode(s) }

// idOf decodes gid, which must be of type typ; otherwise it is an INVALID error on field.
func idOf(gid, typ string, field ...string) (int64, error) {
	t, id, ok := parseGlobalID(gid)
	if !ok || t != typ {
		return 0, apperr.FieldError(apperr.NotFound, "No "+typ+" has this ID.", field...)
	}
	return id, nil
}

func tokensOf(s account.Session) *model.AuthTokens {
	return &model.AuthTokens{
		AccessToken:          s.AccessToken,
		AccessTokenExpiresAt: s.AccessTokenExpiresAt,
		RefreshToken:         s.RefreshToken,
	}
}
