package catalog

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// The catalog policy, case by case: every test here is pure (no database).

const (
	vendorID int64 = 20
	rivalID  int64 = 21
	adminID  int64 = 30
	custID   int64 = 10
)

var (
	customer = auth.Viewer{UserID: custID, Role: auth.RoleCustomer}
	vendor   = auth.Viewer{UserID: vendorID, Role: auth.RoleVendor}
	rival    = auth.Viewer{UserID: rivalID, Role: auth.RoleVendor}
	admin    = auth.Viewer{UserID: adminID, Role: auth.RoleAdmin}
	// posing is a customer whose id is the vendor's: ownership needs the VENDOR role too.
	posing = auth.Viewer{UserID: vendorID, Role: auth.RoleCustomer}
)

func ptr[T any](v T) *T { return &v }

func productOf(vendor *int64, s Status) Product { return Product{ID: 1, VendorID: vendor, Status: s} }

// codeOf is the error's code, "" for none.
func codeOf(err error) apperr.Code {
	if err == nil {
		return ""
	}
	return apperr.CodeOf(err)
}

func TestSeeAndManage(t *testing.T) {
	t.Parallel()
	owned := func(s Status) Product { return productOf(ptr(vendorID), s) }
	for _, tc := range []struct {
		name   string
		viewer *auth.Viewer
		p      Product
		see    bool
		manage bool
		// manageErr is mayManage's answer; stockErr mayReadStock's.
		manageErr, stockErr apperr.Code
	}{
		{"anonymous, active", nil, owned(StatusActive), true, false, "", apperr.Forbidden},
		{"anonymous, archived", nil, owned(StatusArchived), false, false, "", apperr.Forbidden},
		{"customer, active", &customer, owned(StatusActive), true, false, apperr.Forbidden, apperr.Forbidden},
		{"customer, archived", &customer, owned(StatusArchived), false, false, apperr.NotFound, apperr.Forbidden},
		{"owning vendor, active", &vendor, owned(StatusActive), true, true, "", ""},
		{"owning vendor, archived", &vendor, owned(StatusArchived), true, true, "", ""},
		{"another vendor, active", &rival, owned(StatusActive), true, false, apperr.Forbidden, apperr.Forbidden},
		{"another vendor, archived", &rival, owned(StatusArchived), false, false, apperr.NotFound, apperr.Forbidden},
		{"a customer with the vendor's id, archived", &posing, owned(StatusArchived), false, false, apperr.NotFound, apperr.Forbidden},
		{"admin, active", &admin, owned(StatusActive), true, true, "", ""},
		{"admin, archived", &admin, owned(StatusArchived), true, true, "", ""},
		{"vendor, a platform product", &vendor, productOf(nil, StatusActive), true, false, apperr.Forbidden, apperr.Forbidden},
		{"vendor, an archived platform product", &vendor, productOf(nil, StatusArchived), false, false, apperr.NotFound, apperr.Forbidden},
		{"admin, an archived platform product", &admin, productOf(nil, StatusArchived), true, true, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.see, CanSee(tc.viewer, tc.p), "CanSee")
			_, err := visible(tc.viewer, tc.p)
			if tc.see {
				require.NoError(t, err)
			} else {
				require.Equal(t, apperr.NotFound, codeOf(err), "a hidden product is NOT_FOUND")
			}
			require.Equal(t, tc.stockErr, codeOf(mayReadStock(tc.viewer, tc.p)), "mayReadStock")
			if tc.viewer == nil {
				return
			}
			require.Equal(t, tc.manage, CanManage(*tc.viewer, tc.p), "CanManage")
			require.Equal(t, tc.manageErr, codeOf(mayManage(*tc.viewer, tc.p, "input", "id")), "mayManage")
		})
	}
}

func TestListScope(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		viewer *auth.Viewer
		want   scope
		shared bool
	}{
		{"anonymous: ACTIVE only", nil, scope{}, true},
		{"customer: ACTIVE only", &customer, scope{}, true},
		{"vendor: its own too", &vendor, scope{VendorID: ptr(vendorID)}, false},
		{"admin: everything", &admin, scope{SeeArchived: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := listScope(tc.viewer)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.shared, got.sharedLists())
			require.Equal(t, tc.shared, listCacheKey(tc.viewer, "page", 1) != "", "only shared pages are cached")
		})
	}
}

// TestListScopeMatchesCanSee holds the list rule (the arguments of catalog_visible, as the SQL
// function reads them) to the rule for single products.
func TestListScopeMatchesCanSee(t *testing.T) {
	t.Parallel()
	catalogVisible := func(p Product, s scope) bool {
		return p.Status == StatusActive || s.SeeArchived || (p.VendorID != nil && s.VendorID != nil && *p.VendorID == *s.VendorID)
	}
	for _, v := range []*auth.Viewer{nil, &customer, &vendor, &rival, &admin, &posing} {
		for _, vend := range []*int64{nil, ptr(vendorID), ptr(rivalID)} {
			for _, st := range []Status{StatusActive, StatusArchived} {
				p := productOf(vend, st)
				require.Equal(t, CanSee(v, p), catalogVisible(p, listScope(v)), "viewer %+v, product %+v", v, p)
			}
		}
	}
}

func TestCreateVendor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		viewer    auth.Viewer
		requested *int64
		want      *int64
		check     bool
		err       apperr.Code
	}{
		{"a vendor creates its own", vendor, nil, ptr(vendorID), false, ""},
		{"a vendor may name itself", vendor, ptr(vendorID), ptr(vendorID), false, ""},
		{"a vendor may not name another", vendor, ptr(rivalID), nil, false, apperr.Forbidden},
		{"an admin creates for the platform", admin, nil, nil, false, ""},
		{"an admin creates for a vendor, which is checked", admin, ptr(vendorID), ptr(vendorID), true, ""},
		{"a customer may not create", customer, nil, nil, false, apperr.Forbidden},
		{"a customer naming a vendor may not either", customer, ptr(vendorID), nil, false, apperr.Forbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, check, err := createVendor(tc.viewer, tc.requested)
			require.Equal(t, tc.err, codeOf(err))
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.check, check)
		})
	}
}

func TestMayManageCategories(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		viewer auth.Viewer
		want   apperr.Code
	}{
		{"admin", admin, ""},
		{"vendor", vendor, apperr.Forbidden},
		{"customer", customer, apperr.Forbidden},
		{"zero viewer", auth.Viewer{}, apperr.Forbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, codeOf(mayManageCategories(tc.viewer)))
		})
	}
}
