package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/testutil/smtptest"
)

const emailDeliveriesQuery = `query($first: Int, $after: String, $filter: EmailDeliveryFilter) {
  emailDeliveries(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id } }
    nodes { id eventKey kind recipient status attempts lastError createdAt updatedAt sentAt }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}`

type deliveryJSON struct {
	ID        string
	EventKey  string
	Kind      string
	Recipient string
	Status    string
	Attempts  int
	LastError *string
	CreatedAt string
	UpdatedAt string
	SentAt    *string
}

type deliveryPage struct {
	Edges []struct {
		Cursor string
		Node   struct{ ID string }
	}
	Nodes    []deliveryJSON
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
	TotalCount int
}

func listDeliveries(t *testing.T, c *apitest.Client, first int, after string, filter map[string]any) deliveryPage {
	t.Helper()
	vars := map[string]any{"first": first, "filter": filter}
	if after != "" {
		vars["after"] = after
	}
	resp := c.Do(emailDeliveriesQuery, vars)
	require.Empty(t, resp.Errors)
	var out struct{ EmailDeliveries deliveryPage }
	resp.Decode(t, &out)
	return out.EmailDeliveries
}

// TestEmailDeliveries: admins page through the record of the emails, newest first, filtered
// by status and recipient, and fetch one by node; customers and anonymous callers may not.
func TestEmailDeliveries(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	// Seven deliveries a minute apart, newest last: four sent to ada, two pending (one with a
	// transient error) to bob, one refused for good.
	start := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	type row struct {
		key, to, status string
		attempts        int
		lastError       *string
	}
	refused, timeout := "550 5.1.1 mailbox unavailable", "dial tcp: i/o timeout"
	rows := []row{
		{"order_placed:1", "ada@example.com", "sent", 1, nil},
		{"order_status:1:2", "ada@example.com", "sent", 2, nil},
		{"order_placed:2", "bob@example.com", "pending", 0, nil},
		{"order_status:1:3", "ada@example.com", "sent", 1, nil},
		{"order_placed:3", "bob@example.com", "pending", 3, &timeout},
		{"order_placed:4", "gone@example.com", "failed", 1, &refused},
		{"order_status:1:4", "ada@example.com", "sent", 1, nil},
	}
	for i, r := range rows {
		at := start.Add(time.Duration(i) * time.Minute)
		var sentAt *time.Time
		if r.status == "sent" {
			sentAt = &at
		}
		_, err := e.Server.App.DB.Pool.Exec(context.Background(),
			`INSERT INTO email_deliveries (event_key, recipient, status, attempts, last_error, created_at, updated_at, sent_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $6, $7)`, r.key, r.to, r.status, r.attempts, r.lastError, at, sentAt)
		require.NoError(t, err)
	}

	t.Run("an admin pages through them, newest first", func(t *testing.T) {
		var keys []string
		after := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 4)
			p := listDeliveries(t, e.Admin, 3, after, nil)
			require.Equal(t, 7, p.TotalCount)
			require.Equal(t, after != "", p.PageInfo.HasPreviousPage)
			require.Len(t, p.Edges, len(p.Nodes))
			for i, n := range p.Nodes {
				require.Equal(t, n.ID, p.Edges[i].Node.ID)
				keys = append(keys, n.EventKey)
			}
			if !p.PageInfo.HasNextPage {
				break
			}
			require.Equal(t, p.Edges[len(p.Edges)-1].Cursor, *p.PageInfo.EndCursor)
			after = *p.PageInfo.EndCursor
		}
		var want []string
		for i := len(rows) - 1; i >= 0; i-- {
			want = append(want, rows[i].key)
		}
		require.Equal(t, want, keys)
	})

	t.Run("each delivery's fields", func(t *testing.T) {
		p := listDeliveries(t, e.Admin, 100, "", map[string]any{"status": "FAILED"})
		require.Equal(t, 1, p.TotalCount)
		require.Len(t, p.Nodes, 1)
		d := p.Nodes[0]
		require.Equal(t, "order_placed:4", d.EventKey)
		require.Equal(t, "ORDER_PLACED", d.Kind)
		require.Equal(t, "gone@example.com", d.Recipient)
		require.Equal(t, "FAILED", d.Status)
		require.Equal(t, 1, d.Attempts)
		require.Equal(t, &refused, d.LastError)
		require.Nil(t, d.SentAt)
		require.Equal(t, start.Add(5*time.Minute).Format(time.RFC3339), d.CreatedAt)

		sent := listDeliveries(t, e.Admin, 1, "", map[string]any{"status": "SENT"})
		require.Equal(t, 4, sent.TotalCount)
		require.Equal(t, "ORDER_STATUS", sent.Nodes[0].Kind)
		require.Equal(t, "order_status:1:4", sent.Nodes[0].EventKey)
		require.NotNil(t, sent.Nodes[0].SentAt)
		require.Nil(t, sent.Nodes[0].LastError)
	})

	t.Run("filtered by recipient and status", func(t *testing.T) {
		p := listDeliveries(t, e.Admin, 100, "", map[string]any{"recipient": "bob@example.com"})
		require.Equal(t, 2, p.TotalCount)
		require.Equal(t, "order_placed:3", p.Nodes[0].EventKey)
		require.Equal(t, "PENDING", p.Nodes[0].Status)
		require.Equal(t, &timeout, p.Nodes[0].LastError)
		require.Equal(t, "order_placed:2", p.Nodes[1].EventKey)

		p = listDeliveries(t, e.Admin, 100, "", map[string]any{"recipient": "ada@example.com", "status": "PENDING"})
		require.Zero(t, p.TotalCount)
		require.Empty(t, p.Nodes)
		require.Nil(t, p.PageInfo.EndCursor)
	})

	t.Run("an admin fetches one by node", func(t *testing.T) {
		id := listDeliveries(t, e.Admin, 1, "", nil).Nodes[0].ID
		q := `query($id: ID!) { node(id: $id) { id ... on EmailDelivery { eventKey status } } }`
		var out struct {
			Node *struct{ ID, EventKey, Status string }
		}
		resp := e.Admin.Do(q, map[string]any{"id": id})
		require.Empty(t, resp.Errors)
		resp.Decode(t, &out)
		require.NotNil(t, out.Node)
		require.Equal(t, "order_status:1:4", out.Node.EventKey)

		customer, _ := e.Customer(t)
		resp = customer.Do(q, map[string]any{"id": id})
		require.Empty(t, resp.Errors)
		out.Node = nil
		resp.Decode(t, &out)
		require.Nil(t, out.Node, "a customer gets no delivery by node")
	})

	t.Run("customers, vendors and anonymous callers are refused", func(t *testing.T) {
		customer, _ := e.Customer(t)
		vendor, _ := e.Vendor(t)
		for _, c := range []*apitest.Client{customer, vendor} {
			resp := c.Do(emailDeliveriesQuery, map[string]any{"first": 10})
			requireTopLevelCode(t, resp, "FORBIDDEN")
			require.JSONEq(t, `null`, string(resp.Data), "nothing is shown")
		}
		requireTopLevelCode(t, e.Anon(t).Do(emailDeliveriesQuery, map[string]any{"first": 10}), "UNAUTHENTICATED")
	})

	t.Run("a bad page size or cursor is BAD_USER_INPUT", func(t *testing.T) {
		for _, vars := range []map[string]any{
			{"first": 0}, {"first": 101},
			{"first": 10, "after": "not-a-cursor"},
			{"first": 10, "after": apitest.EncodeID("2026-01-01T00:00:00Z,zero")},
		} {
			requireTopLevelCode(t, e.Admin.Do(emailDeliveriesQuery, vars), "BAD_USER_INPUT")
		}
	})
}

// TestEmailDeliveriesRecordRefusals: an email the mail server refuses for good shows as FAILED
// with the server's reply; one it accepts, as SENT.
func TestEmailDeliveriesRecordRefusals(t *testing.T) {
	t.Parallel()
	srv := smtptest.New(t)
	srv.Refuse(550)
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{"SMTP_URL": srv.URL}})
	o := e.Order(t, apitest.OrderOptions{})
	var p deliveryPage
	require.Eventually(t, func() bool {
		resp, err := e.Admin.TryDo(emailDeliveriesQuery, map[string]any{"first": 10, "filter": map[string]any{"status": "FAILED"}})
		if err != nil || len(resp.Errors) > 0 {
			return false
		}
		// Eventually polls from a goroutine of its own: no require in there.
		var out struct{ EmailDeliveries deliveryPage }
		if json.Unmarshal(resp.Data, &out) != nil || !slices.ContainsFunc(out.EmailDeliveries.Nodes, func(d deliveryJSON) bool { return d.Kind == "ORDER_PLACED" }) {
			return false
		}
		p = out.EmailDeliveries
		return true
	}, 30*time.Second, 100*time.Millisecond)
	// The account emails (the vendor's registration) are refused too; they are not the point.
	p.Nodes = slices.DeleteFunc(p.Nodes, func(d deliveryJSON) bool { return d.Kind == "ACCOUNT" })
	require.Len(t, p.Nodes, 1)
	require.Equal(t, fmt.Sprintf("order_placed:%d", o.ID), p.Nodes[0].EventKey)
	require.NotNil(t, p.Nodes[0].LastError)
	require.Contains(t, *p.Nodes[0].LastError, "550")
	require.Empty(t, srv.Messages())
}
