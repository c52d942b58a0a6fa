package vendor

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// Member management: a vendor's members (users.vendor_id) add existing accounts by email and
// remove members; admins do both for any vendor. Each account is a member of one vendor at
// most. Who may do what is policy.go (mayManageMembers, mayRemoveLast).
//
// Tokens: an access token carries the account's vendor (auth.Viewer.VendorID) from sign-in or
// refresh. An added member acts for the vendor from its next refresh or sign-in. A removed
// member's sessions are all revoked in the removal's transaction, so no refresh gives it a new
// token, and an access token already issued stops working within seconds on every instance
// (Revocations: account.RevocationWatcher and auth.RevokedSessions).

// Members returns vendor's member accounts, oldest first, for its members and admins.
// Errors: FORBIDDEN.
func (s *Service) Members(ctx context.Context, v *auth.Viewer, vendor Vendor) ([]account.User, error) {
	if err := mayReadPrivate(v, vendor); err != nil {
		return nil, err
	}
	rows, err := s.db.VendorMemberList(ctx, &vendor.ID)
	if err != nil {
		return nil, fmt.Errorf("list vendor members: %w", err)
	}
	out := make([]account.User, len(rows))
	for i, r := range rows {
		out[i] = userFromRow(r)
	}
	return out, nil
}

// AddMember makes the existing account with email a member of vendor id: a CUSTOMER becomes
// a VENDOR, an ADMIN keeps its role, and the vendor's history records it.
// Errors: NOT_FOUND (the vendor, also for one v may not manage; the email: unknown, or, for a
// viewer that is not an admin, an account of another vendor, so that a vendor learns nothing
// of another's members), DUPLICATE (already a member of this vendor; for admins, also a member
// of another vendor), INVALID (the email is empty).
func (s *Service) AddMember(ctx context.Context, v auth.Viewer, id int64, email string) (Vendor, account.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || len(email) > 320 {
		return Vendor{}, account.User{}, apperr.FieldError(apperr.Invalid, "Give the email of an existing account.", "input", "email")
	}
	var (
		out   Vendor
		added account.User
	)
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		cur, err := lockVendor(ctx, q, id)
		if err != nil {
			return err
		}
		if err := mayManageMembers(v, cur); err != nil {
			return err
		}
		u, err := q.VendorUserGetByEmailForUpdate(ctx, email)
		if postgres.IsNotFound(err) {
			return noAccount()
		}
		if err != nil {
			return fmt.Errorf("get account by email: %w", err)
		}
		switch {
		case u.VendorID != nil && *u.VendorID == id:
			return apperr.FieldError(apperr.Duplicate, "This account is already a member of this vendor.", "input", "email")
		case u.VendorID != nil && !v.IsAdmin():
			return noAccount()
		case u.VendorID != nil:
			return apperr.FieldError(apperr.Duplicate, "This account is a member of another vendor; remove it there first.", "input", "email")
		}
		row, err := q.VendorMemberAdd(ctx, db.VendorMemberAddParams{VendorID: &id, UserID: u.ID})
		if err != nil {
			return fmt.Errorf("add member: %w", err)
		}
		added, out = userFromRow(row), cur
		return addEvent(ctx, q, cur, ActionMemberAdded, "Added "+row.Email+".", &v.UserID)
	})
	if err != nil {
		return Vendor{}, account.User{}, err
	}
	return out, added, nil
}

// SessionRevocations is told, in the revoking transaction, that sessions were revoked
// (account.RevocationWatcher): their access tokens then stop working within seconds.
type SessionRevocations interface {
	AnnounceAfterCommit(ctx context.Context, sessions ...uuid.UUID)
}

// RemoveMember takes account userID out of vendor id: it becomes a CUSTOMER (an ADMIN keeps
// its role), every session of it is revoked (it signs in again, as a customer), and the
// vendor's history records it. A member may remove any member, itself included, but not the
// last one (an admin may: the vendor then has no one acting for it until an admin adds one).
// Errors: NOT_FOUND (the vendor, also for one v may not manage; the account is not its
// member), INVALID (the last member, for a viewer that is not an admin).
func (s *Service) RemoveMember(ctx context.Context, v auth.Viewer, id, userID int64) (Vendor, account.User, error) {
	var (
		out     Vendor
		removed account.User
	)
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		cur, err := lockVendor(ctx, q, id)
		if err != nil {
			return err
		}
		if err := mayManageMembers(v, cur); err != nil {
			return err
		}
		n, err := q.VendorMemberCount(ctx, &id)
		if err != nil {
			return fmt.Errorf("count vendor members: %w", err)
		}
		row, err := q.VendorMemberRemove(ctx, db.VendorMemberRemoveParams{UserID: userID, VendorID: &id})
		if postgres.IsNotFound(err) {
			return apperr.FieldError(apperr.NotFound, "This account is not a member of this vendor.", "input", "userId")
		}
		if err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		if err := mayRemoveLast(v, int(n)); err != nil {
			return err
		}
		if _, err := q.VendorMemberRevokeSessions(ctx, userID); err != nil {
			return fmt.Errorf("revoke removed member's sessions: %w", err)
		}
		// Its access tokens still say VENDOR of this vendor: every instance must refuse them.
		if s.Revocations != nil {
			s.Revocations.AnnounceAfterCommit(ctx)
		}
		removed, out = userFromRow(row), cur
		return addEvent(ctx, q, cur, ActionMemberRemoved, "Removed "+row.Email+".", &v.UserID)
	})
	if err != nil {
		return Vendor{}, account.User{}, err
	}
	return out, removed, nil
}

// lockVendor reads and locks vendor id: membership changes of one vendor take turns, so that
// the last-member rule holds. Errors: NOT_FOUND.
func lockVendor(ctx context.Context, q *db.Queries, id int64) (Vendor, error) {
	row, err := q.VendorGetByIDForUpdate(ctx, id)
	if postgres.IsNotFound(err) {
		return Vendor{}, apperr.FieldError(apperr.NotFound, "No vendor has this ID.", "input", "vendorId")
	}
	if err != nil {
		return Vendor{}, fmt.Errorf("lock vendor: %w", err)
	}
	return FromRow(row), nil
}

func noAccount() error {
	return apperr.FieldError(apperr.NotFound, "No account that can be added has this email.", "input", "email")
}

func userFromRow(r db.User) account.User {
	return account.User{ID: r.ID, Email: r.Email, Name: r.Name, Role: auth.Role(r.Role), VendorID: r.VendorID, CreatedAt: r.CreatedAt}
}
