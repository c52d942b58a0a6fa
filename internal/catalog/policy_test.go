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
	vendor   = auth.Viewer{UserID: vendorID, Role: auth.RoleVendor, VendorID: vendorID}
	rival    = auth.Viewer{UserID: rivalID, Role: auth.RoleVendor, VendorID: rivalID}
	admin    = auth.Viewer{UserID: adminID, Role: auth.RoleAdmin}
	// posing is a customer whose id is the vendor's: ownership needs the VENDOR role too.
	posing = auth.Viewer{UserID: vendorID, Role: auth.RoleCustomer}
)

func ptr[T any](v T) *T { return &v }

func productOf(vendor *int64, s Status) Product {
	return Product{ID: 1, VendorID: vendor, Status: s, VendorActive: true}
}

// suspendedOf is a product of a vendor that is not ACTIVE.
func suspendedOf(vendor *int64, s Status) Product {
	p := productOf(vendor, s)
	p.VendorActive = false
	return p
}

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
		// A vendor that is not ACTIVE (suspended, pending, rejected): its products are hidden
		// from everyone but its members and admins, as if archived.
		{"anonymous, a suspended vendor's", nil, suspendedOf(ptr(vendorID), StatusActive), false, false, "", apperr.Forbidden},
		{"customer, a suspended vendor's", &customer, suspendedOf(ptr(vendorID), StatusActive), false, false, apperr.NotFound, apperr.Forbidden},
		{"another vendor, a suspended vendor's", &rival, suspendedOf(ptr(vendorID), StatusActive), false, false, apperr.NotFound, apperr.Forbidden},
		{"the suspended vendor itself", &vendor, suspendedOf(ptr(vendorID), StatusActive), true, true, "", ""},
		{"admin, a suspended vendor's", &admin, suspendedOf(ptr(vendorID), StatusActive), true, true, "", ""},
		// A VENDOR account that is no vendor's member acts as no vendor, whatever its user id.
		{"a VENDOR of no vendor with the vendor's user id, archived", &auth.Viewer{UserID: vendorID, Role: auth.RoleVendor}, owned(StatusArchived), false, false, apperr.NotFound, apperr.Forbidden},
		// Ownership is the vendor id, not the user id.
		{"a member of the vendor with another user id", &auth.Viewer{UserID: 99, Role: auth.RoleVendor, VendorID: vendorID}, owned(StatusArchived), true, true, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
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
		return (p.Status == StatusActive && p.VendorActive) || s.SeeArchived || (p.VendorID != nil && s.VendorID != nil && *p.VendorID == *s.VendorID)
	}
	noVendor := auth.Viewer{UserID: vendorID, Role: auth.RoleVendor}
	for _, v := range []*auth.Viewer{nil, &customer, &vendor, &rival, &admin, &posing, &noVendor} {
		for _, vend := range []*int64{nil, ptr(vendorID), ptr(rivalID)} {
			for _, st := range []Status{StatusActive, StatusArchived} {
				for _, active := range []bool{true, false} {
					p := productOf(vend, st)
					p.VendorActive = active
					require.Equal(t, CanSee(v, p), catalogVisible(p, listScope(v)), "viewer %+v, product %+v", v, p)
				}
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
		{"a VENDOR account of no vendor may not create", auth.Viewer{UserID: vendorID, Role: auth.RoleVendor}, nil, nil, false, apperr.Forbidden},
		{"a member creates for its vendor, not its user id", auth.Viewer{UserID: 99, Role: auth.RoleVendor, VendorID: vendorID}, nil, ptr(vendorID), false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
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
			require.Equal(t, tc.want, codeOf(mayManageCategories(tc.viewer)))
		})
	}
}
