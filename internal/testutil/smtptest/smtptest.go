// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on loopback for a
// test: it keeps every message it accepts, and can be told to refuse them, for good (5xx) or
// for now (4xx).
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
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

	// RootCAs trusts the certificate of a server made by NewStartTLS.
	RootCAs *x509.CertPool

	user, pass string // required by AUTH PLAIN when user is set
	tls        *tls.Config

	mu       sync.Mutex
	received []Received
	refusal  *smtp.SMTPError
	// stall, when set, holds every message at RCPT until it is closed (Stall).
	stall   chan struct{}
	stalled chan struct{}
}

// Stall makes the server hold every later message at RCPT without answering: a send in
// flight, neither accepted nor refused. Each held message is signalled on the returned
// channel. release ends the stall: the messages held are refused with a transient 451 (their
// sender may be gone; they were never accepted), later ones are accepted.
func (s *Server) Stall() (stalled <-chan struct{}, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stall, ch := make(chan struct{}), make(chan struct{}, 100)
	s.stall, s.stalled = stall, ch
	return ch, sync.OnceFunc(func() {
		s.mu.Lock()
		s.stall = nil
		s.mu.Unlock()
		close(stall)
	})
}

// New starts a server, stopped when the test ends.
func New(t testing.TB) *Server { return start(t, &Server{}) }

// NewWithAuth starts a server that takes mail only after AUTH PLAIN as user with pass, without
// TLS (a client that keeps credentials off plain connections cannot use it); its URL carries
// them.
func NewWithAuth(t testing.TB, user, pass string) *Server {
	s := start(t, &Server{user: user, pass: pass})
	s.URL = "smtp://" + url.UserPassword(user, pass).String() + "@" + strings.TrimPrefix(s.URL, "smtp://")
	return s
}

// NewStartTLS is NewWithAuth on a server that offers STARTTLS, with a certificate for
// 127.0.0.1 signed by itself: RootCAs trusts it.
func NewStartTLS(t testing.TB, user, pass string) *Server {
	t.Helper()
	cert, pool := selfSigned(t)
	s := &Server{user: user, pass: pass, tls: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, RootCAs: pool}
	start(t, s)
	s.URL = "smtp://" + url.UserPassword(user, pass).String() + "@" + strings.TrimPrefix(s.URL, "smtp://")
	return s
}

func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("smtptest: key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("smtptest: certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("smtptest: parse certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func start(t testing.TB, s *Server) *Server {
	t.Helper()
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		if s.user != "" {
			return &authSession{session: session{s: s}}, nil
		}
		return &session{s: s}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = s.tls
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
	s      *Server
	from   string
	to     []string
	authed bool
}

// authSession is a session of a server that requires AUTH.
type authSession struct{ session }

func (x *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.user || pass != x.s.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		x.authed = true
		return nil
	}), nil
}

func (x *authSession) Mail(from string, opts *smtp.MailOptions) error {
	if !x.authed {
		return smtp.ErrAuthRequired
	}
	return x.session.Mail(from, opts)
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	refusal, stall, stalled := x.s.refusal, x.s.stall, x.s.stalled
	x.s.mu.Unlock()
	if stall != nil {
		select {
		case stalled <- struct{}{}:
		default:
		}
		<-stall
		return &smtp.SMTPError{Code: 451, Message: "stalled by smtptest"}
	}
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
