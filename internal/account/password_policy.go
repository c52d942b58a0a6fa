package account

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/shopgraph/shopgraph/internal/apperr"
)

// commonPasswordsText is the 10,000 most used passwords, one a line, lower-case (from the
// zxcvbn frequency lists, MIT licence: see the file's header).
//
//go:embed data/common_passwords.txt
var commonPasswordsText string

// commonPasswords is commonPasswordsText as a set, built on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 10000)
	for line := range strings.Lines(commonPasswordsText) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[line] = struct{}{}
	}
	return set
})

// isCommonPassword reports whether password, ignoring case, is one of the commonly used ones:
// the first guesses of anyone trying passwords.
func isCommonPassword(password string) bool {
	_, ok := commonPasswords()[strings.ToLower(password)]
	return ok
}

// validatePassword is the one password rule, for every place a password is chosen (register,
// change, reset, admin and vendor set-up): 10 to 128 characters and not a common password.
// Errors: PASSWORD_TOO_SHORT, INVALID (too long), PASSWORD_TOO_COMMON.
func validatePassword(password string, field ...string) *apperr.Error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < minPasswordLen:
		return apperr.FieldError(apperr.PasswordTooShort, "Password must be at least 10 characters.", field...)
	case n > maxPasswordLen:
		return apperr.FieldError(apperr.Invalid, "Password must be at most 128 characters.", field...)
	case isCommonPassword(password):
		return apperr.FieldError(apperr.PasswordTooCommon, "This password is too common. Choose another.", field...)
	}
	return nil
}
