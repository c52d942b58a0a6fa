package account

// This file is the account's email flows (issue 18): proving the address given at
// registration, changing it (a link to the new address, a notice to the old one; the change
// happens when the link is used) and resetting a forgotten password. Each link carries a
// random single-use token (account_tokens keeps only its SHA-256); its email is a River job
// inserted in the token's own transaction (Emailer).

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/ratelimit"
)

// Token purposes (account_tokens.purpose).
const (
	PurposeVerifyEmail   = "verify_email"
	PurposeChangeEmail   = "change_email"
	PurposeResetPassword = "reset_password"
)

// The emails of the flows (jobs.SendAccountEmailArgs.Email).
const (
	EmailVerify            = "verify_email"
	EmailChange            = "change_email"
	EmailChangeNotice      = "change_email_notice"
	EmailResetPassword     = "reset_password"
	emailTokenTTLVerify    = 48 * time.Hour
	emailTokenTTLChange    = 24 * time.Hour
	emailTokenTTLReset     = time.Hour
	maxTokenLen            = 128
	verificationResendRate = 5 // resends per user per ResetLimits.Window
)

// Emailer owes an account email: it inserts its job in tx, the transaction that stores the
// token (notify.Service, set in internal/app; nil when emails are off).
type Emailer interface {
	AccountEmail(ctx context.Context, tx pgx.Tx, email string, tokenID int64, token string) error
}

// ResetLimits bounds password reset requests in each Window, per email and per client IP (a
// limit of 0 is off), and verification email resends per account.
type ResetLimits struct {
	PerEmail int
	PerIP    int
	Window   time.Duration
}

// DefaultResetLimits: a few requests per address an hour are plenty for its owner and too
// few to flood anyone's mailbox.
var DefaultResetLimits = ResetLimits{PerEmail: 3, PerIP: 20, Window: time.Hour}

// issueToken stores a new token of purpose for user u in q's transaction, spending the older
// unused ones of that purpose (only the latest link works), and owes each of emails with it.
func (s *Service) issueToken(ctx context.Context, tx pgx.Tx, q *db.Queries, userID int64, purpose string,
	ttl time.Duration, newEmail, oldEmail *string, emails ...string) error {
	if _, err := q.AccountTokenRetireForUser(ctx, db.AccountTokenRetireForUserParams{UserID: userID, Purpose: purpose}); err != nil {
		return fmt.Errorf("retire %s tokens: %w", purpose, err)
	}
	token, hash, err := newRefreshToken()
	if err != nil {
		return err
	}
	row, err := q.AccountTokenInsert(ctx, db.AccountTokenInsertParams{UserID: userID, Purpose: purpose, TokenHash: hash,
		NewEmail: newEmail, OldEmail: oldEmail, ExpiresAt: s.now().Add(ttl)})
	if err != nil {
		return fmt.Errorf("insert %s token: %w", purpose, err)
	}
	if s.Emails == nil {
		return nil
	}
	for _, e := range emails {
		if err := s.Emails.AccountEmail(ctx, tx, e, row.ID, token); err != nil {
			return err
		}
	}
	return nil
}

// spendToken finds token for one of purposes, locked, and marks it used: it must exist, be
// unused and not expired. Errors: INVALID_TOKEN.
func (s *Service) spendToken(ctx context.Context, q *db.Queries, token string, purposes ...string) (db.AccountToken, error) {
	invalid := apperr.FieldError(apperr.InvalidToken, "The link is invalid, already used or expired.", "input", "token")
	if token == "" || len(token) > maxTokenLen {
		return db.AccountToken{}, invalid
	}
	row, err := q.AccountTokenGetByHashForUpdate(ctx, hashToken(token))
	if postgres.IsNotFound(err) {
		return db.AccountToken{}, invalid
	}
	if err != nil {
		return db.AccountToken{}, fmt.Errorf("get account token: %w", err)
	}
	known := false
	for _, p := range purposes {
		known = known || row.Purpose == p
	}
	if !known || row.UsedAt != nil || !s.now().Before(row.ExpiresAt) {
		return db.AccountToken{}, invalid
	}
	if _, err := q.AccountTokenMarkUsed(ctx, row.ID); err != nil {
		return db.AccountToken{}, fmt.Errorf("mark account token used: %w", err)
	}
	return row, nil
}

// VerifyEmail uses a link's token: one sent at registration (or resent) proves the account's
// address; one sent for an email change moves the account to the new address, which it
// proves. A token works once.
// Errors: INVALID_TOKEN, EMAIL_TAKEN (the new address was taken meanwhile).
func (s *Service) VerifyEmail(ctx context.Context, token string) (User, error) {
	var u User
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		t, err := s.spendToken(ctx, q, token, PurposeVerifyEmail, PurposeChangeEmail)
		if err != nil {
			return err
		}
		if t.Purpose == PurposeVerifyEmail {
			row, err := q.UserMarkEmailVerified(ctx, t.UserID)
			if err != nil {
				return fmt.Errorf("mark email verified: %w", err)
			}
			u = userFromRow(row)
			return nil
		}
		row, err := q.UserUpdateEmail(ctx, db.UserUpdateEmailParams{ID: t.UserID, Email: *t.NewEmail})
		if postgres.IsUniqueViolation(err, "users_email_key") {
			return emailTaken("token")
		}
		if err != nil {
			return fmt.Errorf("update email: %w", err)
		}
		// The old address's verification links are void: it is no longer the account's.
		if _, err := q.AccountTokenRetireForUser(ctx, db.AccountTokenRetireForUserParams{UserID: t.UserID, Purpose: PurposeVerifyEmail}); err != nil {
			return err
		}
		u = userFromRow(row)
		return nil
	})
	return u, err
}

func emailTaken(field string) *apperr.Error {
	return apperr.FieldError(apperr.EmailTaken, "An account with this email already exists.", "input", field)
}

// ResendVerification sends the viewer's address a new verification link (the older ones stop
// working). Errors: EMAIL_ALREADY_VERIFIED, RATE_LIMITED, NOT_FOUND.
func (s *Service) ResendVerification(ctx context.Context, v auth.Viewer) (User, error) {
	row, err := s.db.UserGetByID(ctx, v.UserID)
	if err != nil {
		return User{}, postgres.MapError(err, "user")
	}
	if row.EmailVerifiedAt != nil {
		return User{}, apperr.New(apperr.EmailAlreadyVerified, "This email address is verified already.")
	}
	if err := s.checkRate(ctx, fmt.Sprintf("verify-resend:user:%d", v.UserID), verificationResendRate, "Too many verification emails."); err != nil {
		return User{}, err
	}
	err = s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		return s.issueToken(ctx, tx, q, row.ID, PurposeVerifyEmail, emailTokenTTLVerify, nil, nil, EmailVerify)
	})
	return userFromRow(row), err
}

// ChangeEmail starts moving the viewer's account to newEmail: a link goes to newEmail and a
// notice to the current address; the account changes only when the link is used
// (VerifyEmail). The current password is required.
// Errors: INVALID, UNCHANGED, EMAIL_TAKEN, WRONG_PASSWORD, PASSWORD_NOT_SET.
func (s *Service) ChangeEmail(ctx context.Context, v auth.Viewer, newEmail, password string) (User, error) {
	newEmail = NormalizeEmail(newEmail)
	if e := validateEmail(newEmail, "input", "newEmail"); e != nil {
		return User{}, e
	}
	row, err := s.db.UserGetByID(ctx, v.UserID)
	if err != nil {
		return User{}, postgres.MapError(err, "user")
	}
	if err := checkCurrentPassword(row, password, "password"); err != nil {
		return User{}, err
	}
	if newEmail == row.Email {
		return User{}, apperr.FieldError(apperr.Unchanged, "This is the account's email already.", "input", "newEmail")
	}
	err = s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		taken, err := q.UserEmailExists(ctx, newEmail)
		if err != nil {
			return fmt.Errorf("check email: %w", err)
		}
		if taken {
			return emailTaken("newEmail")
		}
		return s.issueToken(ctx, tx, q, row.ID, PurposeChangeEmail, emailTokenTTLChange, &newEmail, &row.Email,
			EmailChange, EmailChangeNotice)
	})
	return userFromRow(row), err
}

// checkCurrentPassword checks the password an account's owner gave to confirm a sensitive
// change. Errors: PASSWORD_NOT_SET (an account without one: set it by a password reset),
// WRONG_PASSWORD.
func checkCurrentPassword(row db.User, password, field string) error {
	if row.PasswordHash == "" {
		return apperr.FieldError(apperr.PasswordNotSet, "This account has no password yet. Set one with a password reset first.", "input", field)
	}
	ok, err := verifyPassword(password, row.PasswordHash)
	if err != nil {
		return fmt.Errorf("verify password of user %d: %w", row.ID, err)
	}
	if !ok {
		return apperr.FieldError(apperr.WrongPassword, "The password is incorrect.", "input", field)
	}
	return nil
}

// RequestPasswordReset sends a reset link to email if an account has it. The answer is the
// same whether or not one does; requests are rate limited per email and per client IP, for
// addresses with and without an account alike.
// Errors: RATE_LIMITED.
func (s *Service) RequestPasswordReset(ctx context.Context, email string, meta ClientMeta) error {
	email = NormalizeEmail(email)
	limits := s.ResetLimits
	if err := s.checkRate(ctx, "reset:ip:"+meta.IP, limits.PerIP, "Too many password reset requests."); err != nil {
		return err
	}
	if err := s.checkRate(ctx, "reset:email:"+email, limits.PerEmail, "Too many password reset requests."); err != nil {
		return err
	}
	if validateEmail(email) != nil {
		return nil
	}
	return s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		row, err := q.UserGetByEmail(ctx, email)
		if postgres.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("get user by email: %w", err)
		}
		return s.issueToken(ctx, tx, q, row.ID, PurposeResetPassword, emailTokenTTLReset, nil, nil, EmailResetPassword)
	})
}

// checkRate counts one hit of key against limit per ResetLimits.Window. A rate-limit store
// outage fails open, loudly, as sign-in's does.
func (s *Service) checkRate(ctx context.Context, key string, limit int, what string) error {
	if limit <= 0 || s.limiter == nil {
		return nil
	}
	allowed, retry, err := s.limiter.Hit(ctx, key, limit, s.ResetLimits.Window)
	if err != nil {
		s.log.WarnContext(ctx, "account rate limit unavailable", "err", err)
		return nil
	}
	if !allowed {
		secs := ratelimit.RetrySeconds(retry)
		return &apperr.Error{Code: apperr.RateLimited, RetryAfterSeconds: secs,
			Message: fmt.Sprintf("%s Try again in %d seconds.", what, secs)}
	}
	return nil
}

// ResetPassword sets a new password with a reset link's token, which works once and for an
// hour; it ends every session of the account (a reset is what an owner does who fears that
// someone else is signed in), and proves the address the link went to.
// Errors: PASSWORD_TOO_SHORT, PASSWORD_TOO_COMMON, INVALID, INVALID_TOKEN.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) (User, error) {
	if e := validatePassword(newPassword, "input", "newPassword"); e != nil {
		return User{}, e
	}
	hash, err := hashPassword(newPassword)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		t, err := s.spendToken(ctx, q, token, PurposeResetPassword)
		if err != nil {
			return err
		}
		if _, err := q.UserUpdatePassword(ctx, db.UserUpdatePasswordParams{ID: t.UserID, PasswordHash: hash}); err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		ended, err := q.SessionRevokeAllForUser(ctx, db.SessionRevokeAllForUserParams{UserID: t.UserID, Reason: ptr("password reset")})
		if err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		s.Revocations.AnnounceAfterCommit(ctx, ended...)
		// The reset proves the mailbox: a social identity linked without the provider vouching
		// for this address (one made by whoever typed it at the provider) loses its way in.
		if _, err := q.ExternalIdentityDeleteUnverified(ctx, t.UserID); err != nil {
			return fmt.Errorf("unlink unverified identities: %w", err)
		}
		row, err := q.UserMarkEmailVerified(ctx, t.UserID)
		if err != nil {
			return fmt.Errorf("mark email verified: %w", err)
		}
		u = userFromRow(row)
		return nil
	})
	return u, err
}
