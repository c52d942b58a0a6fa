// This file makes the names and IDs tests use: unique emails, SKUs and slugs, so that tests
// sharing a database never collide, and the API's global IDs both ways.

package apitest

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// UniqueSKU returns a SKU no other test uses.
func UniqueSKU(prefix string) string { return prefix + "-" + uuid.NewString()[:8] }

// UniqueSlug returns a slug no other test uses.
func UniqueSlug(prefix string) string { return prefix + "-" + strings.ToLower(uuid.NewString()[:8]) }

// EncodeID encodes raw as the API encodes global IDs.
func EncodeID(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }

// GlobalID is the global ID of the object typ with database id id.
func GlobalID(typ string, id int64) string {
	return EncodeID(fmt.Sprintf("%s:%d", typ, id))
}

// DBID is the database id inside a global ID.
func DBID(t *testing.T, gid string) int64 {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(gid)
	require.NoError(t, err, gid)
	_, num, ok := strings.Cut(string(raw), ":")
	require.True(t, ok, gid)
	id, err := strconv.ParseInt(num, 10, 64)
	require.NoError(t, err, gid)
	return id
}

// OrderNumber decodes an Order global ID into the order's id.
func OrderNumber(t *testing.T, gid string) int64 {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(gid)
	require.NoError(t, err)
	typ, num, ok := strings.Cut(string(raw), ":")
	require.True(t, ok && typ == "Order", "not an Order ID: %s", raw)
	n, err := strconv.ParseInt(num, 10, 64)
	require.NoError(t, err)
	return n
}
