// This file is the account vocabulary every API test needs: registering, signing in, and the
// shapes of a session.

package apitest

import (
	"github.com/google/uuid"
)

// Password is the password of every account the factories make.
const Password = "apitest-password"

// RegisterMutation is accountRegister with the whole session payload.
const RegisterMutation = `mutation Register($input: AccountRegisterInput!) {
  accountRegister(input: $input) {
    user { id email name role }
    tokens { accessToken accessTokenExpiresAt refreshToken }
    userErrors { field message code }
  }
}`

// LoginMutation is accountLogin.
const LoginMutation = `mutation Login($input: AccountLoginInput!) {
  accountLogin(input: $input) {
    user { id email role }
    tokens { accessToken refreshToken }
    userErrors { field message code }
  }
}`

// RefreshMutation is accountTokenRefresh.
const RefreshMutation = `mutation Refresh($input: AccountTokenRefreshInput!) {
  accountTokenRefresh(input: $input) {
    user { id email }
    tokens { accessToken refreshToken }
    userErrors { field message code }
  }
}`

// MeQuery reads the viewer.
const MeQuery = `query Me { me { id email role } }`

// UserError is a payload's user error.
type UserError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code"`
}

// User is a User as the account documents select it.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	// VendorID is the global ID of the vendor the account is a member of (set by
	// RegisterVendor; not selected by the account documents).
	VendorID string `json:"-"`
}

// Tokens are a session's tokens.
type Tokens struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
}

// Session is the payload of accountRegister, accountLogin and accountTokenRefresh.
type Session struct {
	User       *User       `json:"user"`
	Tokens     *Tokens     `json:"tokens"`
	UserErrors []UserError `json:"userErrors"`
}

// UniqueEmail returns an email no other test uses.
func UniqueEmail() string { return "user-" + uuid.NewString()[:8] + "@example.com" }

// Register runs accountRegister.
func (c *Client) Register(email, password string) Session {
	c.t.Helper()
	var out struct {
		P Session `json:"accountRegister"`
	}
	c.Do(RegisterMutation, map[string]any{"input": map[string]any{"email": email, "password": password}}).Decode(c.t, &out)
	return out.P
}

// Login runs accountLogin.
func (c *Client) Login(email, password string) Session {
	c.t.Helper()
	var out struct {
		P Session `json:"accountLogin"`
	}
	c.Do(LoginMutation, map[string]any{"input": map[string]any{"email": email, "password": password}}).Decode(c.t, &out)
	return out.P
}

// Refresh runs accountTokenRefresh; token "" leaves refreshToken out (the cookie's is used).
func (c *Client) Refresh(token string) Session {
	c.t.Helper()
	input := map[string]any{}
	if token != "" {
		input["refreshToken"] = token
	}
	var out struct {
		P Session `json:"accountTokenRefresh"`
	}
	c.Do(RefreshMutation, map[string]any{"input": input}).Decode(c.t, &out)
	return out.P
}

// Me reads the viewer; nil when signed out.
func (c *Client) Me() *User {
	c.t.Helper()
	var out struct {
		Me *User `json:"me"`
	}
	c.Do(MeQuery, nil).Decode(c.t, &out)
	return out.Me
}
