// Package auth holds who the viewer of a request is: roles, the Viewer in a context, and the
// signed access tokens that carry them. It decides nothing about the shop's data. Who may do
// what is decided in two places: the schema's @auth and @hasRole directives gate each field by
// role (RequireViewer, RequireRole, Role.Satisfies), and each domain's policy.go decides the
// rest (ownership, visibility, what a vendor may change).
package auth

// Role is what a viewer may do.
type Role string

// The roles, from least to most privileged.
const (
	RoleCustomer Role = "CUSTOMER"
	RoleVendor   Role = "VENDOR"
	RoleAdmin    Role = "ADMIN"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleCustomer, RoleVendor, RoleAdmin:
		return true
	}
	return false
}

// Satisfies reports whether a viewer with role r may do what requires role need. ADMIN satisfies
// every role; the others satisfy only themselves.
func (r Role) Satisfies(need Role) bool {
	return r == need || r == RoleAdmin
}
