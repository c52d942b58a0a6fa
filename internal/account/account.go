// Package account is sign-up, sign-in and sessions: users and their roles, argon2id passwords,
// and refresh-token families that rotate on every use and are revoked whole on reuse.
package account

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/gid"
)

// SessionTTL is how long a session (its refresh tokens) lives after sign-in, whatever its use.
const SessionTTL = 30 * 24 * time.Hour

// Input limits.
const (
	maxEmailLen    = 254
	minPasswordLen = 10
	maxPasswordLen = 128
	maxNameLen     = 100
)

// User is an account.
type User struct {
	ID    int64
	Email string
	Name  string
	Role  auth.Role
	// VendorID is the vendor the account is a member of and acts for, if any.
	VendorID  *int64
	CreatedAt time.Time
	// Phone and Locale are the profile's (accountUpdate); empty when not given.
	Phone, Locale string
	// EmailVerified: the owner proved the address by using a link sent to it.
	EmailVerified bool
	// HasPassword is false for an account without one (social sign-in only).
	HasPassword bool
}

// GlobalID is the account's opaque API ID.
func (u User) GlobalID() string { return gid.Encode(gid.User, u.ID) }

// Session is the result of a sign-in or a refresh: the account and its new tokens.
type Session struct {
	User                 User
	AccessToken          string
	AccessTokenExpiresAt time.Time
	RefreshToken         string
	ExpiresAt            time.Time
}

// RegisterInput is what accountRegister takes.
type RegisterInput struct {
	Email    string
	Password string
	Name     string
}

// NormalizeEmail trims and lower-cases an email so that one mailbox is one account.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// validateEmail checks a normalised email: a bare address (no display name), at most 254 bytes,
// with a dotted domain.
func validateEmail(email string, field ...string) *apperr.Error {
	if email == "" {
		return apperr.FieldError(apperr.Invalid, "Email is required.", field...)
	}
	if len(email) > maxEmailLen {
		return apperr.FieldError(apperr.Invalid, "Email must be at most 254 characters.", field...)
	}
	addr, err := mail.ParseAddress(email)
	at := strings.LastIndexByte(email, '@')
	if err != nil || addr.Address != email || at < 1 || !strings.Contains(email[at+1:], ".") {
		return apperr.FieldError(apperr.Invalid, "Email is not a valid address.", field...)
	}
	return nil
}

// validate checks every field of a registration and reports all problems at once.
func (in RegisterInput) validate() error {
	var errs apperr.List
	if e := validateEmail(in.Email, "input", "email"); e != nil {
		errs = append(errs, e)
	}
	if e := validatePassword(in.Password, "input", "password"); e != nil {
		errs = append(errs, e)
	}
	if utf8.RuneCountInString(in.Name) > maxNameLen {
		errs = append(errs, apperr.FieldError(apperr.Invalid, "Name must be at most 100 characters.", "input", "name"))
	}
	return errs.Err()
}
