// This file is the test environment: a server with an admin, and the users of each role the
// tests need, made fast (inserted with minted tokens) or the way a shop makes them (through the
// API).

package apitest

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/vendor"
)

// Env is a server with an admin, and the factories of the fixtures: users inserted directly
// with minted access tokens, products created through the catalog service.
type Env struct {
	Server  *Server
	Admin   *Client
	AdminID int64
	// passwordHash is a real argon2 hash (of Password), computed once per server.
	hashOnce     sync.Once
	passwordHash string
}

// EnvOptions are NewEnv's choices; the zero value is a server on the in-process cache with
// an admin holding a minted token.
type EnvOptions struct {
	// Env is set on top of the test server's defaults.
	Env map[string]string
	// Gateway replaces stripe-mock (nil: stripe-mock).
	Gateway payment.Gateway
	// Redis runs the server on the Redis that `make test` found, if any, so that the shared
	// cache and its invalidation are exercised too.
	Redis bool
	// AdminSignsIn makes the admin through the account service and signs it in through the
	// API (a real session), rather than inserting it with a minted token.
	AdminSignsIn bool
}

// NewEnv starts a server and makes its admin.
func NewEnv(t *testing.T, opts EnvOptions) *Env {
	t.Helper()
	vars := map[string]string{}
	if opts.Redis {
		if u := RedisURL(t); u != "" {
			vars["REDIS_URL"] = u
		}
	}
	for k, v := range opts.Env {
		vars[k] = v
	}
	e := &Env{Server: NewServerWithGateway(t, vars, opts.Gateway)}
	if opts.AdminSignsIn {
		u, err := e.Server.App.Accounts.EnsureAdmin(context.Background(), UniqueEmail(), Password)
		require.NoError(t, err)
		admin := e.Server.Client(t)
		s := admin.Login(u.Email, Password)
		require.Empty(t, s.UserErrors)
		admin.Bearer = s.Tokens.AccessToken
		e.Admin, e.AdminID = admin, u.ID
		return e
	}
	e.AdminID = e.InsertUsers(t, auth.RoleAdmin, 1)[0]
	e.Admin = e.ClientFor(t, e.AdminID, auth.RoleAdmin)
	return e
}

// EnvOn is an environment on a server already started, with an admin of its own.
func EnvOn(t *testing.T, srv *Server) *Env {
	t.Helper()
	e := &Env{Server: srv}
	e.AdminID = e.InsertUsers(t, auth.RoleAdmin, 1)[0]
	e.Admin = e.ClientFor(t, e.AdminID, auth.RoleAdmin)
	return e
}

func (e *Env) hash(t *testing.T) string {
	t.Helper()
	e.hashOnce.Do(func() {
		s, err := e.Server.App.Accounts.Register(context.Background(),
			account.RegisterInput{Email: UniqueEmail(), Password: Password}, account.ClientMeta{})
		require.NoError(t, err)
		require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(),
			`SELECT password_hash FROM users WHERE id = $1`, s.User.ID).Scan(&e.passwordHash))
	})
	require.NotEmpty(t, e.passwordHash)
	return e.passwordHash
}

// UserOptions describe users to insert.
type UserOptions struct {
	// Role is the users' role (default CUSTOMER).
	Role auth.Role
	// N is how many (default 1).
	N int
}

// Users inserts users with the password Password, in one statement (argon2 per user would
// take ~50 ms each on two cores), and returns their ids.
func (e *Env) Users(t *testing.T, opts UserOptions) []int64 {
	t.Helper()
	if opts.Role == "" {
		opts.Role = auth.RoleCustomer
	}
	if opts.N == 0 {
		opts.N = 1
	}
	prefix := "u-" + uuid.NewString()[:8]
	rows, err := e.Server.App.DB.Pool.Query(context.Background(), `
		INSERT INTO users (email, password_hash, role)
		SELECT $1 || '-' || g || '@example.com', $2, $3::user_role FROM generate_series(1, $4::int) g
		RETURNING id`, prefix, e.hash(t), string(opts.Role), opts.N)
	require.NoError(t, err)
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	require.Len(t, ids, opts.N)
	return ids
}

// InsertUsers is Users of role, n of them.
func (e *Env) InsertUsers(t *testing.T, role auth.Role, n int) []int64 {
	t.Helper()
	return e.Users(t, UserOptions{Role: role, N: n})
}

// ClientFor is a client carrying a freshly minted access token of user id, with its vendor
// membership as stored.
func (e *Env) ClientFor(t *testing.T, id int64, role auth.Role) *Client {
	t.Helper()
	var vendorID *int64
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(), `SELECT vendor_id FROM users WHERE id = $1`, id).Scan(&vendorID))
	v := auth.Viewer{UserID: id, Role: role, SessionID: uuid.New()}
	if vendorID != nil {
		v.VendorID = *vendorID
	}
	tok, _, err := e.Server.App.Tokens.Issue(v)
	require.NoError(t, err)
	c := e.Server.Client(t)
	c.Bearer = tok
	return c
}

// Customer is a new CUSTOMER's client and id.
func (e *Env) Customer(t *testing.T) (*Client, int64) {
	t.Helper()
	id := e.InsertUsers(t, auth.RoleCustomer, 1)[0]
	return e.ClientFor(t, id, auth.RoleCustomer), id
}

// Vendor is a new ACTIVE vendor's id and the client of its one member, a new VENDOR account
// (whose user id is not the vendor's).
func (e *Env) Vendor(t *testing.T) (*Client, int64) {
	t.Helper()
	id := e.InsertUsers(t, auth.RoleVendor, 1)[0]
	vd := e.NewVendor(t, "Vendor "+uuid.NewString()[:8], id)
	return e.ClientFor(t, id, auth.RoleVendor), vd.ID
}

// NewVendor creates an ACTIVE vendor through the vendor service, with memberID (0: none) as
// its member with the VENDOR role (fast fixtures).
func (e *Env) NewVendor(t *testing.T, name string, memberID int64) vendor.Vendor {
	t.Helper()
	in := vendor.CreateInput{
		Profile: vendor.Profile{Name: name, ContactEmail: UniqueEmail()},
		Slug:    UniqueSlug("vendor"),
	}
	if memberID != 0 {
		in.MemberID = &memberID
	}
	vd, err := e.Server.App.Vendors.Create(context.Background(), e.AdminViewer(), in)
	require.NoError(t, err)
	return vd
}

// NewAdmin is another ADMIN's client and id (Admin is the environment's own).
func (e *Env) NewAdmin(t *testing.T) (*Client, int64) {
	t.Helper()
	id := e.InsertUsers(t, auth.RoleAdmin, 1)[0]
	return e.ClientFor(t, id, auth.RoleAdmin), id
}

// Anon is a client without credentials.
func (e *Env) Anon(t *testing.T) *Client { return e.Server.Client(t) }

// RegisterCustomer registers a CUSTOMER through the API and returns its signed-in client.
func (e *Env) RegisterCustomer(t *testing.T) *Client {
	t.Helper()
	c := e.Server.Client(t)
	p := c.Register(UniqueEmail(), Password)
	require.Empty(t, p.UserErrors)
	c.Bearer = p.Tokens.AccessToken
	return c
}

// vendorCreateMutation is vendorCreate.
const vendorCreateMutation = `mutation V($input: VendorCreateInput!) { vendorCreate(input: $input) { vendor { id } userErrors { field message code } } }`

// RegisterVendor makes a vendor the way a shop does: the seller registers, an admin creates
// its vendor with the seller as member (which gives it the VENDOR role), and the seller signs
// in again to get a token carrying the new role and vendor. The User's VendorID is the
// vendor's global ID.
func (e *Env) RegisterVendor(t *testing.T, name string) (*Client, User) {
	t.Helper()
	email := UniqueEmail()
	var reg struct {
		P Session `json:"accountRegister"`
	}
	e.Server.Client(t).Do(RegisterMutation, map[string]any{"input": map[string]any{
		"email": email, "password": Password, "name": name,
	}}).Decode(t, &reg)
	require.Empty(t, reg.P.UserErrors)
	var upd struct {
		P struct {
			Vendor *struct {
				ID string `json:"id"`
			} `json:"vendor"`
			UserErrors []UserError `json:"userErrors"`
		} `json:"vendorCreate"`
	}
	e.Admin.As(t).Do(vendorCreateMutation, map[string]any{"input": map[string]any{
		"name": name, "contactEmail": email, "slug": UniqueSlug("vendor"), "memberId": reg.P.User.ID,
	}}).Decode(t, &upd)
	require.NotNil(t, upd.P.UserErrors, "userErrors is never null")
	require.Empty(t, upd.P.UserErrors)
	require.NotNil(t, upd.P.Vendor)
	c := e.Server.Client(t)
	s := c.Login(email, Password)
	require.Empty(t, s.UserErrors)
	require.Equal(t, "VENDOR", s.User.Role)
	c.Bearer = s.Tokens.AccessToken
	u := *reg.P.User
	u.Role = "VENDOR"
	u.VendorID = upd.P.Vendor.ID
	return c, u
}

// AdminViewer is the admin, for calling services directly (fast fixtures).
func (e *Env) AdminViewer() auth.Viewer {
	return auth.Viewer{UserID: e.AdminID, Role: auth.RoleAdmin}
}

// DirectVendor creates a vendor named name with a member account through the services,
// skipping HTTP (fast fixtures).
func (e *Env) DirectVendor(t *testing.T, name string) vendor.Vendor {
	t.Helper()
	ctx := context.Background()
	s, err := e.Server.App.Accounts.Register(ctx, account.RegisterInput{Email: UniqueEmail(), Password: Password, Name: name}, account.ClientMeta{})
	require.NoError(t, err)
	return e.NewVendor(t, name, s.User.ID)
}
