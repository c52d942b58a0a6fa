package vendor_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
	"github.com/shopgraph/shopgraph/internal/vendor"
)

func (b bundle) vendorOf(t *testing.T, u tf.User) vendor.Vendor {
	t.Helper()
	vd, err := b.svc.Get(context.Background(), &b.admin, u.VendorID)
	require.NoError(t, err)
	return vd
}

func (b bundle) memberIDs(t *testing.T, vd vendor.Vendor) []int64 {
	t.Helper()
	users, err := b.svc.Members(context.Background(), &b.admin, vd)
	require.NoError(t, err)
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	return ids
}

func TestMemberAddByMemberAndAdmin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	owner := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	vd := b.vendorOf(t, owner)
	cust := tf.NewUser(t, b.d, tf.UserOpts{Email: "clerk@example.com"})
	admin2 := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleAdmin})

	_, added, err := b.svc.AddMember(ctx, owner.Viewer(), vd.ID, "  Clerk@Example.com ")
	require.NoError(t, err)
	require.Equal(t, cust.ID, added.ID)
	require.Equal(t, auth.RoleVendor, added.Role)
	require.Equal(t, vd.ID, *added.VendorID)

	_, added, err = b.svc.AddMember(ctx, b.admin, vd.ID, admin2.Email)
	require.NoError(t, err)
	require.Equal(t, auth.RoleAdmin, added.Role, "an admin keeps its role")
	require.ElementsMatch(t, []int64{owner.ID, cust.ID, admin2.ID}, b.memberIDs(t, vd))

	ev := b.events(t, vd)
	require.Equal(t, vendor.ActionMemberAdded, ev[len(ev)-2].Action)
	require.Equal(t, "Added clerk@example.com.", ev[len(ev)-2].Reason)
	require.Equal(t, owner.ID, *ev[len(ev)-2].ActorID)
	require.Equal(t, vendor.ActionMemberAdded, ev[len(ev)-1].Action)
	require.Equal(t, b.admin.UserID, *ev[len(ev)-1].ActorID)
}

func TestMemberAddRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	owner := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	vd := b.vendorOf(t, owner)
	other := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	cust := tf.NewUser(t, b.d, tf.UserOpts{})
	before := b.counts(t)
	roles := tf.Count(t, b.d, "users", "role = 'VENDOR'")

	cases := []struct {
		name  string
		v     auth.Viewer
		email string
		code  apperr.Code
	}{
		{"another vendor's member", other.Viewer(), cust.Email, apperr.NotFound},
		{"a customer", cust.Viewer(), cust.Email, apperr.NotFound},
		{"a vendor without a vendor", auth.Viewer{UserID: cust.ID, Role: auth.RoleVendor}, cust.Email, apperr.NotFound},
		{"member of another vendor, by a member: as unknown", owner.Viewer(), other.Email, apperr.NotFound},
		{"member of another vendor, by an admin", b.admin, other.Email, apperr.Duplicate},
		{"already a member", owner.Viewer(), owner.Email, apperr.Duplicate},
		{"unknown email", owner.Viewer(), "nobody@example.com", apperr.NotFound},
		{"empty email", owner.Viewer(), "  ", apperr.Invalid},
	}
	for _, c := range cases {
		_, _, err := b.svc.AddMember(ctx, c.v, vd.ID, c.email)
		require.Equal(t, c.code, codeOf(err), c.name)
	}
	_, _, err := b.svc.AddMember(ctx, b.admin, 999_999_999, cust.Email)
	require.Equal(t, apperr.NotFound, codeOf(err))
	require.Equal(t, []string{"input", "vendorId"}, fieldOf(err))

	require.Equal(t, before, b.counts(t), "refusals change nothing")
	require.Equal(t, roles, tf.Count(t, b.d, "users", "role = 'VENDOR'"))
	require.Equal(t, []int64{owner.ID}, b.memberIDs(t, vd))
}

func TestMemberRemove(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	owner := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	vd := b.vendorOf(t, owner)
	clerk := tf.NewUser(t, b.d, tf.UserOpts{})
	_, _, err := b.svc.AddMember(ctx, b.admin, vd.ID, clerk.Email)
	require.NoError(t, err)
	other := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	_, err = b.d.Pool.Exec(ctx, `INSERT INTO sessions (id, user_id, expires_at) VALUES (gen_random_uuid(), $1, now() + interval '1 day')`, clerk.ID)
	require.NoError(t, err)

	// Refusals change nothing.
	before := b.counts(t)
	_, _, err = b.svc.RemoveMember(ctx, other.Viewer(), vd.ID, clerk.ID)
	require.Equal(t, apperr.NotFound, codeOf(err), "another vendor's member")
	_, _, err = b.svc.RemoveMember(ctx, owner.Viewer(), vd.ID, other.ID)
	require.Equal(t, apperr.NotFound, codeOf(err), "not a member of this vendor")
	require.Equal(t, before, b.counts(t))

	_, removed, err := b.svc.RemoveMember(ctx, owner.Viewer(), vd.ID, clerk.ID)
	require.NoError(t, err)
	require.Equal(t, auth.RoleCustomer, removed.Role)
	require.Nil(t, removed.VendorID)
	require.Equal(t, []int64{owner.ID}, b.memberIDs(t, vd))
	require.Equal(t, 0, tf.Count(t, b.d, "sessions", "user_id = $1 AND revoked_at IS NULL", clerk.ID), "its sessions are revoked")
	ev := b.events(t, vd)
	require.Equal(t, vendor.ActionMemberRemoved, ev[len(ev)-1].Action)
	require.Equal(t, owner.ID, *ev[len(ev)-1].ActorID)

	// The last member: not by itself; an admin may.
	_, _, err = b.svc.RemoveMember(ctx, owner.Viewer(), vd.ID, owner.ID)
	require.Equal(t, apperr.Invalid, codeOf(err))
	require.Equal(t, []int64{owner.ID}, b.memberIDs(t, vd))
	_, removed, err = b.svc.RemoveMember(ctx, b.admin, vd.ID, owner.ID)
	require.NoError(t, err)
	require.Equal(t, auth.RoleCustomer, removed.Role)
	require.Empty(t, b.memberIDs(t, vd))
}

func TestMembersVisibility(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	owner := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	vd := b.vendorOf(t, owner)
	other := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor}).Viewer()
	cust := tf.NewUser(t, b.d, tf.UserOpts{}).Viewer()

	users, err := b.svc.Members(ctx, ptrTo(owner.Viewer()), vd)
	require.NoError(t, err)
	require.Len(t, users, 1)
	for _, v := range []*auth.Viewer{nil, &other, &cust} {
		_, err := b.svc.Members(ctx, v, vd)
		require.Equal(t, apperr.Forbidden, codeOf(err))
	}
}

func ptrTo[T any](v T) *T { return &v }
