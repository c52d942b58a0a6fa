package gid_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/shopgraph/shopgraph/internal/gid"
)

func TestUUIDGlobalIDs(t *testing.T) {
	id := uuid.New()
	s := gid.EncodeUUID(gid.AccountSession, id)
	typ, got, ok := gid.DecodeUUID(s)
	if !ok || typ != gid.AccountSession || got != id {
		t.Fatalf("DecodeUUID(EncodeUUID) = %q, %v, %v", typ, got, ok)
	}
	if _, _, ok := gid.Decode(s); ok {
		t.Fatal("a UUID global ID decodes as a numeric one")
	}
	enc := func(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }
	for _, bad := range []string{
		"", "!!!!", gid.Encode(gid.User, 1), enc("AccountSession:" + strings.ToUpper(id.String())),
		enc("AccountSession:{" + id.String() + "}"), enc("AccountSession:urn:uuid:" + id.String()),
		enc(":" + id.String()), s + "=",
	} {
		if _, _, ok := gid.DecodeUUID(bad); ok {
			t.Errorf("DecodeUUID(%q) accepted", bad)
		}
	}
}
