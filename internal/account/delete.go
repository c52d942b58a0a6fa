package account

import (
	"context"
	"fmt"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// Delete erases the viewer's account, confirmed by its password. The users row goes, and with
// it (ON DELETE CASCADE) its sessions and their tokens, its cart, its account tokens and
// whatever else hangs off the account; its orders stay for the books, detached from it
// (orders.user_id SET NULL) with only the country left of their shipping address; the email
// log keeps its rows with the address replaced.
//
// Staff accounts are refused: an ADMIN must first lose the role (another admin's
// accountRoleUpdate; an admin cannot take away its own, so the last admin always stays), and a
// VENDOR or a member of a vendor must first leave it, since the shop's records of what they
// did (imports, fulfilments) name them.
// Errors: PASSWORD_NOT_SET, WRONG_PASSWORD, LAST_ADMIN, FORBIDDEN (other admins), VENDOR_MEMBER.
func (s *Service) Delete(ctx context.Context, v auth.Viewer, password string) error {
	row, err := s.db.UserGetByID(ctx, v.UserID)
	if err != nil {
		return postgres.MapError(err, "user")
	}
	if err := checkCurrentPassword(row, password, "password"); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		row, err := q.UserGetByIDForUpdate(ctx, v.UserID)
		if err != nil {
			return postgres.MapError(err, "user")
		}
		if err := mayDeleteSelf(ctx, q, row); err != nil {
			return err
		}
		addresses, err := q.AccountTokenEmailsForUser(ctx, row.ID)
		if err != nil {
			return fmt.Errorf("read the account's addresses: %w", err)
		}
		replacement := fmt.Sprintf("deleted-account-%d@invalid", row.ID)
		for _, a := range append(addresses, row.Email) {
			if _, err := q.EmailDeliveryAnonymiseRecipient(ctx, db.EmailDeliveryAnonymiseRecipientParams{Recipient: a, Replacement: replacement}); err != nil {
				return fmt.Errorf("anonymise email deliveries: %w", err)
			}
		}
		if _, err := q.OrderAnonymiseForUser(ctx, &row.ID); err != nil {
			return fmt.Errorf("anonymise orders: %w", err)
		}
		ended, err := q.SessionsEndForDeletedUser(ctx, row.ID)
		if err != nil {
			return fmt.Errorf("record the account's sessions as ended: %w", err)
		}
		s.Revocations.AnnounceAfterCommit(ctx, ended...)
		if _, err := q.UserDelete(ctx, row.ID); err != nil {
			if postgres.IsForeignKeyViolation(err) {
				return apperr.New(apperr.VendorMember, "This account still owns records of the shop (products or imports); an admin must hand them over first.")
			}
			return fmt.Errorf("delete user: %w", err)
		}
		return nil
	})
}

// mayDeleteSelf is the deletion policy for staff accounts (see Delete).
func mayDeleteSelf(ctx context.Context, q *db.Queries, u db.User) error {
	switch {
	case u.Role == db.UserRoleADMIN:
		n, err := q.UserCountByRole(ctx, db.UserRoleADMIN)
		if err != nil {
			return err
		}
		if n <= 1 {
			return apperr.New(apperr.LastAdmin, "The shop's last admin cannot delete the account.")
		}
		return apperr.New(apperr.Forbidden, "An admin account must lose the ADMIN role (another admin's accountRoleUpdate) before it is deleted.")
	case u.Role == db.UserRoleVENDOR || u.VendorID != nil:
		return apperr.New(apperr.VendorMember, "Leave the vendor you sell for before deleting the account.")
	}
	return nil
}
