package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/app"
)

// River's web UI of the job queue is served to admins, and to no one else.
func TestJobsUIIsForAdmins(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	placed := e.Order(t, apitest.OrderOptions{}) // its expiry job waits in the queue
	customer, _ := e.Customer(t)
	get := func(bearer, path string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodGet, e.Server.URL+app.JobsUIPath+path, nil)
		require.NoError(t, err)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}

	t.Run("anonymous: 401", func(t *testing.T) {
		resp, _ := get("", "/")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		resp, body := get("", "/api/jobs?state=scheduled")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.NotContains(t, body, "expire_order")
	})
	t.Run("a customer: 403", func(t *testing.T) {
		resp, _ := get(customer.Bearer, "/")
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		resp, body := get(customer.Bearer, "/api/jobs?state=scheduled")
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.NotContains(t, body, "expire_order")
	})
	t.Run("an admin sees the page and the queue's jobs", func(t *testing.T) {
		resp, body := get(e.Admin.Bearer, "/")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
		require.Contains(t, strings.ToLower(body), "<html")
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

		resp, body = get(e.Admin.Bearer, "/api/jobs?state=scheduled&kinds=expire_order")
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		var list struct {
			Data []struct {
				Kind string `json:"kind"`
				Args string `json:"args"` // the job's arguments, as JSON text
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &list), body)
		found := false
		for _, j := range list.Data {
			var args struct {
				OrderID int64 `json:"order_id"`
			}
			require.NoError(t, json.Unmarshal([]byte(j.Args), &args), j.Args)
			found = found || j.Kind == "expire_order" && args.OrderID == placed.ID
		}
		require.True(t, found, "the placed order's expiry job is listed: %s", body)
	})
}
