package graph

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/apperr"
)

// Global ID type names.
const (
	typeUser = "User"
)

// globalID encodes a type and a database id as an opaque Relay ID.
func globalID(typ string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + strconv.FormatInt(id, 10)))
}

// parseGlobalID decodes an opaque ID into its type and database id. ok is false for anything
// malformed, so that callers answer NOT_FOUND or a field error, never a 500.
func parseGlobalID(gid string) (typ string, id int64, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(gid)
	if err != nil || len(gid) > 100 {
		return "", 0, false
	}
	typ, num, found := strings.Cut(string(raw), ":")
	if !found || typ == "" {
		return "", 0, false
	}
	id, err = strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != num {
		return "", 0, false
	}
	return typ, id, true
}

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
