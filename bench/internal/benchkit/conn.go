package benchkit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// Conn is one keep-alive HTTP/1.1 connection owned by one worker, which writes each request
// and reads its response in its own goroutine. net/http's Transport hands every request to
// the connection's reader and writer goroutines instead: on two cores shared with the server
// under test, those hand-offs (futex wake-ups, select, the scheduler) were about a third of the
// checkout load generator's CPU, taken from the server and PostgreSQL it measures. pgbench's
// client, the floor the checkout figure is compared with, is a loop of the same kind.
//
// A Conn is not safe for concurrent use. It dials on first use and again after any failure.
type Conn struct {
	addr, host, path string
	timeout          time.Duration

	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	reused bool // nc has answered a request already (a keep-alive peer may have closed it)
}

// NewConn returns a connection to rawURL's host that posts to rawURL's path, each request
// bounded by timeout (0: none). It does not dial yet.
func NewConn(rawURL string, timeout time.Duration) (*Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("%q: want an http:// URL", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	path := u.RequestURI()
	return &Conn{addr: addr, host: u.Host, path: path, timeout: timeout}, nil
}

// NewConns returns n connections to rawURL (NewConn), one for each worker.
func NewConns(rawURL string, n int, timeout time.Duration) ([]*Conn, error) {
	conns := make([]*Conn, n)
	for i := range conns {
		c, err := NewConn(rawURL, timeout)
		if err != nil {
			return nil, err
		}
		conns[i] = c
	}
	return conns, nil
}

// Post sends body as application/json, with token as a bearer token when it is not empty,
// and returns the response's status and whole body. A request whose kept-alive connection
// turns out to have been closed by the server is sent once more on a new one, as net/http's
// Transport does.
func (c *Conn) Post(token string, body []byte) (int, []byte, error) {
	status, raw, err := c.post(token, body)
	if errors.Is(err, errStale) {
		status, raw, err = c.post(token, body)
	}
	return status, raw, err
}

var errStale = errors.New("kept-alive connection closed by the server")

func (c *Conn) post(token string, body []byte) (int, []byte, error) {
	if c.nc == nil {
		nc, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, nil, err
		}
		c.nc, c.reused = nc, false
		c.br, c.bw = bufio.NewReaderSize(nc, 16<<10), bufio.NewWriterSize(nc, 8<<10)
	}
	if c.timeout > 0 {
		_ = c.nc.SetDeadline(time.Now().Add(c.timeout))
	}
	w := c.bw
	w.WriteString("POST ")
	w.WriteString(c.path)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(c.host)
	w.WriteString("\r\nContent-Type: application/json\r\nAccept: application/json\r\n")
	if token != "" {
		w.WriteString("Authorization: Bearer ")
		w.WriteString(token)
		w.WriteString("\r\n")
	}
	w.WriteString("Content-Length: ")
	w.WriteString(strconv.Itoa(len(body)))
	w.WriteString("\r\n\r\n")
	w.Write(body)
	if err := w.Flush(); err != nil {
		return 0, nil, c.fail(err, true)
	}
	// A kept-alive connection that the server closed while it was idle fails here, with EOF or a
	// reset before any byte of an answer: only then is the request sent once more. (A server
	// that died while handling it would see it twice; checkout.sh's bookkeeping, orders in the
	// database against orders returned, would show that.)
	if _, err := c.br.Peek(1); err != nil {
		return 0, nil, c.fail(err, true)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, nil, c.fail(err, false)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, nil, c.fail(err, false)
	}
	if resp.Close {
		c.Close()
	} else {
		c.reused = true
	}
	return resp.StatusCode, raw, nil
}

// fail closes the connection after err; before any byte of an answer on a reused connection,
// err is errStale, which Post retries.
func (c *Conn) fail(err error, beforeAnswer bool) error {
	stale := beforeAnswer && c.reused && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err))
	c.Close()
	if stale {
		return fmt.Errorf("%w: %v", errStale, err)
	}
	return err
}

// isReset is a connection the peer reset or closed under a write (ECONNRESET, EPIPE).
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// Close closes the connection; the next Post dials again.
func (c *Conn) Close() {
	if c.nc != nil {
		c.nc.Close()
		c.nc, c.br, c.bw = nil, nil, nil
	}
}
