package account

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
)

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ada@example.com":       "ada@example.com",
		"  Ada@Example.COM\t":   "ada@example.com",
		"":                      "",
		" MIXED.Case+tag@X.io ": "mixed.case+tag@x.io",
	} {
		require.Equal(t, want, NormalizeEmail(in), "%q", in)
	}
}

func TestValidateEmail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		email string
		ok    bool
	}{
		{"ada@example.com", true},
		{"a.b+c@sub.example.co", true},
		{"", false},
		{"ada", false},
		{"@example.com", false},
		{"ada@localhost", false},
		{"Ada <ada@example.com>", false},
		{"ada@example.com ", false},
		{strings.Repeat("a", 242) + "@example.com", true}, // 254 bytes
		{strings.Repeat("a", 243) + "@example.com", false},
	} {
		err := validateEmail(tc.email, "email")
		require.Equal(t, tc.ok, err == nil, "%q: %v", tc.email, err)
		if err != nil {
			require.Equal(t, []string{"email"}, err.Field)
		}
	}
}

func TestValidatePassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		password string
		code     apperr.Code // "" when accepted
	}{
		{"vq8-#kfm2", apperr.PasswordTooShort},
		{"vq8-#kfm2z", ""},
		{strings.Repeat("é", 9), apperr.PasswordTooShort},
		{strings.Repeat("é", 10), ""}, // characters, not bytes
		{strings.Repeat("p", 128), ""},
		{strings.Repeat("p", 129), apperr.Invalid},
		// Common passwords, in any case, are refused even when long enough.
		{"1234567890", apperr.PasswordTooCommon},
		{"qwertyuiop", apperr.PasswordTooCommon},
		{"Password123", apperr.PasswordTooCommon},
		{"1q2w3e4r5t", apperr.PasswordTooCommon},
	} {
		e := validatePassword(tc.password)
		if tc.code == "" {
			require.Nil(t, e, "%q", tc.password)
			continue
		}
		require.NotNil(t, e, "%q", tc.password)
		require.Equal(t, tc.code, e.Code, "%q", tc.password)
	}
	require.Greater(t, len(commonPasswords()), 9000, "the embedded list is loaded")
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := hashPassword("correct horse")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)
	other, err := hashPassword("correct horse")
	require.NoError(t, err)
	require.NotEqual(t, h, other, "salted")

	ok, err := verifyPassword("correct horse", h)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = verifyPassword("Correct horse", h)
	require.NoError(t, err)
	require.False(t, ok)

	parts := strings.Split(h, "$")
	for name, bad := range map[string]string{
		"not a hash":       "x",
		"bcrypt":           "$2a$10$abcdefghijklmnopqrstuv",
		"another version":  strings.Replace(h, "v=19", "v=16", 1),
		"bad parameters":   strings.Replace(h, "m=19456,t=2,p=1", "m=x", 1),
		"bad salt":         strings.Join(append(append([]string{}, parts[:4]...), "!!", parts[5]), "$"),
		"bad key encoding": strings.Join(append(append([]string{}, parts[:5]...), "!!"), "$"),
	} {
		_, err := verifyPassword("correct horse", bad)
		require.ErrorIs(t, err, errMalformedHash, name)
	}
}

func TestRegisterInputValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, RegisterInput{Email: "ada@example.com", Password: "vq8-#kfm2z", Name: strings.Repeat("n", 100)}.validate())
	err := RegisterInput{Email: "x", Password: "1", Name: strings.Repeat("n", 101)}.validate()
	require.Error(t, err)
	require.Contains(t, err.Error(), "(and 2 more)", "every field is reported at once")
}
