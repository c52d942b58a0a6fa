// This file is the GraphQL client of the tests: one request helper behind Do, Post and TryDo,
// and the decoded response with the assertions every API test makes (error codes, statement
// counts).

package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"testing"

	"github.com/stretchr/testify/require"
)

// Client is a GraphQL-over-HTTP client with a cookie jar, like a browser, and optional
// bearer token, like a mobile app.
type Client struct {
	t *testing.T
	// Server is the server the client talks to.
	Server *Server
	// HTTP sends the requests; its jar keeps the session cookies.
	HTTP *http.Client
	// Bearer, when set, is sent as the Authorization header.
	Bearer string
	// Header is added to every request.
	Header http.Header
}

// Client is a new client of s without credentials, reporting failures to t.
func (s *Server) Client(t *testing.T) *Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &Client{t: t, Server: s, HTTP: &http.Client{Jar: jar}, Header: http.Header{}}
}

// ClientFrom is a client whose connections come from ip, a loopback address other than
// 127.0.0.1 (Linux answers on all of 127.0.0.0/8): the server takes the TCP peer as the client
// IP, so this is how a test plays several clients on several addresses.
func (s *Server) ClientFrom(t *testing.T, ip string) *Client {
	c := s.Client(t)
	addr := net.ParseIP(ip)
	require.NotNil(t, addr, ip)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: addr}}
	c.HTTP.Transport = &http.Transport{DialContext: dialer.DialContext}
	t.Cleanup(c.HTTP.CloseIdleConnections)
	return c
}

// As returns a copy of c that reports failures to t (clients are often made in a parent test
// and used in its subtests).
func (c *Client) As(t *testing.T) *Client {
	cp := *c
	cp.t = t
	return &cp
}

// Response is a decoded GraphQL response.
type Response struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Extensions map[string]any `json:"extensions"`
	HTTP       *http.Response `json:"-"`
}

// SQLStatements is the statement count the server reports for this request (development).
func (r *Response) SQLStatements(t *testing.T) int64 {
	t.Helper()
	return r.extensionCount(t, "sqlStatements")
}

// SQLRoundTrips is the number of round trips to PostgreSQL the server reports for this request
// (development): a pipeline of several statements is one.
func (r *Response) SQLRoundTrips(t *testing.T) int64 {
	t.Helper()
	return r.extensionCount(t, "sqlRoundTrips")
}

func (r *Response) extensionCount(t *testing.T, name string) int64 {
	t.Helper()
	n, ok := r.Extensions[name].(float64)
	require.True(t, ok, "no %s extension in %v", name, r.Extensions)
	return int64(n)
}

// Code returns the extensions.code of the first error, or "".
func (r *Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Decode unmarshals data into out, failing the test on any top-level error.
func (r *Response) Decode(t *testing.T, out any) {
	t.Helper()
	require.Empty(t, r.Errors, "unexpected GraphQL errors")
	require.NoError(t, json.Unmarshal(r.Data, out))
}

// Do sends query with vars as JSON and fails the test unless a GraphQL response comes back.
func (c *Client) Do(query string, vars map[string]any) *Response {
	c.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(c.t, err)
	return c.Post("application/json", body)
}

// Post sends body as contentType and fails the test unless a GraphQL response comes back.
func (c *Client) Post(contentType string, body []byte) *Response {
	c.t.Helper()
	out, raw, err := c.request(contentType, body)
	require.NoError(c.t, err, "body: %s", raw)
	return out
}

// TryDo is Do for goroutines: it returns errors instead of failing the test.
func (c *Client) TryDo(query string, vars map[string]any) (*Response, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	out, raw, err := c.request("application/json", body)
	if err != nil && raw != nil {
		return nil, fmt.Errorf("decode %q: %w", raw, err)
	}
	return out, err
}

// TryPayload runs a one-field mutation from a goroutine and decodes its payload into out.
func (c *Client) TryPayload(query string, vars map[string]any, field string, out any) error {
	resp, err := c.TryDo(query, vars)
	if err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("top-level errors: %+v", resp.Errors)
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(resp.Data, &data); err != nil {
		return err
	}
	raw, ok := data[field]
	if !ok {
		return fmt.Errorf("no %s in %s", field, resp.Data)
	}
	return json.Unmarshal(raw, out)
}

// request is the one request helper: it POSTs body to /graphql with the client's headers and
// credentials and decodes the answer. raw is the body when it was read but is no GraphQL
// response.
func (c *Client) request(contentType string, body []byte) (out *Response, raw []byte, err error) {
	req, err := http.NewRequest(http.MethodPost, c.Server.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range c.Header {
		req.Header[k] = v
	}
	if c.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.Bearer)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err = io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	out = &Response{HTTP: resp}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, raw, err
	}
	return out, nil, nil
}
