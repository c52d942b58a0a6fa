// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on loopback for a
// test: it keeps every message it accepts, and can be told to refuse them, for good (5xx) or
// for now (4xx).
package smtptest

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted.
type Received struct {
	From string
	To   []string
	Data []byte
}

// Parse parses the message's headers and body.
func (r Received) Parse() (*mail.Message, error) { return mail.ReadMessage(bytes.NewReader(r.Data)) }

// Parts returns the message's decoded subject and its text parts by media type
// ("text/plain", "text/html"), whether it is a single part or multipart/alternative.
func (r Received) Parts() (subject string, parts map[string]string, err error) {
	m, err := r.Parse()
	if err != nil {
		return "", nil, err
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return "", nil, err
	}
	parts = map[string]string{}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return "", nil, err
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		b, err := io.ReadAll(m.Body)
		parts[mediaType] = string(b)
		return subject, parts, err
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			return subject, parts, nil
		}
		if err != nil {
			return "", nil, err
		}
		t, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			return "", nil, err
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return "", nil, err
		}
		parts[t] = string(b)
	}
}

// Server is a running SMTP server.
type Server struct {
	// URL is the SMTP_URL that reaches it (smtp://127.0.0.1:port, no TLS offered, no auth).
	URL string

	mu       sync.Mutex
	received []Received
	refusal  *smtp.SMTPError
}

// New starts a server, stopped when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.URL = "smtp://" + l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Messages returns what the server accepted so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Refuse makes the server answer every later message with code (e.g. 550, permanent; 451,
// transient); 0 accepts them again.
func (s *Server) Refuse(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.refusal = nil
		return
	}
	s.refusal = &smtp.SMTPError{Code: code, Message: "refused by smtptest"}
}

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	refusal := x.s.refusal
	x.s.mu.Unlock()
	if refusal != nil {
		return refusal
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(x.to) == 0 {
		return errors.New("no recipient")
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.received = append(x.s.received, Received{From: x.from, To: x.to, Data: b})
	return nil
}
