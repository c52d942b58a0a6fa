package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/shopgraph/shopgraph/internal/apperr"
)

// Guard keeps webhooks off internal networks (SSRF): a URL must be http(s), and its host must
// resolve only to public unicast addresses. It is checked when a subscription is saved (Check)
// and again on every connection the worker opens (Control, a net.Dialer hook that sees the
// address actually dialled), so a name that resolves to a public address at save time and to
// an internal one later (DNS rebinding) is still refused.
type Guard struct {
	// AllowPrivate lets targets on any address through (WEBHOOK_ALLOW_PRIVATE_TARGETS, for
	// development and tests on loopback).
	AllowPrivate bool
	// Resolver looks up host names; nil: net.DefaultResolver.
	Resolver interface {
		LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	}
}

// ErrForbiddenTarget is an address webhooks may not reach.
var ErrForbiddenTarget = errors.New("webhook target is on a private, loopback or otherwise internal address")

// blocked are the ranges beyond the standard library's predicates: "this network", shared
// address space (CGNAT), benchmarking, the IPv4 reserved block, NAT64 well-known prefix and
// documentation ranges; none is a webhook receiver.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// Public reports whether a is an address webhooks may reach: not private, loopback,
// link-local, unspecified, multicast or reserved (an IPv4-mapped IPv6 address is judged as
// its IPv4 address).
func Public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// ParseURL checks a webhook URL's shape: absolute http or https, a host, no user info, at most
// 2,000 characters. Errors: INVALID on input.url.
func ParseURL(raw string) (*url.URL, error) {
	if len(raw) > 2000 {
		return nil, apperr.FieldError(apperr.Invalid, "The URL is longer than 2,000 characters.", "input", "url")
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, apperr.FieldError(apperr.Invalid, "The URL must be an absolute http:// or https:// URL.", "input", "url")
	}
	if u.User != nil {
		return nil, apperr.FieldError(apperr.Invalid, "The URL must not hold a user name or password.", "input", "url")
	}
	return u, nil
}

// Check resolves u's host and refuses it (ErrForbiddenTarget) when any of its addresses is not
// public; a host that does not resolve is an error too.
func (g Guard) Check(ctx context.Context, u *url.URL) error {
	if g.AllowPrivate {
		return nil
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if !Public(a) {
			return ErrForbiddenTarget
		}
		return nil
	}
	var r interface {
		LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	} = net.DefaultResolver
	if g.Resolver != nil {
		r = g.Resolver
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("resolve %s: %w", host, errUnresolvable)
	}
	for _, a := range addrs {
		if !Public(a) {
			return ErrForbiddenTarget
		}
	}
	return nil
}

var errUnresolvable = errors.New("host does not resolve")

// Control is a net.Dialer Control hook: it refuses a connection to an address that is not
// public, after name resolution, whatever the name resolved to when the subscription was
// saved.
func (g Guard) Control(network, address string, _ syscall.RawConn) error {
	if g.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, ErrForbiddenTarget)
	}
	if !Public(ap.Addr()) {
		return fmt.Errorf("dial %s: %w", address, ErrForbiddenTarget)
	}
	return nil
}
