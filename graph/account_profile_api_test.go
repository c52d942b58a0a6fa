package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/testutil/smtptest"
)

const (
	accountUpdateMutation = `mutation U($input: AccountUpdateInput!) { accountUpdate(input: $input) {
  user { id name phone locale emailVerified } userErrors { field message code } } }`
	emailChangeMutation = `mutation C($input: AccountEmailChangeInput!) { accountEmailChange(input: $input) {
  user { id email } userErrors { field message code } } }`
	emailVerifyMutation = `mutation V($input: AccountEmailVerifyInput!) { accountEmailVerify(input: $input) {
  user { id email emailVerified } userErrors { field message code } } }`
	verificationResendMutation = `mutation { accountEmailVerificationResend { user { id } userErrors { field message code } } }`
	resetRequestMutation       = `mutation R($input: AccountPasswordResetRequestInput!) { accountPasswordResetRequest(input: $input) {
  userErrors { field message code } } }`
	resetMutation = `mutation P($input: AccountPasswordResetInput!) { accountPasswordReset(input: $input) {
  user { id email emailVerified } userErrors { field message code } } }`
	deleteMutation = `mutation D($input: AccountDeleteInput!) { accountDelete(input: $input) {
  deletedUserId userErrors { field message code } } }`
	meProfileQuery = `{ me { id email name phone locale emailVerified } }`
)

// storefront is the STOREFRONT_URL of these tests: the links must use it.
const storefront = "https://shop.example.test"

// profileUser is a User with the profile fields.
type profileUser struct {
	ID            string `json:"id"`
	Email         string `json:"email"`
	Name          string `json:"name"`
	Phone         string `json:"phone"`
	Locale        string `json:"locale"`
	EmailVerified bool   `json:"emailVerified"`
}

type profilePayload struct {
	User          *profileUser        `json:"user"`
	DeletedUserID *string             `json:"deletedUserId"`
	UserErrors    []apitest.UserError `json:"userErrors"`
}

// mutate runs a mutation and decodes its payload (field).
func profileMutate(t *testing.T, c *apitest.Client, query, field string, input map[string]any) profilePayload {
	t.Helper()
	var vars map[string]any
	if input != nil {
		vars = map[string]any{"input": input}
	}
	var out map[string]profilePayload
	c.Do(query, vars).Decode(t, &out)
	p, ok := out[field]
	require.True(t, ok, "payload %s", field)
	return p
}

func me(t *testing.T, c *apitest.Client) *profileUser {
	t.Helper()
	var out struct {
		Me *profileUser `json:"me"`
	}
	c.Do(meProfileQuery, nil).Decode(t, &out)
	return out.Me
}

// mailEnv is an API server that sends email to a test SMTP server.
func mailEnv(t *testing.T) (*apitest.Env, *smtptest.Server) {
	srv := smtptest.New(t)
	return apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{"SMTP_URL": srv.URL, "STOREFRONT_URL": storefront}}), srv
}

// mail is one received email, decoded.
type mail struct {
	To          string
	Subject     string
	Text, HTML  string
	Link, Token string // the link to the storefront in the text part, and its token
}

var linkPattern = regexp.MustCompile(regexp.QuoteMeta(storefront) + `(/account/[a-z-]+)\?token=([A-Za-z0-9_-]+)`)

// mailsTo returns the emails received by `to`, oldest first.
func mailsTo(t *testing.T, srv *smtptest.Server, to string) []mail {
	t.Helper()
	var out []mail
	for _, m := range srv.Messages() {
		if len(m.To) != 1 || m.To[0] != to {
			continue
		}
		subject, parts, err := m.Parts()
		require.NoError(t, err)
		got := mail{To: to, Subject: subject, Text: parts["text/plain"], HTML: parts["text/html"]}
		if l := linkPattern.FindStringSubmatch(got.Text); l != nil {
			got.Link, got.Token = l[1], l[2]
		}
		out = append(out, got)
	}
	return out
}

// waitMail waits for the n-th email (1-based) received by `to` and returns it.
func waitMail(t *testing.T, srv *smtptest.Server, to string, n int) mail {
	t.Helper()
	count := func() int {
		k := 0
		for _, m := range srv.Messages() {
			if len(m.To) == 1 && m.To[0] == to {
				k++
			}
		}
		return k
	}
	require.Eventually(t, func() bool { return count() >= n }, 30*time.Second, 50*time.Millisecond, "email %d to %s", n, to)
	return mailsTo(t, srv, to)[n-1]
}

// register signs up a customer through the API; it returns its client (signed in), the
// session and the account's global ID.
func register(t *testing.T, e *apitest.Env, email, password string) (*apitest.Client, apitest.Session) {
	t.Helper()
	c := e.Anon(t)
	s := c.Register(email, password)
	require.Empty(t, s.UserErrors)
	c.Bearer = s.Tokens.AccessToken
	return c, s
}

// noTokenStored: a link's token is in no delivery record (recipient, key, last error).
func noTokenStored(t *testing.T, e *apitest.Env, token string) {
	t.Helper()
	require.NotEmpty(t, token)
	require.Zero(t, e.Count(t, `SELECT count(*) FROM email_deliveries d WHERE strpos(d::text, $1) > 0`, token))
	require.Zero(t, e.Count(t, `SELECT count(*) FROM account_tokens t WHERE strpos(t::text, $1) > 0`, token),
		"only the token's hash is stored")
}

// TestAccountEmailVerification: registering sends a verification link to the address (on the
// storefront, STOREFRONT_URL); the account can shop unverified; the link verifies it once;
// a used or unknown token is refused; a resend sends a new link and voids the old one.
func TestAccountEmailVerification(t *testing.T) {
	t.Parallel()
	e, srv := mailEnv(t)
	email := apitest.UniqueEmail()
	c, _ := register(t, e, email, "verify-me-please")
	require.False(t, me(t, c).EmailVerified)

	first := waitMail(t, srv, email, 1)
	require.Equal(t, "Confirm your email address", first.Subject)
	require.Equal(t, "/account/verify-email", first.Link)
	require.GreaterOrEqual(t, len(first.Token), 43, "at least 32 random bytes")
	require.Contains(t, first.HTML, storefront+"/account/verify-email?token="+first.Token)
	noTokenStored(t, e, first.Token)

	// A resend voids the first link.
	p := profileMutate(t, c, verificationResendMutation, "accountEmailVerificationResend", nil)
	require.Empty(t, p.UserErrors)
	second := waitMail(t, srv, email, 2)
	require.NotEqual(t, first.Token, second.Token)
	anon := e.Anon(t)
	p = profileMutate(t, anon, emailVerifyMutation, "accountEmailVerify", map[string]any{"token": first.Token})
	require.Equal(t, []string{"INVALID_TOKEN:input.token"}, codes(p.UserErrors), "a replaced link")

	p = profileMutate(t, anon, emailVerifyMutation, "accountEmailVerify", map[string]any{"token": second.Token})
	require.Empty(t, p.UserErrors)
	require.True(t, p.User.EmailVerified)
	require.True(t, me(t, c).EmailVerified)

	p = profileMutate(t, anon, emailVerifyMutation, "accountEmailVerify", map[string]any{"token": second.Token})
	require.Equal(t, []string{"INVALID_TOKEN:input.token"}, codes(p.UserErrors), "a used link")
	p = profileMutate(t, anon, emailVerifyMutation, "accountEmailVerify", map[string]any{"token": "not-a-token"})
	require.Equal(t, []string{"INVALID_TOKEN:input.token"}, codes(p.UserErrors))

	p = profileMutate(t, c, verificationResendMutation, "accountEmailVerificationResend", nil)
	require.Equal(t, []string{"EMAIL_ALREADY_VERIFIED:"}, codes(p.UserErrors))
}

// TestAccountUpdate: the viewer changes name, phone and locale; an omitted field is kept;
// malformed values are refused, all at once, changing nothing.
func TestAccountUpdate(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	c := e.RegisterCustomer(t)
	p := profileMutate(t, c, accountUpdateMutation, "accountUpdate", map[string]any{"name": " Ada Lovelace ", "phone": "+44 20 7946 0000", "locale": "en-GB"})
	require.Empty(t, p.UserErrors)
	require.Equal(t, profileUser{ID: p.User.ID, Name: "Ada Lovelace", Phone: "+44 20 7946 0000", Locale: "en-GB"}, *p.User)

	p = profileMutate(t, c, accountUpdateMutation, "accountUpdate", map[string]any{"locale": "fr"})
	require.Empty(t, p.UserErrors)
	require.Equal(t, "Ada Lovelace", p.User.Name, "an omitted field is kept")
	require.Equal(t, "fr", p.User.Locale)

	p = profileMutate(t, c, accountUpdateMutation, "accountUpdate", map[string]any{"name": strings.Repeat("x", 101), "phone": "call me", "locale": "not a locale"})
	require.Equal(t, []string{"INVALID:input.locale", "INVALID:input.name", "INVALID:input.phone"}, codes(p.UserErrors))
	got := me(t, c)
	require.Equal(t, "Ada Lovelace", got.Name)
	require.Equal(t, "+44 20 7946 0000", got.Phone)

	resp := e.Anon(t).Do(accountUpdateMutation, map[string]any{"input": map[string]any{"name": "x"}})
	require.Equal(t, "UNAUTHENTICATED", resp.Code())
}

// TestAccountEmailChange: a change needs the current password and a free address; it sends a
// link to the new address and a notice to the old one, and changes nothing until the link is
// used; an address taken meanwhile answers EMAIL_TAKEN at confirmation; the link works once.
func TestAccountEmailChange(t *testing.T) {
	t.Parallel()
	e, srv := mailEnv(t)
	const password = "change-my-address"
	oldEmail, newEmail := apitest.UniqueEmail(), apitest.UniqueEmail()
	c, _ := register(t, e, oldEmail, password)
	taken := apitest.UniqueEmail()
	register(t, e, taken, password)
	change := func(to, password string) profilePayload {
		return profileMutate(t, c, emailChangeMutation, "accountEmailChange", map[string]any{"newEmail": to, "password": password})
	}

	require.Equal(t, []string{"WRONG_PASSWORD:input.password"}, codes(change(newEmail, "not-the-password").UserErrors))
	require.Equal(t, []string{"EMAIL_TAKEN:input.newEmail"}, codes(change(strings.ToUpper(taken), password).UserErrors))
	require.Equal(t, []string{"UNCHANGED:input.newEmail"}, codes(change(oldEmail, password).UserErrors))
	require.Equal(t, []string{"INVALID:input.newEmail"}, codes(change("nope", password).UserErrors))

	p := change(newEmail, password)
	require.Empty(t, p.UserErrors)
	require.Equal(t, oldEmail, p.User.Email, "nothing changes before the link is used")
	link := waitMail(t, srv, newEmail, 1)
	require.Equal(t, "Confirm your new email address", link.Subject)
	require.Equal(t, "/account/verify-email", link.Link)
	noTokenStored(t, e, link.Token)
	// The registration's verification and the change's notice are two jobs: either may be
	// delivered first.
	waitMail(t, srv, oldEmail, 2)
	i := slices.IndexFunc(mailsTo(t, srv, oldEmail), func(m mail) bool {
		return m.Subject == "Your shopgraph email address is being changed"
	})
	require.GreaterOrEqual(t, i, 0, "the notice to the old address")
	notice := mailsTo(t, srv, oldEmail)[i]
	require.Contains(t, notice.Text, newEmail)
	require.Empty(t, notice.Token, "the notice carries no link")
	require.Equal(t, oldEmail, me(t, c).Email)

	// Someone takes the address before the link is used: EMAIL_TAKEN, and nothing changes.
	squatter, _ := register(t, e, "squat-"+newEmail, password)
	require.Empty(t, profileMutate(t, squatter, emailChangeMutation, "accountEmailChange", map[string]any{"newEmail": newEmail, "password": password}).UserErrors)
	squat := waitMail(t, srv, newEmail, 2)
	require.Empty(t, profileMutate(t, e.Anon(t), emailVerifyMutation, "accountEmailVerify", map[string]any{"token": squat.Token}).UserErrors)
	p = profileMutate(t, e.Anon(t), emailVerifyMutation, "accountEmailVerify", map[string]any{"token": link.Token})
	require.Equal(t, []string{"EMAIL_TAKEN:input.token"}, codes(p.UserErrors))
	require.Equal(t, oldEmail, me(t, c).Email)

	// A fresh change to a free address, confirmed by its link.
	other := apitest.UniqueEmail()
	require.Empty(t, change(other, password).UserErrors)
	confirm := waitMail(t, srv, other, 1)
	p = profileMutate(t, e.Anon(t), emailVerifyMutation, "accountEmailVerify", map[string]any{"token": confirm.Token})
	require.Empty(t, p.UserErrors)
	require.Equal(t, other, p.User.Email)
	require.True(t, p.User.EmailVerified, "the new address is proved by its link")
	require.Equal(t, other, me(t, c).Email)
	require.Empty(t, e.Anon(t).Login(other, password).UserErrors, "sign-in with the new address")
	p = profileMutate(t, e.Anon(t), emailVerifyMutation, "accountEmailVerify", map[string]any{"token": confirm.Token})
	require.Equal(t, []string{"INVALID_TOKEN:input.token"}, codes(p.UserErrors), "the link works once")
}

// TestAccountPasswordReset: a request answers the same for an unknown address (and sends
// nothing); the link sets a new password once, within the hour, ends every session, and weak
// passwords are refused with their codes.
func TestAccountPasswordReset(t *testing.T) {
	t.Parallel()
	e, srv := mailEnv(t)
	email := apitest.UniqueEmail()
	_, laptop := register(t, e, email, "old-password-1")
	phone := e.Anon(t).Login(email, "old-password-1")
	require.Empty(t, phone.UserErrors)
	waitMail(t, srv, email, 1) // the registration's verification

	ask := func(c *apitest.Client, email string) json.RawMessage {
		resp := c.Do(resetRequestMutation, map[string]any{"input": map[string]any{"email": email}})
		require.Empty(t, resp.Errors)
		return resp.Data
	}
	unknown := apitest.UniqueEmail()
	require.JSONEq(t, string(ask(e.Anon(t), unknown)), string(ask(e.Anon(t), strings.ToUpper(email))),
		"the same answer whether or not the account exists")
	reset := waitMail(t, srv, email, 2)
	require.Equal(t, "Reset your shopgraph password", reset.Subject)
	require.Equal(t, "/account/reset-password", reset.Link)
	noTokenStored(t, e, reset.Token)
	require.Zero(t, e.Count(t, `SELECT count(*) FROM email_deliveries WHERE recipient = $1`, unknown), "nothing sent to an unknown address")
	require.Zero(t, e.Count(t, `SELECT count(*) FROM river_job WHERE strpos(args::text, $1) > 0`, unknown), "nor queued")

	use := func(token, password string) profilePayload {
		return profileMutate(t, e.Anon(t), resetMutation, "accountPasswordReset", map[string]any{"token": token, "newPassword": password})
	}
	require.Equal(t, []string{"PASSWORD_TOO_SHORT:input.newPassword"}, codes(use(reset.Token, "short-pw").UserErrors))
	require.Equal(t, []string{"PASSWORD_TOO_COMMON:input.newPassword"}, codes(use(reset.Token, "Password123").UserErrors))
	require.Equal(t, []string{"INVALID_TOKEN:input.token"}, codes(use("forged-token", "a-brand-new-password").UserErrors))

	p := use(reset.Token, "a-brand-new-password")
	require.Empty(t, p.UserErrors)
	require.True(t, p.User.EmailVerified, "the reset link proved the address")
	require.Equal(t, "INVALID_TOKEN", code(e.Anon(t).Refresh(laptop.Tokens.RefreshToken)), "every session ended")
	require.Equal(t, "INVALID_TOKEN", code(e.Anon(t).Refresh(phone.Tokens.RefreshToken)), "every session ended")
	require.Equal(t, "INVALID_CREDENTIALS", code(e.Anon(t).Login(email, "old-password-1")))
	require.Empty(t, e.Anon(t).Login(email, "a-brand-new-password").UserErrors)
	require.Equal(t, []string{"INVALID_TOKEN:input.token"}, codes(use(reset.Token, "yet-another-password").UserErrors), "works once")

	// An hour later the link has expired.
	ask(e.Anon(t), email)
	late := waitMail(t, srv, email, 3)
	_, err := e.Server.App.DB.Pool.Exec(context.Background(),
		`UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = sha256($1::bytea)`, []byte(late.Token))
	require.NoError(t, err)
	require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM account_tokens WHERE expires_at <= now() AND purpose = 'reset_password' AND used_at IS NULL`+
		` AND token_hash = sha256($1::bytea)`, []byte(late.Token)), "the token is stored as its SHA-256")
	require.Equal(t, []string{"INVALID_TOKEN:input.token"}, codes(use(late.Token, "yet-another-password").UserErrors), "expired")
	var ttl float64
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(), `SELECT extract(epoch FROM max(expires_at - created_at))
		FROM account_tokens WHERE purpose = 'reset_password'`).Scan(&ttl))
	require.InDelta(t, 3600, ttl, 5, "reset links last an hour")
}

// TestAccountPasswordResetRateLimit: requests are limited per address (known or not, alike)
// and per client IP.
func TestAccountPasswordResetRateLimit(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	ask := func(c *apitest.Client, email string) string {
		var out map[string]profilePayload
		c.Do(resetRequestMutation, map[string]any{"input": map[string]any{"email": email}}).Decode(t, &out)
		return code(out["accountPasswordResetRequest"].UserErrors)
	}
	known := e.RegisterCustomer(t)
	knownEmail := me(t, known).Email
	unknown := apitest.UniqueEmail()
	for i := range 3 {
		require.Empty(t, ask(e.Server.ClientFrom(t, fmt.Sprintf("127.1.0.%d", i)), knownEmail), "request %d", i)
		require.Empty(t, ask(e.Server.ClientFrom(t, fmt.Sprintf("127.2.0.%d", i)), unknown), "request %d", i)
	}
	require.Equal(t, "RATE_LIMITED", ask(e.Server.ClientFrom(t, "127.1.0.9"), knownEmail), "per address")
	require.Equal(t, "RATE_LIMITED", ask(e.Server.ClientFrom(t, "127.2.0.9"), unknown), "an unknown address alike")

	sprayer := e.Server.ClientFrom(t, "127.3.0.1")
	for i := range 20 {
		require.Empty(t, ask(sprayer, apitest.UniqueEmail()), "request %d", i)
	}
	require.Equal(t, "RATE_LIMITED", ask(sprayer, apitest.UniqueEmail()), "per client address")
	require.Empty(t, ask(e.Server.ClientFrom(t, "127.3.0.2"), apitest.UniqueEmail()), "another address is untouched")
}

// code is the first user error's code, or "".
func code(s any) string {
	var errs []apitest.UserError
	switch v := s.(type) {
	case apitest.Session:
		errs = v.UserErrors
	case []apitest.UserError:
		errs = v
	}
	if len(errs) == 0 {
		return ""
	}
	return errs[0].Code
}

// TestAccountDelete: deleting needs the password; afterwards nothing personal of the account
// remains in any table (every text, json and bytea column of every table is searched, so
// tables added later are covered), its orders stay detached with only the shipping country,
// and its sessions are over. The last admin, vendor members and accounts without a password
// are refused with their codes.
func TestAccountDelete(t *testing.T) {
	t.Parallel()
	e, srv := mailEnv(t)
	ctx := context.Background()
	const password = "delete-me-for-good"
	email := apitest.UniqueEmail()
	name := "Zebulon " + uuid.NewString()[:8]
	phoneNumber := fmt.Sprintf("+1 555 %07d", time.Now().UnixNano()%10000000)
	c, sess := register(t, e, email, password)
	require.Empty(t, profileMutate(t, c, accountUpdateMutation, "accountUpdate", map[string]any{"name": name, "phone": phoneNumber, "locale": "en"}).UserErrors)
	// An order shipped to the person, an email change pending (a second address), emails sent.
	v := e.Variant(t, 1200, 5)
	apitest.FillCart(t, c, apitest.CartLine{VariantGID: v.GID, Quantity: 1})
	addr := apitest.Address()
	addr["name"], addr["phone"] = name, phoneNumber
	var placed struct {
		P struct {
			Order      *struct{ ID string } `json:"order"`
			UserErrors []apitest.UserError  `json:"userErrors"`
		} `json:"checkout"`
	}
	c.Do(`mutation($input: CheckoutInput!) { checkout(input: $input) { order { id } userErrors { field message code } } }`,
		map[string]any{"input": map[string]any{"idempotencyKey": uuid.NewString(), "shippingAddress": addr}}).Decode(t, &placed)
	require.Empty(t, placed.P.UserErrors)
	orderID := apitest.OrderNumber(t, placed.P.Order.ID)
	second := apitest.UniqueEmail()
	require.Empty(t, profileMutate(t, c, emailChangeMutation, "accountEmailChange", map[string]any{"newEmail": second, "password": password}).UserErrors)
	waitMail(t, srv, second, 1)
	waitMail(t, srv, email, 2)

	before := personalDataScan(t, e, []string{email, second, name, phoneNumber})
	for _, want := range []string{"users.email", "users.name", "users.phone", "orders.shipping_address", "email_deliveries.recipient", "account_tokens.new_email"} {
		require.True(t, slices.ContainsFunc(before, func(f string) bool { return strings.HasPrefix(f, want+" ") }), "the scan finds %s before: %v", want, before)
	}

	p := profileMutate(t, c, deleteMutation, "accountDelete", map[string]any{"password": "not-the-password"})
	require.Equal(t, []string{"WRONG_PASSWORD:input.password"}, codes(p.UserErrors))
	require.Equal(t, email, me(t, c).Email, "nothing happened")

	p = profileMutate(t, c, deleteMutation, "accountDelete", map[string]any{"password": password})
	require.Empty(t, p.UserErrors)
	require.NotNil(t, p.DeletedUserID)

	require.Equal(t, "INVALID_TOKEN", code(e.Anon(t).Refresh(sess.Tokens.RefreshToken)), "the sessions are over")
	require.Equal(t, "INVALID_CREDENTIALS", code(e.Anon(t).Login(email, password)))
	require.Nil(t, me(t, c), "the account is gone")

	// The order is kept for the books, detached, with only the shipping country.
	var (
		customer *int64
		total    int64
		shipTo   string
	)
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(ctx, `SELECT user_id, total_amount, shipping_address::text FROM orders WHERE id = $1`, orderID).
		Scan(&customer, &total, &shipTo))
	require.Nil(t, customer)
	require.Equal(t, int64(1200), total)
	require.JSONEq(t, fmt.Sprintf(`{"country": %q}`, addr["country"]), shipTo)

	for _, found := range personalDataScan(t, e, []string{email, second, name, phoneNumber}) {
		t.Errorf("personal data remains: %s", found)
	}
}

// personalDataScan searches every column of every table of the public schema (any type: as
// text) for each needle and returns "table.column (needle)" for each hit.
func personalDataScan(t *testing.T, e *apitest.Env, needles []string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := e.Server.App.DB.Pool.Query(ctx, `SELECT c.table_schema, c.table_name, c.column_name, c.data_type
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND t.table_type = 'BASE TABLE'
		  AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'USER-DEFINED', 'ARRAY', 'citext')
		       OR c.udt_name IN ('citext'))
		ORDER BY 1, 2, 3`)
	require.NoError(t, err)
	type column struct{ schema, table, name, typ string }
	var cols []column
	for rows.Next() {
		var c column
		require.NoError(t, rows.Scan(&c.schema, &c.table, &c.name, &c.typ))
		cols = append(cols, c)
	}
	require.NoError(t, rows.Err())
	require.Greater(t, len(cols), 30, "the scan sees the tables")
	var found []string
	for _, c := range cols {
		for _, n := range needles {
			var hit bool
			// bytea is read as its bytes' text (convert_from would fail on non-UTF-8 data).
			value := fmt.Sprintf("%q::text", c.name)
			if c.typ == "bytea" {
				value = fmt.Sprintf("encode(%q, 'escape')", c.name)
			}
			q := fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %q.%q WHERE strpos(lower(%s), lower($1)) > 0)`, c.schema, c.table, value)
			require.NoError(t, e.Server.App.DB.Pool.QueryRow(ctx, q, n).Scan(&hit), "%s.%s", c.table, c.name)
			if hit {
				found = append(found, fmt.Sprintf("%s.%s (%s)", c.table, c.name, n))
			}
		}
	}
	return found
}

// TestAccountDeleteRefusals: the last admin, a vendor's member and an account without a
// password cannot delete themselves (each with its code), and nothing is deleted.
func TestAccountDeleteRefusals(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	del := func(c *apitest.Client, password string) []string {
		return codes(profileMutate(t, c, deleteMutation, "accountDelete", map[string]any{"password": password}).UserErrors)
	}
	admin, _ := e.NewAdmin(t)
	adminEmail := me(t, admin).Email
	_, err := e.Server.App.DB.Pool.Exec(context.Background(), `UPDATE users SET role = 'CUSTOMER' WHERE role = 'ADMIN' AND email <> $1`, adminEmail)
	require.NoError(t, err)
	require.Equal(t, []string{"LAST_ADMIN:"}, del(admin, apitest.Password))

	seller, _ := e.RegisterVendor(t, "Refusing Goods "+uuid.NewString()[:6])
	require.Equal(t, []string{"VENDOR_MEMBER:"}, del(seller, apitest.Password))

	social := e.RegisterCustomer(t)
	_, err = e.Server.App.DB.Pool.Exec(context.Background(), `UPDATE users SET password_hash = '' WHERE email = $1`, me(t, social).Email)
	require.NoError(t, err)
	require.Equal(t, []string{"PASSWORD_NOT_SET:input.password"}, del(social, ""))
	require.Equal(t, "INVALID_CREDENTIALS", code(e.Anon(t).Login(me(t, social).Email, "")), "no password signs in")

	require.NotNil(t, me(t, admin))
	require.NotNil(t, me(t, seller))
	require.NotNil(t, me(t, social))
}

// accountSubjects are the subjects of the account emails (the embedded templates').
var accountSubjects = []string{"Confirm your email address", "Confirm your new email address",
	"Your shopgraph email address is being changed", "Reset your shopgraph password"}

// withoutAccountEmails leaves out the account emails (a registration through the API sends a
// verification link), for tests about other emails.
func withoutAccountEmails(t *testing.T, msgs []smtptest.Received) []smtptest.Received {
	t.Helper()
	return slices.DeleteFunc(msgs, func(m smtptest.Received) bool {
		subject, _, err := m.Parts()
		require.NoError(t, err)
		return slices.Contains(accountSubjects, subject)
	})
}
