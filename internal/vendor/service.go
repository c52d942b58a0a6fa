package vendor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// ProductInvalidator drops cached products and catalog pages after a vendor's status change
// commits (catalog.Service.InvalidateProducts): a suspended vendor's products must not be
// served from a cache.
type ProductInvalidator interface {
	InvalidateProducts(ctx context.Context, ids ...int64)
}

// Notifier owes the admins the notice of an application to sell, in the application's
// transaction (notify.Service, set in internal/app); tx is that transaction.
type Notifier interface {
	VendorApplied(ctx context.Context, tx pgx.Tx, vendorID int64) error
}

// Service is the vendor use cases.
type Service struct {
	// Notifier, when set, is told of every application in its transaction: a rolled-back
	// application emails no one.
	Notifier Notifier
	// Revocations, when set, is told of the sessions RemoveMember revokes, so that the removed
	// member's access tokens stop working within seconds on every instance.
	Revocations SessionRevocations

	db       *postgres.DB
	products ProductInvalidator
	log      *slog.Logger
}

// NewService returns a vendor service. products may be nil (no catalog cache to keep).
func NewService(d *postgres.DB, products ProductInvalidator, log *slog.Logger) *Service {
	return &Service{db: d, products: products, log: log}
}

// Get returns a vendor v (nil when anonymous) may see. Errors: NOT_FOUND (also for one v may
// not see).
func (s *Service) Get(ctx context.Context, v *auth.Viewer, id int64) (Vendor, error) {
	row, err := s.db.VendorGetByID(ctx, id)
	if err != nil {
		return Vendor{}, postgres.MapError(err, "vendor")
	}
	return visible(v, FromRow(row))
}

// GetBySlug returns a vendor v may see by its slug. Errors: NOT_FOUND.
func (s *Service) GetBySlug(ctx context.Context, v *auth.Viewer, slug string) (Vendor, error) {
	row, err := s.db.VendorGetBySlug(ctx, slug)
	if err != nil {
		return Vendor{}, postgres.MapError(err, "vendor")
	}
	return visible(v, FromRow(row))
}

// ListByIDs returns the vendors among ids, whatever their status (for loaders; callers pass
// them through Visible).
func (s *Service) ListByIDs(ctx context.Context, ids []int64) (map[int64]Vendor, error) {
	rows, err := s.db.VendorListByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list vendors by ids: %w", err)
	}
	out := make(map[int64]Vendor, len(rows))
	for _, r := range rows {
		out[r.ID] = FromRow(r)
	}
	return out, nil
}

// Visible returns vendor, read by a loader, if v may see it. Errors: NOT_FOUND.
func (s *Service) Visible(v *auth.Viewer, vendor Vendor) (Vendor, error) { return visible(v, vendor) }

// Private returns vendor's private part for v: its contact email and commission.
// Errors: FORBIDDEN.
func (s *Service) Private(v *auth.Viewer, vendor Vendor) (contactEmail string, commissionBps int, err error) {
	if err := mayReadPrivate(v, vendor); err != nil {
		return "", 0, err
	}
	return vendor.ContactEmail, vendor.CommissionBps, nil
}

// History returns vendor's history, oldest first, for its members and admins.
// Errors: FORBIDDEN.
func (s *Service) History(ctx context.Context, v *auth.Viewer, vendor Vendor) ([]Event, error) {
	if err := mayReadPrivate(v, vendor); err != nil {
		return nil, err
	}
	rows, err := s.db.VendorEventList(ctx, vendor.ID)
	if err != nil {
		return nil, fmt.Errorf("list vendor events: %w", err)
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = eventFromRow(r)
	}
	return out, nil
}

// ListParams is one page request, newest first.
type ListParams struct {
	First  *int
	After  string
	Status *Status
}

// Page is one page of vendors with a cursor for each.
type Page struct {
	Vendors     []Vendor
	Cursors     []string
	HasNextPage bool
}

type cursor struct {
	CreatedAt time.Time `json:"t"`
	ID        int64     `json:"i"`
}

func encodeCursor(v Vendor) string {
	b, _ := json.Marshal(cursor{CreatedAt: v.CreatedAt, ID: v.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 200 {
		return cursor{}, false
	}
	var c cursor
	if json.Unmarshal(b, &c) != nil || c.ID <= 0 {
		return cursor{}, false
	}
	return c, true
}

// List returns one page of the vendors v sees: admins every status (or the one asked for),
// everyone else the ACTIVE ones. Errors: BAD_USER_INPUT (page size, cursor).
func (s *Service) List(ctx context.Context, v *auth.Viewer, p ListParams) (Page, error) {
	n := 20
	if p.First != nil {
		n = *p.First
	}
	if n < 1 || n > 100 {
		return Page{}, apperr.FieldError(apperr.BadUserInput, "first must be 1 to 100.", "first")
	}
	params := db.VendorListParams{Statuses: dbStatuses(listStatuses(v, p.Status)), Lim: int32(n + 1)}
	if p.After != "" {
		c, ok := decodeCursor(p.After)
		if !ok {
			return Page{}, apperr.FieldError(apperr.BadUserInput, "The cursor is not valid.", "after")
		}
		params.AfterID, params.AfterCreatedAt = &c.ID, &c.CreatedAt
	}
	rows, err := s.db.VendorList(ctx, params)
	if err != nil {
		return Page{}, fmt.Errorf("list vendors: %w", err)
	}
	page := Page{HasNextPage: len(rows) > n}
	if page.HasNextPage {
		rows = rows[:n]
	}
	for _, r := range rows {
		vendor := FromRow(r)
		page.Vendors = append(page.Vendors, vendor)
		page.Cursors = append(page.Cursors, encodeCursor(vendor))
	}
	return page, nil
}

// Count returns how many vendors v sees with status (any when nil).
func (s *Service) Count(ctx context.Context, v *auth.Viewer, status *Status) (int, error) {
	n, err := s.db.VendorCount(ctx, dbStatuses(listStatuses(v, status)))
	if err != nil {
		return 0, fmt.Errorf("count vendors: %w", err)
	}
	return int(n), nil
}

func dbStatuses(in []Status) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}

// ApplyInput is an application to sell.
type ApplyInput struct {
	Profile
	// Slug is derived from the name when empty.
	Slug string
}

// Apply creates a PENDING vendor for the viewer's application; an admin approves or rejects
// it. The admins' notice of it (Notifier) commits with it. Errors: FORBIDDEN (an admin, or already a member of a vendor), INVALID, DUPLICATE (the
// slug is taken, or the account already has a pending application).
func (s *Service) Apply(ctx context.Context, v auth.Viewer, in ApplyInput) (Vendor, error) {
	slug, err := validateNew(&in.Profile, in.Slug, DefaultCommissionBps)
	if err != nil {
		return Vendor{}, err
	}
	var created Vendor
	err = s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		u, err := q.UserGetByID(ctx, v.UserID)
		if err != nil {
			return postgres.MapError(err, "account")
		}
		if err := mayApply(v, u.VendorID); err != nil {
			return err
		}
		created, err = insert(ctx, q, in.Profile, slug, Pending, DefaultCommissionBps, &v.UserID)
		if err != nil {
			return err
		}
		if err := addEvent(ctx, q, created, ActionApplied, "", &v.UserID); err != nil {
			return err
		}
		if s.Notifier != nil {
			return s.Notifier.VendorApplied(ctx, tx, created.ID)
		}
		return nil
	})
	return created, err
}

// CreateInput is a vendor an admin creates directly.
type CreateInput struct {
	Profile
	Slug string
	// CommissionBps is DefaultCommissionBps when nil.
	CommissionBps *int
	// MemberID is an account to make the vendor's first member (with the VENDOR role; an
	// ADMIN keeps its role).
	MemberID *int64
	Reason   string
}

// Create creates an ACTIVE vendor (admins). Errors: FORBIDDEN, INVALID, DUPLICATE (slug),
// NOT_FOUND (member), INVALID (the member belongs to another vendor).
func (s *Service) Create(ctx context.Context, v auth.Viewer, in CreateInput) (Vendor, error) {
	if err := mayDecide(v); err != nil {
		return Vendor{}, err
	}
	bps := DefaultCommissionBps
	if in.CommissionBps != nil {
		bps = *in.CommissionBps
	}
	slug, err := validateNew(&in.Profile, in.Slug, bps)
	if err != nil {
		return Vendor{}, err
	}
	var created Vendor
	err = s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		created, err = insert(ctx, q, in.Profile, slug, Active, bps, nil)
		if err != nil {
			return err
		}
		if in.MemberID != nil {
			if err := addMember(ctx, q, created.ID, *in.MemberID, "input", "memberId"); err != nil {
				return err
			}
		}
		return addEvent(ctx, q, created, ActionCreated, strings.TrimSpace(in.Reason), &v.UserID)
	})
	return created, err
}

// Decide moves a vendor as d says (an admin's approval, rejection, suspension or
// reinstatement), records it with its reason in the vendor's history, copies the new state
// onto the vendor's products, and after the commit drops them from the catalog's caches.
// Approval makes the applicant a member with the VENDOR role.
// Errors: FORBIDDEN, NOT_FOUND, INVALID (reason; the applicant joined another vendor
// meanwhile), INVALID_TRANSITION (the vendor is not in d.From).
func (s *Service) Decide(ctx context.Context, v auth.Viewer, d Decision, id int64, reason string) (Vendor, error) {
	if err := mayDecide(v); err != nil {
		return Vendor{}, err
	}
	var val validator
	val.reason(reason, d.ReasonRequired)
	if err := val.err(); err != nil {
		return Vendor{}, err
	}
	var updated Vendor
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		row, err := q.VendorGetByIDForUpdate(ctx, id)
		if postgres.IsNotFound(err) {
			return apperr.FieldError(apperr.NotFound, "No vendor has this ID.", "input", "id")
		}
		if err != nil {
			return fmt.Errorf("lock vendor: %w", err)
		}
		if err := checkDecision(d, Status(row.Status)); err != nil {
			return err
		}
		row, err = q.VendorSetStatus(ctx, db.VendorSetStatusParams{ID: id, Status: db.VendorStatus(d.To)})
		if err != nil {
			return fmt.Errorf("set vendor status: %w", err)
		}
		updated = FromRow(row)
		if d == Approve && updated.ApplicantID != nil {
			if err := addMember(ctx, q, id, *updated.ApplicantID, "input", "id"); err != nil {
				return err
			}
		}
		changed, err := q.VendorProductsSetActive(ctx, db.VendorProductsSetActiveParams{VendorID: &id, Active: d.To == Active})
		if err != nil {
			return fmt.Errorf("set vendor products' state: %w", err)
		}
		s.invalidate(ctx, changed...)
		return addEvent(ctx, q, updated, d.Action, strings.TrimSpace(reason), &v.UserID)
	})
	return updated, err
}

// UpdateInput changes a vendor's profile; nil fields keep their value. The slug never changes.
type UpdateInput struct {
	ID           int64
	Name         *string
	Description  *string
	LogoURL      *string // "" removes the logo
	ContactEmail *string
	// CommissionBps is for admins only.
	CommissionBps *int
}

// Update changes a vendor's profile: its members (name, description, logo, contact email)
// and admins (those and the commission). Errors: NOT_FOUND (also for a vendor v may not
// edit), FORBIDDEN (a member setting the commission), INVALID.
func (s *Service) Update(ctx context.Context, v auth.Viewer, in UpdateInput) (Vendor, error) {
	var updated Vendor
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		row, err := q.VendorGetByIDForUpdate(ctx, in.ID)
		if postgres.IsNotFound(err) {
			return apperr.FieldError(apperr.NotFound, "No vendor has this ID.", "input", "id")
		}
		if err != nil {
			return fmt.Errorf("lock vendor: %w", err)
		}
		cur := FromRow(row)
		if err := mayEdit(v, cur); err != nil {
			return err
		}
		p := Profile{Name: cur.Name, Description: cur.Description, LogoURL: cur.LogoURL, ContactEmail: cur.ContactEmail}
		if in.Name != nil {
			p.Name = *in.Name
		}
		if in.Description != nil {
			p.Description = *in.Description
		}
		if in.LogoURL != nil {
			p.LogoURL = in.LogoURL
		}
		if in.ContactEmail != nil {
			p.ContactEmail = *in.ContactEmail
		}
		bps := cur.CommissionBps
		if in.CommissionBps != nil {
			if err := maySetCommission(v); err != nil {
				return err
			}
			bps = *in.CommissionBps
		}
		var val validator
		val.profile(&p)
		val.commission(bps, "input", "commissionRateBps")
		if err := val.err(); err != nil {
			return err
		}
		row, err = q.VendorUpdateProfile(ctx, db.VendorUpdateProfileParams{
			ID: in.ID, Name: p.Name, Description: p.Description, LogoUrl: p.LogoURL,
			ContactEmail: p.ContactEmail, CommissionBps: int32(bps),
		})
		if err != nil {
			return fmt.Errorf("update vendor: %w", err)
		}
		updated = FromRow(row)
		// Cached catalog pages and responses show the vendor's name.
		s.invalidate(ctx)
		return addEvent(ctx, q, updated, ActionUpdated, "", &v.UserID)
	})
	return updated, err
}

// EnsureMember makes account userID a member of the vendor with slug, creating that vendor
// ACTIVE (with profile) when missing: demo data and test fixtures, not an API use case.
func (s *Service) EnsureMember(ctx context.Context, slug string, profile Profile, userID int64) (Vendor, error) {
	var out Vendor
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		row, err := q.VendorGetBySlug(ctx, slug)
		switch {
		case postgres.IsNotFound(err):
			var val validator
			val.profile(&profile)
			if err := val.err(); err != nil {
				return err
			}
			out, err = insert(ctx, q, profile, slug, Active, DefaultCommissionBps, nil)
			if err != nil {
				return err
			}
			if err := addEvent(ctx, q, out, ActionCreated, "Demo data.", nil); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("get vendor: %w", err)
		default:
			out = FromRow(row)
		}
		u, err := q.UserGetByID(ctx, userID)
		if err != nil {
			return postgres.MapError(err, "account")
		}
		if u.VendorID != nil && *u.VendorID == out.ID {
			return nil
		}
		return addMember(ctx, q, out.ID, userID, "userId")
	})
	return out, err
}

// invalidate drops, after the commit, the cached products ids and every cached catalog page
// and anonymous response, which show the vendor.
func (s *Service) invalidate(ctx context.Context, ids ...int64) {
	if s.products != nil {
		postgres.AfterCommit(ctx, func(ctx context.Context) { s.products.InvalidateProducts(ctx, ids...) })
	}
}

// validateNew checks a new vendor's profile, slug (derived from the name when empty) and
// commission.
func validateNew(p *Profile, slug string, bps int) (string, error) {
	var val validator
	val.profile(p)
	if slug == "" {
		slug = catalog.Slugify(p.Name)
	}
	if len(slug) > 100 || !slugPattern.MatchString(slug) {
		val.add("Slug must be lower-case letters, digits and single hyphens (at most 100).", "input", "slug")
	}
	val.commission(bps, "input", "commissionRateBps")
	return slug, val.err()
}

func insert(ctx context.Context, q *db.Queries, p Profile, slug string, status Status, bps int, applicant *int64) (Vendor, error) {
	row, err := q.VendorInsert(ctx, db.VendorInsertParams{
		Name: p.Name, Slug: slug, Description: p.Description, LogoUrl: p.LogoURL, Status: db.VendorStatus(status),
		ContactEmail: p.ContactEmail, CommissionBps: int32(bps), ApplicantID: applicant,
	})
	switch {
	case postgres.IsUniqueViolation(err, "vendors_slug_key"):
		return Vendor{}, apperr.FieldError(apperr.Duplicate, "Another vendor has this slug.", "input", "slug")
	case postgres.IsUniqueViolation(err, "vendors_pending_applicant_key"):
		return Vendor{}, apperr.New(apperr.Duplicate, "This account already has a pending application.")
	case err != nil:
		return Vendor{}, fmt.Errorf("insert vendor: %w", err)
	}
	return FromRow(row), nil
}

// addMember makes account userID a member of vendor id; an account that belongs to another
// vendor is refused. Errors: NOT_FOUND, INVALID.
func addMember(ctx context.Context, q *db.Queries, id, userID int64, field ...string) error {
	u, err := q.UserGetByID(ctx, userID)
	if postgres.IsNotFound(err) {
		return apperr.FieldError(apperr.NotFound, "No account has this ID.", field...)
	}
	if err != nil {
		return fmt.Errorf("get member: %w", err)
	}
	if u.VendorID != nil && *u.VendorID != id {
		return apperr.FieldError(apperr.Invalid, "This account is already a member of another vendor.", field...)
	}
	if _, err := q.VendorMemberAdd(ctx, db.VendorMemberAddParams{VendorID: &id, UserID: userID}); err != nil {
		return fmt.Errorf("add member: %w", err)
	}
	return nil
}

func addEvent(ctx context.Context, q *db.Queries, vendor Vendor, a Action, reason string, actor *int64) error {
	if _, err := q.VendorEventInsert(ctx, db.VendorEventInsertParams{
		VendorID: vendor.ID, Action: db.VendorAction(a), Status: db.VendorStatus(vendor.Status), Reason: reason, ActorID: actor,
	}); err != nil {
		return fmt.Errorf("insert vendor event: %w", err)
	}
	return nil
}
