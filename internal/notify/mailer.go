package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/wneessen/go-mail"
)

// SMTP delivers messages through the server of an SMTP_URL, with github.com/wneessen/go-mail.
type SMTP struct {
	host string
	opts []mail.Option
	from string
}

// NewSMTP returns the mailer for rawURL: smtp://[user:pass@]host[:port] (STARTTLS when the
// server offers it; port 587 by default) or smtps://… (TLS from the start; port 465). from is
// the From address of every message.
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("SMTP_URL: %w", err)
	}
	if u.Hostname() == "" {
		return nil, errors.New("SMTP_URL has no host")
	}
	opts := []mail.Option{mail.WithTimeout(30 * time.Second)}
	port := 0
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("SMTP_URL's port: %w", err)
		}
	}
	switch u.Scheme {
	case "smtp":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
		if port == 0 {
			port = 587
		}
	case "smtps":
		opts = append(opts, mail.WithSSL())
		if port == 0 {
			port = 465
		}
	default:
		return nil, fmt.Errorf("SMTP_URL's scheme must be smtp or smtps, got %q", u.Scheme)
	}
	opts = append(opts, mail.WithPort(port))
	if u.User != nil {
		pass, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(u.User.Username()), mail.WithPassword(pass))
	}
	if _, err := mail.NewClient(u.Hostname(), opts...); err != nil {
		return nil, fmt.Errorf("SMTP_URL: %w", err)
	}
	return &SMTP{host: u.Hostname(), opts: opts, from: from}, nil
}

// TrustRoots makes s trust the certificates signed by roots (a private mail server's CA;
// tests) instead of the system's.
func (s *SMTP) TrustRoots(roots *x509.CertPool) {
	s.opts = append(s.opts, mail.WithTLSConfig(&tls.Config{RootCAs: roots, ServerName: s.host, MinVersion: tls.VersionTLS12}))
}

// Send implements Mailer: one connection per message. A 5xx reply wraps ErrPermanent.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := mail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("%w: from %q: %w", ErrPermanent, s.from, err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("%w: to %q: %w", ErrPermanent, m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	c, err := mail.NewClient(s.host, s.opts...)
	if err != nil {
		return err
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		var se *mail.SendError
		if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
			return fmt.Errorf("%w: %w", ErrPermanent, err)
		}
		return err
	}
	return nil
}
