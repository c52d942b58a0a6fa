package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/webhook"
)

// The receivers' verification snippet of docs/webhooks.md, verbatim between the markers
// (TestDocsSnippetIsTested holds the two together).

// snippet:begin
// VerifyShopgraphSignature checks the Shopgraph-Signature header of a webhook request
// against its raw body and your webhook's secret (whsec_…). It refuses a signature older
// than tolerance (5 minutes is a good choice), which stops replays.
func VerifyShopgraphSignature(secret, header string, body []byte, tolerance time.Duration) bool {
	var timestamp string
	var signatures [][]byte
	for _, part := range strings.Split(header, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch key {
		case "t":
			timestamp = value
		case "v1":
			if sig, err := hex.DecodeString(value); err == nil {
				signatures = append(signatures, sig)
			}
		}
	}
	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	if age := time.Since(time.Unix(seconds, 0)); age > tolerance || age < -tolerance {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	expected := mac.Sum(nil)
	for _, sig := range signatures {
		if hmac.Equal(sig, expected) {
			return true
		}
	}
	return false
}

// snippet:end

func TestSnippetVerifiesOurSignature(t *testing.T) {
	t.Parallel()
	secret, err := webhook.NewSecret()
	require.NoError(t, err)
	body := []byte(`{"id":"evt_1","type":"ORDER_PAID"}`)
	header := webhook.Sign(secret, time.Now(), body)
	require.True(t, VerifyShopgraphSignature(secret, header, body, 5*time.Minute))
	require.NoError(t, webhook.Verify(secret, header, body, 5*time.Minute, time.Now()))

	require.False(t, VerifyShopgraphSignature("whsec_other", header, body, 5*time.Minute), "another secret")
	require.False(t, VerifyShopgraphSignature(secret, header, []byte(`{"id":"evt_2"}`), 5*time.Minute), "another body")
	old := webhook.Sign(secret, time.Now().Add(-10*time.Minute), body)
	require.False(t, VerifyShopgraphSignature(secret, old, body, 5*time.Minute), "a replay")
	require.Error(t, webhook.Verify(secret, old, body, 5*time.Minute, time.Now()))
	require.False(t, VerifyShopgraphSignature(secret, "garbage", body, 5*time.Minute))
	// A header with a second, rotated signature still verifies with either.
	require.True(t, VerifyShopgraphSignature(secret, header+",v1=00ff", body, 5*time.Minute))
}

// TestDocsSnippetIsTested: the snippet in docs/webhooks.md is the one tested above.
func TestDocsSnippetIsTested(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("snippet_test.go")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(src), "// snippet:begin\n")
	require.True(t, ok)
	snippet, _, ok := strings.Cut(rest, "\n// snippet:end")
	require.True(t, ok)
	docs, err := os.ReadFile("../../docs/webhooks.md")
	require.NoError(t, err)
	require.Contains(t, string(docs), snippet)
}
