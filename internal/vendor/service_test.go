package vendor_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
	"github.com/shopgraph/shopgraph/internal/vendor"
)

type bundle struct {
	d       *postgres.DB
	svc     *vendor.Service
	catalog *catalog.Service
	admin   auth.Viewer
}

// setup builds the vendor service over the catalog service with an in-process cache, as
// production runs them, so that a status change is seen to invalidate cached products.
func setup(t *testing.T) bundle {
	t.Helper()
	d := pgtest.New(t, postgres.Options{MaxConns: 4})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat := catalog.NewService(d, cache.New(cache.NewMemory(1000)), log)
	return bundle{d: d, svc: vendor.NewService(d, cat, log), catalog: cat, admin: tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleAdmin}).Viewer()}
}

// codeOf is the error's code (the first one of a list), "" for none.
func codeOf(err error) apperr.Code {
	var list apperr.List
	if errors.As(err, &list) && len(list) > 0 {
		return list[0].Code
	}
	if err == nil {
		return ""
	}
	return apperr.CodeOf(err)
}

// fieldOf is the field of the error (the first one of a list).
func fieldOf(err error) []string {
	var list apperr.List
	if errors.As(err, &list) && len(list) > 0 {
		return list[0].Field
	}
	if e := apperr.As(err); e != nil {
		return e.Field
	}
	return nil
}

func applyIn(name string) vendor.ApplyInput {
	return vendor.ApplyInput{Profile: vendor.Profile{Name: name, ContactEmail: "Sales@Example.com "}}
}

func (b bundle) counts(t *testing.T) [3]int {
	return [3]int{tf.Count(t, b.d, "vendors", ""), tf.Count(t, b.d, "vendor_events", ""), tf.Count(t, b.d, "users", "vendor_id IS NOT NULL")}
}

func (b bundle) events(t *testing.T, vd vendor.Vendor) []vendor.Event {
	t.Helper()
	ev, err := b.svc.History(context.Background(), &b.admin, vd)
	require.NoError(t, err)
	return ev
}

func TestApplyAndApprove(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	applicant := tf.NewUser(t, b.d, tf.UserOpts{})

	vd, err := b.svc.Apply(ctx, applicant.Viewer(), applyIn("  Maple & Oak  "))
	require.NoError(t, err)
	require.Equal(t, vendor.Pending, vd.Status)
	require.Equal(t, "Maple & Oak", vd.Name)
	require.Equal(t, "maple-oak", vd.Slug, "the slug derives from the name")
	require.Equal(t, "sales@example.com", vd.ContactEmail)
	require.Equal(t, vendor.DefaultCommissionBps, vd.CommissionBps)
	require.Equal(t, &applicant.ID, vd.ApplicantID)

	t.Run("one pending application per account", func(t *testing.T) {
		before := b.counts(t)
		_, err := b.svc.Apply(ctx, applicant.Viewer(), applyIn("Second Shop"))
		require.Equal(t, apperr.Duplicate, codeOf(err))
		require.Equal(t, before, b.counts(t))
	})

	t.Run("the applicant sees its pending vendor; others do not", func(t *testing.T) {
		av := applicant.Viewer()
		_, err := b.svc.Get(ctx, &av, vd.ID)
		require.NoError(t, err)
		stranger := tf.NewUser(t, b.d, tf.UserOpts{}).Viewer()
		_, err = b.svc.Get(ctx, &stranger, vd.ID)
		require.Equal(t, apperr.NotFound, codeOf(err))
		_, err = b.svc.Get(ctx, nil, vd.ID)
		require.Equal(t, apperr.NotFound, codeOf(err))
		_, err = b.svc.GetBySlug(ctx, nil, vd.Slug)
		require.Equal(t, apperr.NotFound, codeOf(err))
	})

	t.Run("approval makes the applicant a VENDOR member", func(t *testing.T) {
		approved, err := b.svc.Decide(ctx, b.admin, vendor.Approve, vd.ID, "Looks good.")
		require.NoError(t, err)
		require.Equal(t, vendor.Active, approved.Status)
		var role string
		var member *int64
		require.NoError(t, b.d.Pool.QueryRow(ctx, `SELECT role::text, vendor_id FROM users WHERE id = $1`, applicant.ID).Scan(&role, &member))
		require.Equal(t, "VENDOR", role)
		require.Equal(t, &vd.ID, member)
		ev := b.events(t, approved)
		require.Len(t, ev, 2)
		require.Equal(t, vendor.ActionApplied, ev[0].Action)
		require.Equal(t, &applicant.ID, ev[0].ActorID)
		require.Equal(t, vendor.ActionApproved, ev[1].Action)
		require.Equal(t, "Looks good.", ev[1].Reason)
		require.Equal(t, &b.admin.UserID, ev[1].ActorID)
		_, err = b.svc.GetBySlug(ctx, nil, vd.Slug)
		require.NoError(t, err, "an ACTIVE vendor is public")
	})

	t.Run("a member cannot apply again", func(t *testing.T) {
		v := applicant.Viewer()
		v.Role, v.VendorID = auth.RoleVendor, vd.ID
		_, err := b.svc.Apply(ctx, v, applyIn("Third Shop"))
		require.Equal(t, apperr.Forbidden, codeOf(err))
		// Even with a token from before the approval (no vendor in it).
		_, err = b.svc.Apply(ctx, applicant.Viewer(), applyIn("Fourth Shop"))
		require.Equal(t, apperr.Forbidden, codeOf(err))
	})
}

func TestApproveKeepsAnAdminsRole(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	other := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleAdmin})
	vd, err := b.svc.Create(ctx, b.admin, vendor.CreateInput{
		Profile: vendor.Profile{Name: "Admin's Shop", ContactEmail: "a@example.com"}, MemberID: &other.ID,
	})
	require.NoError(t, err)
	var role string
	require.NoError(t, b.d.Pool.QueryRow(ctx, `SELECT role::text FROM users WHERE id = $1`, other.ID).Scan(&role))
	require.Equal(t, "ADMIN", role)
	require.Equal(t, vendor.Active, vd.Status)
}

func TestApplyRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	customer := tf.NewUser(t, b.d, tf.UserOpts{}).Viewer()
	taken, err := b.svc.Apply(ctx, tf.NewUser(t, b.d, tf.UserOpts{}).Viewer(), applyIn("Taken Name"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		v     auth.Viewer
		in    vendor.ApplyInput
		code  apperr.Code
		field []string
	}{
		{"an admin", b.admin, applyIn("Admin Shop"), apperr.Forbidden, nil},
		{"a vendor's member", tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor}).Viewer(), applyIn("Member Shop"), apperr.Forbidden, nil},
		{"an empty name", customer, applyIn("   "), apperr.Invalid, []string{"input", "name"}},
		{"a bad email", customer, vendor.ApplyInput{Profile: vendor.Profile{Name: "Shop", ContactEmail: "nope"}}, apperr.Invalid, []string{"input", "contactEmail"}},
		{"a bad logo", customer, vendor.ApplyInput{Profile: vendor.Profile{Name: "Shop", ContactEmail: "a@b.co", LogoURL: ptr("ftp://x")}}, apperr.Invalid, []string{"input", "logoUrl"}},
		{"a bad slug", customer, vendor.ApplyInput{Profile: vendor.Profile{Name: "Shop", ContactEmail: "a@b.co"}, Slug: "Not A Slug"}, apperr.Invalid, []string{"input", "slug"}},
		{"a taken slug", customer, vendor.ApplyInput{Profile: vendor.Profile{Name: "Shop", ContactEmail: "a@b.co"}, Slug: taken.Slug}, apperr.Duplicate, []string{"input", "slug"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.counts(t)
			_, err := b.svc.Apply(ctx, tc.v, tc.in)
			require.Equal(t, tc.code, codeOf(err))
			if tc.field != nil {
				require.Equal(t, tc.field, fieldOf(err))
			}
			require.Equal(t, before, b.counts(t), "a refused application changes nothing")
		})
	}
}

func TestDecisions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	member := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	vd, err := b.svc.Get(ctx, &b.admin, member.VendorID)
	require.NoError(t, err)
	product := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &vd.ID})
	customer := tf.NewUser(t, b.d, tf.UserOpts{}).Viewer()
	visible := func(v *auth.Viewer) bool {
		t.Helper()
		_, err := b.catalog.Get(ctx, v, product.ID)
		if apperr.Is(err, apperr.NotFound) {
			return false
		}
		require.NoError(t, err)
		return true
	}
	listed := func(v *auth.Viewer) int {
		t.Helper()
		n, err := b.catalog.Count(ctx, v, catalog.Filter{VendorID: &vd.ID})
		require.NoError(t, err)
		return n
	}
	// Cache the product and the customers' count, as a busy shop would have.
	require.True(t, visible(nil))
	require.Equal(t, 1, listed(nil))

	t.Run("only valid moves; others are INVALID_TRANSITION and change nothing", func(t *testing.T) {
		for _, d := range []vendor.Decision{vendor.Approve, vendor.Reject, vendor.Reinstate} {
			before := b.counts(t)
			_, err := b.svc.Decide(ctx, b.admin, d, vd.ID, "why not")
			require.Equal(t, apperr.InvalidTransition, codeOf(err), d.Action)
			require.Equal(t, before, b.counts(t))
		}
	})

	t.Run("suspension needs a reason", func(t *testing.T) {
		_, err := b.svc.Decide(ctx, b.admin, vendor.Suspend, vd.ID, "  ")
		require.Equal(t, apperr.Invalid, codeOf(err))
		require.Equal(t, []string{"input", "reason"}, fieldOf(err))
	})

	t.Run("only admins decide", func(t *testing.T) {
		_, err := b.svc.Decide(ctx, member.Viewer(), vendor.Suspend, vd.ID, "self")
		require.Equal(t, apperr.Forbidden, codeOf(err))
		_, err = b.svc.Decide(ctx, b.admin, vendor.Suspend, 1<<40, "gone")
		require.Equal(t, apperr.NotFound, codeOf(err))
	})

	t.Run("suspension hides the products from customers at once, not from the vendor or admins", func(t *testing.T) {
		s, err := b.svc.Decide(ctx, b.admin, vendor.Suspend, vd.ID, "Unpaid fees.")
		require.NoError(t, err)
		require.Equal(t, vendor.Suspended, s.Status)
		require.False(t, visible(nil), "the cached product is dropped")
		require.False(t, visible(&customer))
		require.Zero(t, listed(nil), "the cached count is dropped")
		mv := member.Viewer()
		require.True(t, visible(&mv))
		require.Equal(t, 1, listed(&mv))
		require.True(t, visible(&b.admin))
		_, err = b.svc.Get(ctx, nil, vd.ID)
		require.Equal(t, apperr.NotFound, codeOf(err), "a suspended vendor is not public")
		_, err = b.svc.Get(ctx, &mv, vd.ID)
		require.NoError(t, err, "its members still see it")
	})

	t.Run("suspending twice is INVALID_TRANSITION", func(t *testing.T) {
		_, err := b.svc.Decide(ctx, b.admin, vendor.Suspend, vd.ID, "again")
		require.Equal(t, apperr.InvalidTransition, codeOf(err))
	})

	t.Run("a product an admin creates for a suspended vendor is hidden too", func(t *testing.T) {
		p, err := b.catalog.Create(ctx, b.admin, catalog.CreateInput{
			Name: "Late Product", Currency: "USD", VendorID: &vd.ID, Variants: []catalog.VariantInput{{SKU: "LATE-1", Price: 100, Stock: 1}},
		})
		require.NoError(t, err)
		require.False(t, p.VendorActive)
		_, err = b.catalog.Get(ctx, &customer, p.ID)
		require.Equal(t, apperr.NotFound, codeOf(err))
	})

	t.Run("reinstatement brings them back", func(t *testing.T) {
		r, err := b.svc.Decide(ctx, b.admin, vendor.Reinstate, vd.ID, "")
		require.NoError(t, err)
		require.Equal(t, vendor.Active, r.Status)
		require.True(t, visible(nil))
		require.Equal(t, 2, listed(nil))
		ev := b.events(t, r)
		var actions []vendor.Action
		var reasons []string
		for _, e := range ev {
			actions = append(actions, e.Action)
			reasons = append(reasons, e.Reason)
		}
		require.Equal(t, []vendor.Action{vendor.ActionSuspended, vendor.ActionReinstated}, actions)
		require.Equal(t, "Unpaid fees.", reasons[len(reasons)-2])
	})
}

func TestReject(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	applicant := tf.NewUser(t, b.d, tf.UserOpts{})
	vd, err := b.svc.Apply(ctx, applicant.Viewer(), applyIn("Dubious Deals"))
	require.NoError(t, err)
	_, err = b.svc.Decide(ctx, b.admin, vendor.Reject, vd.ID, "")
	require.Equal(t, apperr.Invalid, codeOf(err), "a rejection needs a reason")
	r, err := b.svc.Decide(ctx, b.admin, vendor.Reject, vd.ID, "Incomplete documents.")
	require.NoError(t, err)
	require.Equal(t, vendor.Rejected, r.Status)
	var member *int64
	require.NoError(t, b.d.Pool.QueryRow(ctx, `SELECT vendor_id FROM users WHERE id = $1`, applicant.ID).Scan(&member))
	require.Nil(t, member, "a rejected applicant is no member")
	for _, d := range []vendor.Decision{vendor.Approve, vendor.Suspend, vendor.Reinstate, vendor.Reject} {
		_, err := b.svc.Decide(ctx, b.admin, d, vd.ID, "late")
		require.Equal(t, apperr.InvalidTransition, codeOf(err), d.Action)
	}
	// The applicant may apply again.
	_, err = b.svc.Apply(ctx, applicant.Viewer(), vendor.ApplyInput{Profile: vendor.Profile{Name: "Dubious Deals", ContactEmail: "a@b.co"}, Slug: "dubious-deals-2"})
	require.NoError(t, err)
}

func TestCreateAndUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	account := tf.NewUser(t, b.d, tf.UserOpts{})
	vd, err := b.svc.Create(ctx, b.admin, vendor.CreateInput{
		Profile: vendor.Profile{Name: "Direct Goods", ContactEmail: "d@example.com"}, CommissionBps: ptr(1500), MemberID: &account.ID, Reason: "Partner.",
	})
	require.NoError(t, err)
	require.Equal(t, vendor.Active, vd.Status)
	require.Equal(t, 1500, vd.CommissionBps)
	member := account.Viewer()
	member.Role, member.VendorID = auth.RoleVendor, vd.ID

	t.Run("create refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			v    auth.Viewer
			in   vendor.CreateInput
			code apperr.Code
		}{
			{"not an admin", member, vendor.CreateInput{Profile: vendor.Profile{Name: "X", ContactEmail: "x@y.co"}}, apperr.Forbidden},
			{"a commission out of range", b.admin, vendor.CreateInput{Profile: vendor.Profile{Name: "X", ContactEmail: "x@y.co"}, CommissionBps: ptr(10001)}, apperr.Invalid},
			{"a missing member", b.admin, vendor.CreateInput{Profile: vendor.Profile{Name: "X", ContactEmail: "x@y.co"}, MemberID: ptr(int64(1 << 40))}, apperr.NotFound},
			{"a member of another vendor", b.admin, vendor.CreateInput{Profile: vendor.Profile{Name: "X", ContactEmail: "x@y.co"}, MemberID: &account.ID}, apperr.Invalid},
		} {
			before := b.counts(t)
			_, err := b.svc.Create(ctx, tc.v, tc.in)
			require.Equal(t, tc.code, codeOf(err), tc.name)
			require.Equal(t, before, b.counts(t), tc.name)
		}
	})

	t.Run("a member edits its profile, not the commission", func(t *testing.T) {
		u, err := b.svc.Update(ctx, member, vendor.UpdateInput{ID: vd.ID, Name: ptr("Direct Goods Co"), LogoURL: ptr("https://img.example.com/l.png"), Description: ptr("We sell.")})
		require.NoError(t, err)
		require.Equal(t, "Direct Goods Co", u.Name)
		require.Equal(t, "We sell.", u.Description)
		require.Equal(t, ptr("https://img.example.com/l.png"), u.LogoURL)
		require.Equal(t, vd.Slug, u.Slug, "the slug never changes")
		_, err = b.svc.Update(ctx, member, vendor.UpdateInput{ID: vd.ID, CommissionBps: ptr(0)})
		require.Equal(t, apperr.Forbidden, codeOf(err))
		u, err = b.svc.Update(ctx, member, vendor.UpdateInput{ID: vd.ID, LogoURL: ptr("")})
		require.NoError(t, err)
		require.Nil(t, u.LogoURL, "an empty logo URL removes it")
	})

	t.Run("an admin sets the commission", func(t *testing.T) {
		u, err := b.svc.Update(ctx, b.admin, vendor.UpdateInput{ID: vd.ID, CommissionBps: ptr(250)})
		require.NoError(t, err)
		require.Equal(t, 250, u.CommissionBps)
	})

	t.Run("another vendor's member is told NOT_FOUND and changes nothing", func(t *testing.T) {
		rival := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor}).Viewer()
		_, err := b.svc.Update(ctx, rival, vendor.UpdateInput{ID: vd.ID, Name: ptr("Hijacked")})
		require.Equal(t, apperr.NotFound, codeOf(err))
		got, err := b.svc.Get(ctx, nil, vd.ID)
		require.NoError(t, err)
		require.Equal(t, "Direct Goods Co", got.Name)
		// A VENDOR account of no vendor, whatever its user id, is no member.
		_, err = b.svc.Update(ctx, auth.Viewer{UserID: account.ID, Role: auth.RoleVendor}, vendor.UpdateInput{ID: vd.ID, Name: ptr("Hijacked")})
		require.Equal(t, apperr.NotFound, codeOf(err))
	})

	t.Run("bad input is INVALID", func(t *testing.T) {
		_, err := b.svc.Update(ctx, member, vendor.UpdateInput{ID: vd.ID, Name: ptr(""), ContactEmail: ptr("bad")})
		require.Equal(t, apperr.Invalid, codeOf(err))
	})

	t.Run("private fields for members and admins only", func(t *testing.T) {
		got, err := b.svc.Get(ctx, nil, vd.ID)
		require.NoError(t, err)
		_, _, err = b.svc.Private(nil, got)
		require.Equal(t, apperr.Forbidden, codeOf(err))
		cust := tf.NewUser(t, b.d, tf.UserOpts{}).Viewer()
		_, _, err = b.svc.Private(&cust, got)
		require.Equal(t, apperr.Forbidden, codeOf(err))
		_, err = b.svc.History(ctx, &cust, got)
		require.Equal(t, apperr.Forbidden, codeOf(err))
		email, bps, err := b.svc.Private(&member, got)
		require.NoError(t, err)
		require.Equal(t, "d@example.com", email)
		require.Equal(t, 250, bps)
	})
}

func TestList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var active []int64
	for i := 0; i < 3; i++ {
		active = append(active, tf.NewVendor(t, b.d, tf.VendorOpts{}).ID)
	}
	suspended := tf.NewVendor(t, b.d, tf.VendorOpts{Status: "SUSPENDED"}).ID
	ids := func(p vendor.Page) []int64 {
		var out []int64
		for _, v := range p.Vendors {
			out = append(out, v.ID)
		}
		return out
	}
	page, err := b.svc.List(ctx, nil, vendor.ListParams{First: ptr(2)})
	require.NoError(t, err)
	require.Equal(t, []int64{active[2], active[1]}, ids(page))
	require.True(t, page.HasNextPage)
	page, err = b.svc.List(ctx, nil, vendor.ListParams{First: ptr(2), After: page.Cursors[1]})
	require.NoError(t, err)
	require.Equal(t, []int64{active[0]}, ids(page))
	require.False(t, page.HasNextPage)

	s := vendor.Suspended
	page, err = b.svc.List(ctx, nil, vendor.ListParams{Status: &s})
	require.NoError(t, err)
	require.Empty(t, page.Vendors, "customers list ACTIVE vendors only")
	page, err = b.svc.List(ctx, &b.admin, vendor.ListParams{Status: &s})
	require.NoError(t, err)
	require.Equal(t, []int64{suspended}, ids(page))
	n, err := b.svc.Count(ctx, &b.admin, nil)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	n, err = b.svc.Count(ctx, nil, nil)
	require.NoError(t, err)
	require.Equal(t, 3, n)

	_, err = b.svc.List(ctx, nil, vendor.ListParams{First: ptr(101)})
	require.Equal(t, apperr.BadUserInput, codeOf(err))
	_, err = b.svc.List(ctx, nil, vendor.ListParams{After: "garbage!"})
	require.Equal(t, apperr.BadUserInput, codeOf(err))
}
