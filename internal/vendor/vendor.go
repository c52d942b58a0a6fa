// Package vendor is the marketplace's sellers: a vendor's profile and status (PENDING, ACTIVE,
// SUSPENDED, REJECTED), its member accounts (each acts for one vendor only), the onboarding
// (an application, then an admin's approval or rejection; suspension and reinstatement) and
// the history of those decisions with their reasons. Who may see and do what is policy.go.
//
// A vendor that is not ACTIVE has its products hidden from customers: its status is copied
// onto its products (products.vendor_active) in the transaction that changes it, which the
// catalog's one visibility rule reads (catalog_visible, catalog.CanSee).
package vendor

import (
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/gid"
)

// Status is where a vendor is in its life.
type Status string

// Vendor statuses.
const (
	// Pending is an application waiting for an admin.
	Pending Status = "PENDING"
	// Active sells: its products are listed.
	Active Status = "ACTIVE"
	// Suspended is stopped by an admin: its products are hidden, its open orders go on.
	Suspended Status = "SUSPENDED"
	// Rejected is an application an admin turned down.
	Rejected Status = "REJECTED"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case Pending, Active, Suspended, Rejected:
		return true
	}
	return false
}

// Action is an entry of a vendor's history.
type Action string

// History actions.
const (
	ActionApplied    Action = "APPLIED"
	ActionCreated    Action = "CREATED"
	ActionApproved   Action = "APPROVED"
	ActionRejected   Action = "REJECTED"
	ActionSuspended  Action = "SUSPENDED"
	ActionReinstated Action = "REINSTATED"
	ActionUpdated    Action = "UPDATED"
	// ActionMemberAdded and ActionMemberRemoved record member management (migration 00023).
	ActionMemberAdded   Action = "MEMBER_ADDED"
	ActionMemberRemoved Action = "MEMBER_REMOVED"
)

// DefaultCommissionBps is a new vendor's commission, in basis points (10%).
const DefaultCommissionBps = 1000

// Vendor is a seller.
type Vendor struct {
	ID          int64
	Name        string
	Slug        string
	Description string
	LogoURL     *string
	Status      Status
	// ContactEmail and CommissionBps are for the vendor's members and admins only.
	ContactEmail string
	// CommissionBps is the platform's commission on the vendor's sales in basis points
	// (1/100 of a percent): 1000 is 10%.
	CommissionBps int
	// ApplicantID is the account that applied (vendorApply), if any.
	ApplicantID *int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// GlobalID is the vendor's opaque API ID, of its own type (not a User's).
func (v Vendor) GlobalID() string { return gid.Encode(gid.Vendor, v.ID) }

// Event is an entry of a vendor's history.
type Event struct {
	ID       int64
	VendorID int64
	Action   Action
	// Status is the vendor's status after the event.
	Status    Status
	Reason    string
	ActorID   *int64
	CreatedAt time.Time
}

// Decision is an admin's move of a vendor from one status to another.
type Decision struct {
	Action Action
	From   Status
	To     Status
	// ReasonRequired: rejecting and suspending need a reason; approving and reinstating may
	// give one.
	ReasonRequired bool
}

// The admins' decisions: the only moves of a vendor's status.
var (
	Approve   = Decision{Action: ActionApproved, From: Pending, To: Active}
	Reject    = Decision{Action: ActionRejected, From: Pending, To: Rejected, ReasonRequired: true}
	Suspend   = Decision{Action: ActionSuspended, From: Active, To: Suspended, ReasonRequired: true}
	Reinstate = Decision{Action: ActionReinstated, From: Suspended, To: Active}
)

// Profile is the editable part of a vendor.
type Profile struct {
	Name         string
	Description  string
	LogoURL      *string
	ContactEmail string
}

// Input limits.
const (
	maxNameLen        = 120
	maxDescriptionLen = 5000
	maxReasonLen      = 1000
	maxURLLen         = 2048
	maxEmailLen       = 254
)

// validator collects every field problem of an input before anything is written.
type validator struct{ errs apperr.List }

func (v *validator) add(message string, field ...string) {
	v.errs = append(v.errs, apperr.FieldError(apperr.Invalid, message, field...))
}

func (v *validator) err() error { return v.errs.Err() }

func (v *validator) profile(p *Profile) {
	p.Name = strings.TrimSpace(p.Name)
	p.ContactEmail = strings.ToLower(strings.TrimSpace(p.ContactEmail))
	if n := utf8.RuneCountInString(p.Name); n < 1 || n > maxNameLen {
		v.add("Name must be 1 to 120 characters.", "input", "name")
	}
	if utf8.RuneCountInString(p.Description) > maxDescriptionLen {
		v.add("Description must be at most 5000 characters.", "input", "description")
	}
	if p.LogoURL != nil && *p.LogoURL == "" {
		p.LogoURL = nil
	}
	if p.LogoURL != nil {
		u, err := url.Parse(*p.LogoURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(*p.LogoURL) > maxURLLen {
			v.add("The logo URL must be an http(s) URL of at most 2048 characters.", "input", "logoUrl")
		}
	}
	if !validEmail(p.ContactEmail) {
		v.add("The contact email is not a valid address.", "input", "contactEmail")
	}
}

func (v *validator) commission(bps int, field ...string) {
	if bps < 0 || bps > 10000 {
		v.add("The commission must be 0 to 10000 basis points (0% to 100%).", field...)
	}
}

func (v *validator) reason(reason string, required bool) {
	n := utf8.RuneCountInString(strings.TrimSpace(reason))
	switch {
	case required && n == 0:
		v.add("Give a reason; it is kept in the vendor's history.", "input", "reason")
	case n > maxReasonLen:
		v.add("The reason must be at most 1000 characters.", "input", "reason")
	}
}

// validEmail accepts a bare address (no display name), at most 254 bytes, with a dotted domain.
func validEmail(email string) bool {
	if email == "" || len(email) > maxEmailLen {
		return false
	}
	addr, err := mail.ParseAddress(email)
	at := strings.LastIndexByte(email, '@')
	return err == nil && addr.Address == email && at >= 1 && strings.Contains(email[at+1:], ".")
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
