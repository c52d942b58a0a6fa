package graph_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
)

// A vendor's members: vendorMemberAdd, vendorMemberRemove, Vendor.members, who may do what,
// the history, and what a removal does to the removed account's tokens.

const (
	memberPayloadFields = `vendor { id } user { id email role } userErrors { field message code }`
	vendorMemberAddMut  = `mutation MA($input: VendorMemberAddInput!) { vendorMemberAdd(input: $input) { ` + memberPayloadFields + ` } }`
	vendorMemberRmMut   = `mutation MR($input: VendorMemberRemoveInput!) { vendorMemberRemove(input: $input) { ` + memberPayloadFields + ` } }`
	vendorMembersQuery  = `query M($id: ID!) { vendor(id: $id) { id members { id email role } } }`
)

type memberPayloadView struct {
	Vendor *struct {
		ID string `json:"id"`
	} `json:"vendor"`
	User       *apitest.User       `json:"user"`
	UserErrors []apitest.UserError `json:"userErrors"`
}

func memberMutate(t *testing.T, c *apitest.Client, query, field string, input map[string]any) memberPayloadView {
	t.Helper()
	var out map[string]memberPayloadView
	c.As(t).Do(query, map[string]any{"input": input}).Decode(t, &out)
	p := out[field]
	require.NotNil(t, p.UserErrors, "userErrors is never null")
	if len(p.UserErrors) > 0 {
		require.Nil(t, p.Vendor)
		require.Nil(t, p.User)
	} else {
		require.NotNil(t, p.Vendor)
		require.NotNil(t, p.User)
	}
	return p
}

// membersAs is Vendor.members as c reads it (nil when null) and the errors' codes.
func membersAs(t *testing.T, c *apitest.Client, vendorID string) ([]string, []string) {
	t.Helper()
	r := c.As(t).Do(vendorMembersQuery, map[string]any{"id": vendorID})
	var out struct {
		Vendor *struct {
			Members []apitest.User `json:"members"`
		} `json:"vendor"`
	}
	require.NoError(t, json.Unmarshal(r.Data, &out))
	require.NotNil(t, out.Vendor)
	if out.Vendor.Members == nil {
		return nil, errorCodes(r)
	}
	emails := make([]string, len(out.Vendor.Members))
	for i, m := range out.Vendor.Members {
		emails[i] = m.Email
	}
	return emails, errorCodes(r)
}

// signedIn registers a customer and returns its client and session (with its refresh token).
func signedIn(t *testing.T, e *apitest.Env) (*apitest.Client, apitest.Session) {
	t.Helper()
	c := e.Server.Client(t)
	s := c.Register(apitest.UniqueEmail(), apitest.Password)
	require.Empty(t, s.UserErrors)
	c.Bearer = s.Tokens.AccessToken
	return c, s
}

func TestVendorMembersAPI(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	owner, ownerU := e.RegisterVendor(t, "Members & Co")
	vid := ownerU.VendorID
	other, otherU := e.RegisterVendor(t, "Other Shop")
	clerk, clerkS := signedIn(t, e)
	cust, custS := signedIn(t, e)
	product := createProduct(t, owner, productIn("Members' Chair"))

	history := func() []string {
		t.Helper()
		p, codes := vendorPrivate(t, owner, vid)
		require.Empty(t, codes)
		return historyActions(p.History)
	}

	t.Run("refusals change nothing", func(t *testing.T) {
		before := history()
		cases := []struct {
			name  string
			c     *apitest.Client
			email string
			want  string
		}{
			{"another vendor's member", other, clerkS.User.Email, "NOT_FOUND:input.vendorId"},
			{"a customer", cust, clerkS.User.Email, "NOT_FOUND:input.vendorId"},
			{"a member of another vendor, by a member: as an unknown email", owner, otherU.Email, "NOT_FOUND:input.email"},
			{"a member of another vendor, by an admin", e.Admin, otherU.Email, "DUPLICATE:input.email"},
			{"already a member", owner, ownerU.Email, "DUPLICATE:input.email"},
			{"an unknown email", owner, "nobody-" + apitest.UniqueEmail(), "NOT_FOUND:input.email"},
		}
		for _, c := range cases {
			p := memberMutate(t, c.c, vendorMemberAddMut, "vendorMemberAdd", map[string]any{"vendorId": vid, "email": c.email})
			require.Equal(t, []string{c.want}, vendorCodes(p.UserErrors), c.name)
		}
		p := memberMutate(t, other, vendorMemberRmMut, "vendorMemberRemove", map[string]any{"vendorId": vid, "userId": ownerU.ID})
		require.Equal(t, []string{"NOT_FOUND:input.vendorId"}, vendorCodes(p.UserErrors))
		p = memberMutate(t, owner, vendorMemberRmMut, "vendorMemberRemove", map[string]any{"vendorId": vid, "userId": ownerU.ID})
		require.Equal(t, []string{"INVALID:input.userId"}, vendorCodes(p.UserErrors), "a member cannot remove the last member")

		members, codes := membersAs(t, owner, vid)
		require.Empty(t, codes)
		require.Equal(t, []string{ownerU.Email}, members)
		require.Equal(t, before, history())
		require.Equal(t, "CUSTOMER", clerk.Me().Role)
	})

	t.Run("members and admins add accounts", func(t *testing.T) {
		p := memberMutate(t, owner, vendorMemberAddMut, "vendorMemberAdd", map[string]any{"vendorId": vid, "email": clerkS.User.Email})
		require.Empty(t, p.UserErrors)
		require.Equal(t, vid, p.Vendor.ID)
		require.Equal(t, "VENDOR", p.User.Role)
		p = memberMutate(t, e.Admin, vendorMemberAddMut, "vendorMemberAdd", map[string]any{"vendorId": vid, "email": custS.User.Email})
		require.Empty(t, p.UserErrors)

		members, codes := membersAs(t, owner, vid)
		require.Empty(t, codes)
		require.Equal(t, []string{ownerU.Email, clerkS.User.Email, custS.User.Email}, members)
		members, _ = membersAs(t, e.Admin, vid)
		require.Len(t, members, 3)
		members, codes = membersAs(t, other, vid)
		require.Nil(t, members, "another vendor does not see the members")
		require.Equal(t, []string{"FORBIDDEN"}, codes)
		members, codes = membersAs(t, e.Anon(t), vid)
		require.Nil(t, members)
		require.Equal(t, []string{"FORBIDDEN"}, codes)

		h := history()
		require.Equal(t, "MEMBER_ADDED/ACTIVE/Added "+clerkS.User.Email+".", h[len(h)-2])
		require.Equal(t, "MEMBER_ADDED/ACTIVE/Added "+custS.User.Email+".", h[len(h)-1])
	})

	var clerkRefresh string
	t.Run("an added member acts for the vendor after a refresh", func(t *testing.T) {
		s := clerk.Refresh(clerkS.Tokens.RefreshToken)
		require.Empty(t, s.UserErrors)
		clerk.Bearer, clerkRefresh = s.Tokens.AccessToken, s.Tokens.RefreshToken
		require.Equal(t, "VENDOR", clerk.Me().Role)
		up := mutate(t, clerk, productUpdateMutation, map[string]any{"id": product.ID, "name": "Clerk's Chair"})
		require.Empty(t, up.UserErrors)
		require.Equal(t, "Clerk's Chair", up.Product.Name)
	})

	t.Run("a removed member no longer acts for the vendor", func(t *testing.T) {
		p := memberMutate(t, owner, vendorMemberRmMut, "vendorMemberRemove", map[string]any{"vendorId": vid, "userId": clerkS.User.ID})
		require.Empty(t, p.UserErrors)
		require.Equal(t, "CUSTOMER", p.User.Role)
		h := history()
		require.Equal(t, "MEMBER_REMOVED/ACTIVE/Removed "+clerkS.User.Email+".", h[len(h)-1])
		members, _ := membersAs(t, owner, vid)
		require.Equal(t, []string{ownerU.Email, custS.User.Email}, members)

		// Its sessions are revoked: no refresh; signing in again gives a customer's token.
		s := e.Server.Client(t).Refresh(clerkRefresh)
		require.Equal(t, []string{"INVALID_TOKEN:input.refreshToken"}, vendorCodes(s.UserErrors))
		signInAgain(t, e, clerk, clerkS.User.Email)
		require.Equal(t, "CUSTOMER", clerk.Me().Role)
		r := clerk.As(t).Do(productUpdateMutation, map[string]any{"input": map[string]any{"id": product.ID, "name": "Stolen Chair"}})
		require.Equal(t, []string{"FORBIDDEN"}, errorCodes(r))
		require.Equal(t, "Clerk's Chair", mutate(t, owner, productUpdateMutation, map[string]any{"id": product.ID}).Product.Name, "unchanged")
		members, codes := membersAs(t, clerk, vid)
		require.Nil(t, members)
		require.Equal(t, []string{"FORBIDDEN"}, codes)
	})

	t.Run("an admin removes the last member", func(t *testing.T) {
		for _, id := range []string{custS.User.ID, ownerU.ID} {
			p := memberMutate(t, e.Admin, vendorMemberRmMut, "vendorMemberRemove", map[string]any{"vendorId": vid, "userId": id})
			require.Empty(t, p.UserErrors)
		}
		members, _ := membersAs(t, e.Admin, vid)
		require.Empty(t, members)
		require.NotNil(t, members, "an empty list, not null")
	})
}
