package gid

import (
	"encoding/base64"
	"strings"

	"github.com/google/uuid"
)

// AccountSession is a signed-in session of an account (internal/account), whose database id
// is a UUID rather than a number.
const AccountSession = "AccountSession"

// EncodeUUID returns the global ID of the object typ/id, for the kinds keyed by a UUID.
func EncodeUUID(typ string, id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + id.String()))
}

// DecodeUUID returns the type and UUID of a global ID made by EncodeUUID; ok is false for
// anything malformed or not in its one canonical spelling.
func DecodeUUID(s string) (typ string, id uuid.UUID, ok bool) {
	if len(s) > 100 {
		return "", uuid.UUID{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", uuid.UUID{}, false
	}
	typ, text, found := strings.Cut(string(raw), ":")
	if !found || typ == "" {
		return "", uuid.UUID{}, false
	}
	id, err = uuid.Parse(text)
	// uuid.Parse also takes braces, a urn: prefix and upper case: one object, one spelling.
	if err != nil || EncodeUUID(typ, id) != s {
		return "", uuid.UUID{}, false
	}
	return typ, id, true
}
