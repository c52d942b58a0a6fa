// Package helper is a test harness in a package of its own, like internal/apitest: the
// goroutine check must follow calls into it.
package helper

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// Client is a harness's client: Do requires, TryDo returns its error.
type Client struct {
	t    testing.TB
	HTTP *http.Client
}

func New(t testing.TB) *Client { return &Client{t: t, HTTP: http.DefaultClient} }

// Do ends the test when the request fails.
func (c *Client) Do(query string) string {
	out, err := c.TryDo(query)
	require.NoError(c.t, err)
	return out
}

// TryDo returns its error: it may run on any goroutine.
func (c *Client) TryDo(query string) (string, error) {
	if query == "" {
		return "", errors.New("empty query")
	}
	return query, nil
}

// Must ends the test through the FailNow family.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%v", err)
	}
}

// Customer ends the test two calls away.
func Customer(t testing.TB) *Client {
	c := New(t)
	c.Do("register")
	return c
}

// Together runs fn(i) for i in [0, n), each on its own goroutine: a helper of another package
// that runs its argument on a goroutine.
func Together(n int, fn func(i int)) {
	done := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			fn(i)
		}()
	}
	for range n {
		<-done
	}
}

// Each hands fn to Together: it runs it on a goroutine too.
func Each(n int, fn func(i int)) { Together(n, fn) }

// Doer is satisfied by *Client, whose Do ends the test.
type Doer interface{ Do(query string) string }

// TryDoer is satisfied by *Client through TryDo, which does not.
type TryDoer interface {
	TryDo(query string) (string, error)
}

// HTTPDoer is satisfied by *http.Client, whose Do does not end the test, and not by *Client.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// Background is a hazard of the harness itself: its goroutines are checked as a test's are.
func Background(t testing.TB) {
	go func() {
		Must(t, nil) // want
	}()
}
