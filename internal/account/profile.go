package account

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// ProfileInput is what accountUpdate takes; a nil field is left as it is, "" clears it.
type ProfileInput struct {
	Name   *string
	Phone  *string
	Locale *string
}

var (
	// phonePattern: digits with the usual separators, an optional leading +, 6 to 20 digits.
	phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 ().-]{4,30}[0-9]$`)
	// localePattern: a BCP 47 tag such as "en", "en-GB" or "zh-Hant-TW".
	localePattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$`)
)

// validate trims the fields and reports every problem at once.
func (in *ProfileInput) validate() error {
	var errs apperr.List
	trim := func(p *string) {
		if p != nil {
			*p = strings.TrimSpace(*p)
		}
	}
	trim(in.Name)
	trim(in.Phone)
	trim(in.Locale)
	if in.Name != nil && utf8.RuneCountInString(*in.Name) > maxNameLen {
		errs = append(errs, apperr.FieldError(apperr.Invalid, "Name must be at most 100 characters.", "input", "name"))
	}
	if in.Phone != nil && *in.Phone != "" {
		if !phonePattern.MatchString(*in.Phone) || countDigits(*in.Phone) < 6 || countDigits(*in.Phone) > 20 {
			errs = append(errs, apperr.FieldError(apperr.Invalid, "Phone must be a phone number such as +44 20 7946 0000.", "input", "phone"))
		}
	}
	if in.Locale != nil && *in.Locale != "" && !localePattern.MatchString(*in.Locale) {
		errs = append(errs, apperr.FieldError(apperr.Invalid, "Locale must be a language tag such as en or en-GB.", "input", "locale"))
	}
	return errs.Err()
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// UpdateProfile changes the viewer's name, phone and locale (the fields given).
// Errors: INVALID (per field, all at once), NOT_FOUND.
func (s *Service) UpdateProfile(ctx context.Context, v auth.Viewer, in ProfileInput) (User, error) {
	if err := in.validate(); err != nil {
		return User{}, err
	}
	var u User
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		cur, err := q.UserGetByIDForUpdate(ctx, v.UserID)
		if err != nil {
			return postgres.MapError(err, "user")
		}
		arg := db.UserUpdateProfileParams{ID: cur.ID, Name: cur.Name, Phone: cur.Phone, Locale: cur.Locale}
		if in.Name != nil {
			arg.Name = *in.Name
		}
		if in.Phone != nil {
			arg.Phone = *in.Phone
		}
		if in.Locale != nil {
			arg.Locale = *in.Locale
		}
		row, err := q.UserUpdateProfile(ctx, arg)
		if err != nil {
			return err
		}
		u = userFromRow(row)
		return nil
	})
	return u, err
}
