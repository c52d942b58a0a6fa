package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

const importMutation = `mutation Import($input: InventoryImportInput!) {
  inventoryImport(input: $input) {
    inventoryImport { id status processed total errors { row column code message } createdAt finishedAt }
    userErrors { field message code }
  }
}`

const importQuery = `query Get($id: ID!) {
  inventoryImport(id: $id) { id status processed total errors { row column code message } finishedAt }
}`

type importResult struct {
	ID         string  `json:"id"`
	Status     string  `json:"status"`
	Processed  int     `json:"processed"`
	Total      int     `json:"total"`
	FinishedAt *string `json:"finishedAt"`
	Errors     []struct {
		Row    int     `json:"row"`
		Column *string `json:"column"`
		Code   string  `json:"code"`
	} `json:"errors"`
}

type importPayload struct {
	InventoryImport struct {
		InventoryImport *importResult `json:"inventoryImport"`
		UserErrors      []struct {
			Field   []string `json:"field"`
			Message string   `json:"message"`
			Code    string   `json:"code"`
		} `json:"userErrors"`
	} `json:"inventoryImport"`
}

// uploadPart is one part of a multipart request, in order.
type uploadPart struct {
	name, filename, content string
}

// multipartBody builds a multipart/form-data body from parts, in order.
func multipartBody(t *testing.T, parts ...uploadPart) (contentType string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		var pw io.Writer
		var err error
		if p.filename != "" {
			pw, err = w.CreateFormFile(p.name, p.filename)
		} else {
			pw, err = w.CreateFormField(p.name)
		}
		require.NoError(t, err)
		_, err = io.WriteString(pw, p.content)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return w.FormDataContentType(), buf.Bytes()
}

// specUpload is the spec's request for one file at variables.input.file.
func specUpload(t *testing.T, csv string) (string, []byte) {
	t.Helper()
	ops, err := json.Marshal(map[string]any{"query": importMutation, "variables": map[string]any{"input": map[string]any{"file": nil}}})
	require.NoError(t, err)
	return multipartBody(t,
		uploadPart{name: "operations", content: string(ops)},
		uploadPart{name: "map", content: `{"0": ["variables.input.file"]}`},
		uploadPart{name: "0", filename: "stock.csv", content: csv})
}

func upload(t *testing.T, c *apitest.Client, csv string) importPayload {
	t.Helper()
	ct, body := specUpload(t, csv)
	resp := c.Post(ct, body)
	require.Equal(t, http.StatusOK, resp.HTTP.StatusCode, "%+v", resp.Errors)
	var out importPayload
	resp.Decode(t, &out)
	return out
}

// awaitImport polls inventoryImport(id) until it has ended.
func awaitImport(t *testing.T, c *apitest.Client, id string) importResult {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var out struct {
			InventoryImport *importResult `json:"inventoryImport"`
		}
		c.Do(importQuery, map[string]any{"id": id}).Decode(t, &out)
		require.NotNil(t, out.InventoryImport)
		if s := out.InventoryImport.Status; s == "SUCCEEDED" || s == "FAILED" {
			return *out.InventoryImport
		}
		require.True(t, time.Now().Before(deadline), "import %s still %s", id, out.InventoryImport.Status)
		time.Sleep(50 * time.Millisecond)
	}
}

func stockVariants(t *testing.T, e *apitest.Env, vendorID *int64, n int) []apitest.Variant {
	t.Helper()
	in := make([]catalog.VariantInput, n)
	for i := range in {
		in[i] = catalog.VariantInput{Name: fmt.Sprintf("V%d", i), Price: 1000, Stock: 10}
	}
	return e.Product(t, apitest.ProductOptions{VendorID: vendorID, Variants: in})
}

// An upload through the GraphQL multipart request spec is accepted PENDING, applied by its
// job, and readable by query and node until it SUCCEEDED.
func TestInventoryImportUploadAppliesInTheBackground(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	vs := stockVariants(t, e, nil, 3)
	csv := fmt.Sprintf("sku,quantity,reason\n%s,0,sold out\n%s,42,\n%s,7,recount\n", vs[0].SKU, vs[1].SKU, vs[2].SKU)

	out := upload(t, e.Admin, csv).InventoryImport
	require.Empty(t, out.UserErrors)
	require.NotNil(t, out.InventoryImport)
	require.Equal(t, "PENDING", out.InventoryImport.Status)
	require.Equal(t, 3, out.InventoryImport.Total)

	done := awaitImport(t, e.Admin, out.InventoryImport.ID)
	require.Equal(t, "SUCCEEDED", done.Status)
	require.Equal(t, 3, done.Processed)
	require.NotNil(t, done.FinishedAt)
	require.Equal(t, []int{0, 42, 7}, []int{e.Stock(t, vs[0]), e.Stock(t, vs[1]), e.Stock(t, vs[2])})

	var node struct {
		Node *struct {
			Typename string `json:"__typename"`
			Status   string `json:"status"`
		} `json:"node"`
	}
	e.Admin.Do(`query($id: ID!) { node(id: $id) { __typename ... on InventoryImport { status } } }`,
		map[string]any{"id": out.InventoryImport.ID}).Decode(t, &node)
	require.Equal(t, "InventoryImport", node.Node.Typename)
	require.Equal(t, "SUCCEEDED", node.Node.Status)

	vendor, _ := e.Vendor(t)
	var hidden struct {
		Node            any `json:"node"`
		InventoryImport any `json:"inventoryImport"`
	}
	vendor.Do(`query($id: ID!) { node(id: $id) { id } inventoryImport(id: $id) { id } }`,
		map[string]any{"id": out.InventoryImport.ID}).Decode(t, &hidden)
	require.Nil(t, hidden.Node, "another user's import is not visible")
	require.Nil(t, hidden.InventoryImport)
}

// `curl -F`, as the spec's own example sends it, works.
func TestInventoryImportWithCurl(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	v := stockVariants(t, e, nil, 1)[0]
	file := filepath.Join(t.TempDir(), "stock.csv")
	require.NoError(t, os.WriteFile(file, []byte("sku,quantity\n"+v.SKU+",5\n"), 0o600))
	ops := `{"query":"mutation($f: Upload!) { inventoryImport(input: {file: $f}) { inventoryImport { id status } userErrors { code } } }","variables":{"f":null}}`
	cmd := exec.Command(curl, "-sS", e.Server.URL+"/graphql",
		"-H", "Authorization: Bearer "+e.Admin.Bearer,
		"-F", "operations="+ops, "-F", `map={"0":["variables.f"]}`, "-F", "0=@"+file)
	raw, err := cmd.Output()
	require.NoError(t, err)
	var resp struct {
		Data struct {
			InventoryImport struct {
				InventoryImport *struct{ ID, Status string }
				UserErrors      []any
			} `json:"inventoryImport"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(raw, &resp), "%s", raw)
	require.Empty(t, resp.Errors, "%s", raw)
	require.NotNil(t, resp.Data.InventoryImport.InventoryImport, "%s", raw)
	require.Equal(t, "SUCCEEDED", awaitImport(t, e.Admin, resp.Data.InventoryImport.InventoryImport.ID).Status)
	require.Equal(t, 5, e.Stock(t, v))
}

// Requests that do not follow the spec get a 400 BAD_REQUEST saying what is wrong; a body
// over MAX_UPLOAD_BYTES gets 413 REQUEST_TOO_LARGE, and the larger limit is for uploads only.
func TestInventoryImportMultipartErrors(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{"MAX_BODY_BYTES": "2048", "MAX_UPLOAD_BYTES": "8192"}})
	v := stockVariants(t, e, nil, 1)[0]
	ops, err := json.Marshal(map[string]any{"query": importMutation, "variables": map[string]any{"input": map[string]any{"file": nil}}})
	require.NoError(t, err)
	csv := "sku,quantity\n" + v.SKU + ",1\n"
	operations := uploadPart{name: "operations", content: string(ops)}
	fileMap := uploadPart{name: "map", content: `{"0": ["variables.input.file"]}`}
	file := uploadPart{name: "0", filename: "stock.csv", content: csv}

	for _, tc := range []struct {
		name    string
		parts   []uploadPart
		status  int
		code    string
		message string
	}{
		{"no map", []uploadPart{operations}, 400, "BAD_REQUEST", "no map field"},
		{"map before operations", []uploadPart{fileMap, operations, file}, 400, "BAD_REQUEST", "operations, map, then the files"},
		{"a map that is not an object", []uploadPart{operations, {name: "map", content: `["0"]`}, file}, 400, "BAD_REQUEST", "map must be a JSON object"},
		{"a map path outside variables", []uploadPart{operations, {name: "map", content: `{"0": ["query"]}`}, file}, 400, "BAD_REQUEST", "must start with"},
		{"a map path to no variable", []uploadPart{operations, {name: "map", content: `{"0": ["variables.input.nope"]}`}, file}, 400, "BAD_REQUEST", "does not lead to a variable"},
		{"a missing file", []uploadPart{operations, fileMap}, 400, "BAD_REQUEST", `file "0" named in the map is missing`},
		{"a file not in the map", []uploadPart{operations, fileMap, file, {name: "1", filename: "x.csv", content: "x"}}, 400, "BAD_REQUEST", `part "1" is not in the map`},
		{"operations that are not JSON", []uploadPart{{name: "operations", content: "{"}, fileMap, file}, 400, "BAD_REQUEST", "not valid JSON"},
		{"a batch", []uploadPart{{name: "operations", content: "[" + string(ops) + "]"}, fileMap, file}, 400, "BAD_REQUEST", "Batched requests"},
		{"a file over the upload limit", []uploadPart{operations, fileMap, {name: "0", filename: "big.csv", content: csv + strings.Repeat("x", 9000)}}, 413, "REQUEST_TOO_LARGE", "8192 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct, body := multipartBody(t, tc.parts...)
			resp := e.Admin.Post(ct, body)
			require.Equal(t, tc.status, resp.HTTP.StatusCode, "%+v", resp.Errors)
			require.Equal(t, tc.code, resp.Code())
			require.Contains(t, resp.Errors[0].Message, tc.message)
			require.Nil(t, resp.Data, "no data key")
		})
	}

	t.Run("an upload over the body limit but within the upload limit is taken", func(t *testing.T) {
		// Blank lines are no rows in CSV: a valid file of one row, padded past the body limit.
		ct, body := multipartBody(t, operations, fileMap, uploadPart{name: "0", filename: "stock.csv", content: csv + strings.Repeat("\n", 3000)})
		require.Greater(t, len(body), 2048)
		resp := e.Admin.Post(ct, body)
		require.Equal(t, http.StatusOK, resp.HTTP.StatusCode, "%+v", resp.Errors)
		var out importPayload
		resp.Decode(t, &out)
		require.Empty(t, out.InventoryImport.UserErrors)
		require.Equal(t, 1, out.InventoryImport.InventoryImport.Total)
	})
	t.Run("a JSON request over the body limit is still refused", func(t *testing.T) {
		body, err := json.Marshal(map[string]any{"query": "{ __typename }", "variables": map[string]any{"pad": strings.Repeat("x", 3000)}})
		require.NoError(t, err)
		resp := e.Admin.Post("application/json", body)
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.HTTP.StatusCode)
	})
	t.Run("an anonymous upload is refused before it is read", func(t *testing.T) {
		ct, body := multipartBody(t, operations, fileMap, file)
		resp := e.Anon(t).Post(ct, body)
		require.Equal(t, http.StatusUnauthorized, resp.HTTP.StatusCode)
		require.Equal(t, "UNAUTHENTICATED", resp.Code())
	})
	t.Run("a JSON request cannot pass a file", func(t *testing.T) {
		resp := e.Admin.Do(importMutation, map[string]any{"input": map[string]any{"file": "sku,quantity\n"}})
		require.NotEmpty(t, resp.Errors)
		require.Equal(t, 10, e.Stock(t, v))
	})
}

// A cookie-authenticated upload is a "simple" cross-site request a form could send: it must
// carry a header that forces a CORS preflight, or it is refused before anything runs.
func TestInventoryImportCSRF(t *testing.T) {
	t.Parallel()
	const origin = "https://shop.example.com"
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{"CORS_ORIGINS": origin}})
	v := stockVariants(t, e, nil, 1)[0]
	token, _, err := e.Server.App.Tokens.Issue(auth.Viewer{UserID: e.AdminID, Role: auth.RoleAdmin})
	require.NoError(t, err)

	post := func(header http.Header) (*http.Response, []byte) {
		ct, body := specUpload(t, "sku,quantity\n"+v.SKU+",1\n")
		req, err := http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Origin", "https://evil.example.net")
		req.AddCookie(&http.Cookie{Name: auth.AccessCookie, Value: token})
		for k, vs := range header {
			req.Header[k] = vs
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, raw
	}

	resp, raw := post(nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s", raw)
	require.Contains(t, string(raw), "FORBIDDEN")
	require.Contains(t, string(raw), "Apollo-Require-Preflight")
	require.Zero(t, e.Count(t, `SELECT count(*) FROM inventory_imports`), "nothing ran")

	for _, h := range []string{"Apollo-Require-Preflight", "X-Apollo-Operation-Name"} {
		resp, raw = post(http.Header{h: {"Import"}})
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", h, raw)
		require.Contains(t, string(raw), `"status":"PENDING"`, "%s: %s", h, raw)
	}

	// A browser sends those headers only after a preflight, which allows them for allowed
	// origins alone.
	req, err := http.NewRequest(http.MethodOptions, e.Server.URL+"/graphql", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "apollo-require-preflight")
	pre, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = pre.Body.Close()
	require.Contains(t, pre.Header.Get("Access-Control-Allow-Headers"), "Apollo-Require-Preflight")
	req.Header.Set("Origin", "https://evil.example.net")
	pre, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = pre.Body.Close()
	require.Empty(t, pre.Header.Get("Access-Control-Allow-Origin"), "no preflight passes for another origin")
}

// A bad file gets every problem in userErrors and changes nothing; a vendor cannot touch
// another vendor's SKU; a customer cannot import.
func TestInventoryImportValidationAndPolicy(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	vendor, vendorID := e.Vendor(t)
	_, otherID := e.Vendor(t)
	own := stockVariants(t, e, &vendorID, 2)
	theirs := stockVariants(t, e, &otherID, 1)[0]

	out := upload(t, vendor, fmt.Sprintf("sku,quantity\n%s,5\n%s,-2\n%s,5\nNOPE,1\n%s,3\n", own[0].SKU, own[1].SKU, theirs.SKU, own[0].SKU)).InventoryImport
	require.Nil(t, out.InventoryImport)
	got := map[string]string{}
	for _, ue := range out.UserErrors {
		got[strings.Join(ue.Field, ".")] = ue.Code
	}
	require.Equal(t, map[string]string{
		"input.file.3.quantity": "INVALID",
		"input.file.4.sku":      "FORBIDDEN",
		"input.file.5.sku":      "NOT_FOUND",
		"input.file.6.sku":      "DUPLICATE",
	}, got)
	require.Zero(t, e.Count(t, `SELECT count(*) FROM inventory_imports`))
	require.Equal(t, 10, e.Stock(t, theirs))
	require.Equal(t, 10, e.Stock(t, own[0]))

	out = upload(t, vendor, fmt.Sprintf("sku,quantity\n%s,5\n%s,6\n", own[0].SKU, own[1].SKU)).InventoryImport
	require.Empty(t, out.UserErrors)
	require.Equal(t, "SUCCEEDED", awaitImport(t, vendor, out.InventoryImport.ID).Status)
	require.Equal(t, 5, e.Stock(t, own[0]))

	customer, _ := e.Customer(t)
	ct, body := specUpload(t, "sku,quantity\n"+own[0].SKU+",1\n")
	resp := customer.Post(ct, body)
	require.Equal(t, "FORBIDDEN", resp.Code())
}

// inventoryImportProgress streams the import's state until its final status, over graphql-ws
// and Server-Sent Events; someone else's import is NOT_FOUND.
func TestInventoryImportProgressSubscription(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	vs := stockVariants(t, e, nil, 20)
	var sb strings.Builder
	sb.WriteString("sku,quantity\n")
	for i, v := range vs {
		fmt.Fprintf(&sb, "%s,%d\n", v.SKU, i)
	}
	const sub = `subscription($id: ID!) { inventoryImportProgress(id: $id) { id status processed total } }`
	for _, transport := range []string{protoTransportWS, transportSSE} {
		t.Run(transport, func(t *testing.T) {
			out := upload(t, e.Admin, sb.String()).InventoryImport
			require.NotNil(t, out.InventoryImport)
			s := openTrack(t, e.Server.Server, transport, e.Admin.Bearer, sub, map[string]any{"id": out.InventoryImport.ID})
			var seen []importResult
			for {
				it, ok := s.next(trackWait)
				require.True(t, ok, "no final status; saw %+v", seen)
				if it.Done {
					break
				}
				require.Empty(t, it.Errors, it.Raw)
				var res struct {
					Data struct {
						P importResult `json:"inventoryImportProgress"`
					} `json:"data"`
				}
				require.NoError(t, json.Unmarshal([]byte(it.Raw), &res), it.Raw)
				seen = append(seen, res.Data.P)
			}
			require.NotEmpty(t, seen)
			last := seen[len(seen)-1]
			require.Equal(t, "SUCCEEDED", last.Status, "%+v", seen)
			require.Equal(t, 20, last.Processed)
			for i := 1; i < len(seen); i++ {
				require.GreaterOrEqual(t, seen[i].Processed, seen[i-1].Processed, "progress never goes back")
			}
		})
	}
	t.Run("another vendor's import", func(t *testing.T) {
		out := upload(t, e.Admin, sb.String()).InventoryImport
		vendorToken, _, err := e.Server.App.Tokens.Issue(auth.Viewer{UserID: e.InsertUsers(t, auth.RoleVendor, 1)[0], Role: auth.RoleVendor})
		require.NoError(t, err)
		s := openTrack(t, e.Server.Server, protoTransportWS, vendorToken, sub, map[string]any{"id": out.InventoryImport.ID})
		it, ok := s.next(trackWait)
		require.True(t, ok)
		require.Equal(t, []string{"NOT_FOUND"}, it.codes(), it.Raw)
	})
}

// An import uploaded to one instance and applied by its job there is followed to its end from
// another instance of the same deployment (the bell rings through Redis; PostgreSQL holds the
// truth).
func TestInventoryImportProgressAcrossInstances(t *testing.T) {
	t.Parallel()
	if apitest.RedisURL(t) == "" {
		t.Skip("no Redis")
	}
	e := apitest.NewEnv(t, apitest.EnvOptions{Redis: true})
	other := newTestServerSharing(t, e.Server)
	// Only the first instance works jobs: the apply runs there, the follower is on the other.
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, other.App.Jobs.Stop(stopCtx))

	vs := stockVariants(t, e, nil, 5)
	var sb strings.Builder
	sb.WriteString("sku,quantity\n")
	for _, v := range vs {
		fmt.Fprintf(&sb, "%s,3\n", v.SKU)
	}
	out := upload(t, e.Admin, sb.String()).InventoryImport
	require.NotNil(t, out.InventoryImport)
	s := openTrack(t, other.Server, protoTransportWS, e.Admin.Bearer,
		`subscription($id: ID!) { inventoryImportProgress(id: $id) { status processed } }`, map[string]any{"id": out.InventoryImport.ID})
	var last importResult
	for {
		it, ok := s.next(trackWait)
		require.True(t, ok, "no final status; last %+v", last)
		if it.Done {
			break
		}
		var res struct {
			Data struct {
				P importResult `json:"inventoryImportProgress"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(it.Raw), &res), it.Raw)
		last = res.Data.P
	}
	require.Equal(t, "SUCCEEDED", last.Status)
	require.Equal(t, 5, last.Processed)
	require.Equal(t, 3, e.Stock(t, vs[4]))
}
