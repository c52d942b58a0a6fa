package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/ratelimit"
)

// LoginLimits bounds sign-in attempts in each Window: per pair of email and client IP, per
// client IP, and per email. The pair's limit is the one that stops a guesser; the per-email
// ceiling is much higher, because anyone can spend it: it only stops a guesser spread over many
// addresses, and when it does, it locks the owner out too. A limit of 0 is off.
type LoginLimits struct {
	PerEmailIP int
	PerEmail   int
	PerIP      int
	Window     time.Duration
}

// Service is the account use cases.
type Service struct {
	// Emails, when set, is owed the account emails (verification, email change, password
	// reset) in the transactions that store their tokens.
	Emails Emailer
	// ResetLimits bound password reset requests and verification resends.
	ResetLimits ResetLimits
	// Revocations, when set, is told of every session revoked, so that its access tokens stop
	// working within seconds on every instance (revocation.go).
	Revocations *RevocationWatcher

	db      *postgres.DB
	tokens  *auth.Tokens
	limiter ratelimit.Limiter
	limits  LoginLimits
	log     *slog.Logger
	now     func() time.Time

	dummyOnce sync.Once
	dummyHash string
}

// NewService returns an account service.
func NewService(d *postgres.DB, tokens *auth.Tokens, limiter ratelimit.Limiter, limits LoginLimits, log *slog.Logger) *Service {
	return &Service{db: d, tokens: tokens, limiter: limiter, limits: limits, log: log, now: time.Now, ResetLimits: DefaultResetLimits}
}

// ClientMeta describes the client starting a session, for the session record and rate limits.
type ClientMeta struct {
	IP        string
	UserAgent string
}

// Register creates a CUSTOMER account and signs it in.
// Errors: INVALID (per field, all at once), EMAIL_TAKEN.
func (s *Service) Register(ctx context.Context, in RegisterInput, meta ClientMeta) (Session, error) {
	in.Email = NormalizeEmail(in.Email)
	if err := in.validate(); err != nil {
		return Session{}, err
	}
	hash, err := hashPassword(in.Password)
	if err != nil {
		return Session{}, err
	}
	var sess Session
	err = s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		row, err := q.UserInsert(ctx, db.UserInsertParams{
			Email: in.Email, PasswordHash: hash, Name: in.Name, Role: db.UserRoleCUSTOMER,
		})
		if postgres.IsUniqueViolation(err, "users_email_key") {
			return apperr.FieldError(apperr.EmailTaken, "An account with this email already exists.", "input", "email")
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		// The address is proved by the link this sends; until then the account can shop.
		if err := s.issueToken(ctx, tx, q, row.ID, PurposeVerifyEmail, emailTokenTTLVerify, nil, nil, EmailVerify); err != nil {
			return err
		}
		sess, err = s.startSession(ctx, q, userFromRow(row), meta)
		return err
	})
	return sess, err
}

// Login signs in with email and password, starting a new session. It takes about as long for an
// unknown email as for a wrong password, and says INVALID_CREDENTIALS for both.
// Errors: INVALID_CREDENTIALS, RATE_LIMITED.
func (s *Service) Login(ctx context.Context, email, password string, meta ClientMeta) (Session, error) {
	email = NormalizeEmail(email)
	if err := s.checkLoginRate(ctx, email, meta.IP); err != nil {
		return Session{}, err
	}
	invalid := apperr.New(apperr.InvalidCredentials, "The email or password is incorrect.")
	row, err := s.db.UserGetByEmail(ctx, email)
	if postgres.IsNotFound(err) {
		// Spend the same time as a real check so response times do not reveal which emails exist.
		_, _ = verifyPassword(password, s.dummyPasswordHash())
		return Session{}, invalid
	}
	if err != nil {
		return Session{}, fmt.Errorf("get user by email: %w", err)
	}
	if row.PasswordHash == noPassword {
		// An account made by social login has no password; it answers like a wrong one, in
		// the same time, so that nobody learns how an account signs in.
		_, _ = verifyPassword(password, s.dummyPasswordHash())
		return Session{}, invalid
	}
	ok, err := verifyPassword(password, row.PasswordHash)
	if err != nil {
		return Session{}, fmt.Errorf("verify password of user %d: %w", row.ID, err)
	}
	if !ok {
		return Session{}, invalid
	}
	var sess Session
	err = s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		sess, err = s.startSession(ctx, q, userFromRow(row), meta)
		return err
	})
	return sess, err
}

func (s *Service) checkLoginRate(ctx context.Context, email, ip string) error {
	// The budgets are spent in this order and the first that refuses stops the count: an
	// attempt refused for its address or its (email, address) pair never reaches the email's
	// budget, so a guesser on one address spends at most PerEmailIP of the owner's PerEmail.
	// The IP is checked first so that an address spraying many emails is counted, refused or
	// not. ip contains no '|', so the pair's key is unambiguous.
	checks := []struct {
		key   string
		limit int
	}{
		{"login:ip:" + ip, s.limits.PerIP},
		{"login:ip-email:" + ip + "|" + email, s.limits.PerEmailIP},
		{"login:email:" + email, s.limits.PerEmail},
	}
	for _, c := range checks {
		if c.limit <= 0 {
			continue
		}
		allowed, retry, err := s.limiter.Hit(ctx, c.key, c.limit, s.limits.Window)
		if err != nil {
			// A rate-limit store outage must not lock every customer out: fail open, loudly.
			s.log.WarnContext(ctx, "login rate limit unavailable", "err", err)
			continue
		}
		if !allowed {
			secs := ratelimit.RetrySeconds(retry)
			return &apperr.Error{Code: apperr.RateLimited, RetryAfterSeconds: secs,
				Message: fmt.Sprintf("Too many sign-in attempts. Try again in %d seconds.", secs)}
		}
	}
	return nil
}

func (s *Service) dummyPasswordHash() string {
	s.dummyOnce.Do(func() {
		h, err := hashPassword("not-a-real-password-" + uuid.NewString())
		if err != nil {
			panic(err) // crypto/rand failed: nothing is safe to do
		}
		s.dummyHash = h
	})
	return s.dummyHash
}

// startSession creates a session with its first refresh token, inside the caller's transaction.
func (s *Service) startSession(ctx context.Context, q *db.Queries, u User, meta ClientMeta) (Session, error) {
	sid, err := uuid.NewRandom()
	if err != nil {
		return Session{}, err
	}
	expires := s.now().Add(SessionTTL)
	if _, err := q.SessionInsert(ctx, db.SessionInsertParams{
		ID: sid, UserID: u.ID, UserAgent: truncate(meta.UserAgent, 512), IP: meta.IP, ExpiresAt: expires,
	}); err != nil {
		return Session{}, fmt.Errorf("insert session: %w", err)
	}
	return s.issue(ctx, q, u, sid, expires)
}

// issue mints a new refresh token for session sid and a matching access token.
func (s *Service) issue(ctx context.Context, q *db.Queries, u User, sid uuid.UUID, expires time.Time) (Session, error) {
	refresh, hash, err := newRefreshToken()
	if err != nil {
		return Session{}, err
	}
	if err := q.RefreshTokenInsert(ctx, db.RefreshTokenInsertParams{TokenHash: hash, SessionID: sid}); err != nil {
		return Session{}, fmt.Errorf("insert refresh token: %w", err)
	}
	access, accessExp, err := s.tokens.Issue(auth.Viewer{UserID: u.ID, Role: u.Role, VendorID: deref(u.VendorID), SessionID: sid})
	if err != nil {
		return Session{}, err
	}
	return Session{User: u, AccessToken: access, AccessTokenExpiresAt: accessExp, RefreshToken: refresh, ExpiresAt: expires}, nil
}

// Refresh exchanges a refresh token for new tokens. A token works once; presenting a spent one
// means it was stolen or replayed, so the whole session (every token of the family) is revoked.
// Errors: INVALID_TOKEN.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (Session, error) {
	invalid := apperr.FieldError(apperr.InvalidToken, "The refresh token is invalid or expired. Sign in again.", "input", "refreshToken")
	if refreshToken == "" || len(refreshToken) > 128 {
		return Session{}, invalid
	}
	hash := hashToken(refreshToken)
	var (
		sess   Session
		reused bool
	)
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		row, err := q.RefreshTokenGetForUpdate(ctx, hash)
		if postgres.IsNotFound(err) {
			return invalid
		}
		if err != nil {
			return fmt.Errorf("get refresh token: %w", err)
		}
		token, session := row.RefreshToken, row.Session
		if token.UsedAt != nil {
			reused = true
			// Committed, not rolled back: the revocation is the point.
			_, err := q.SessionRevoke(ctx, db.SessionRevokeParams{ID: session.ID, Reason: ptr("refresh token reuse")})
			s.Revocations.AnnounceAfterCommit(ctx, session.ID)
			return err
		}
		if session.RevokedAt != nil || !s.now().Before(session.ExpiresAt) {
			return invalid
		}
		if _, err := q.RefreshTokenMarkUsed(ctx, hash); err != nil {
			return fmt.Errorf("mark refresh token used: %w", err)
		}
		if err := q.SessionTouch(ctx, session.ID); err != nil {
			return fmt.Errorf("touch session: %w", err)
		}
		userRow, err := q.UserGetByID(ctx, session.UserID)
		if err != nil {
			return fmt.Errorf("get user of session: %w", err)
		}
		sess, err = s.issue(ctx, q, userFromRow(userRow), session.ID, session.ExpiresAt)
		return err
	})
	if err != nil {
		return Session{}, err
	}
	if reused {
		s.log.WarnContext(ctx, "refresh token reuse: session revoked")
		return Session{}, invalid
	}
	return sess, nil
}

// Logout revokes the viewer's current session.
func (s *Service) Logout(ctx context.Context, v auth.Viewer) (User, error) {
	if _, err := s.db.SessionRevoke(ctx, db.SessionRevokeParams{ID: v.SessionID, Reason: ptr("logout")}); err != nil {
		return User{}, fmt.Errorf("revoke session: %w", err)
	}
	s.Revocations.AnnounceAfterCommit(ctx, v.SessionID) // not in a transaction: at once
	return s.Get(ctx, v.UserID)
}

// LogoutRefreshToken revokes the session a refresh token belongs to (sign-out with only the
// refresh cookie, e.g. after the access token expired). An unknown token is not an error.
func (s *Service) LogoutRefreshToken(ctx context.Context, refreshToken string) error {
	return s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		row, err := q.RefreshTokenGetForUpdate(ctx, hashToken(refreshToken))
		if postgres.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("get refresh token: %w", err)
		}
		_, err = q.SessionRevoke(ctx, db.SessionRevokeParams{ID: row.Session.ID, Reason: ptr("logout")})
		s.Revocations.AnnounceAfterCommit(ctx, row.Session.ID)
		return err
	})
}

// ChangePassword sets a new password after checking the current one, and revokes every session
// of the account but the viewer's own.
// Errors: PASSWORD_TOO_SHORT, PASSWORD_TOO_COMMON, INVALID, WRONG_PASSWORD, UNCHANGED,
// PASSWORD_NOT_SET.
func (s *Service) ChangePassword(ctx context.Context, v auth.Viewer, current, next string) (User, error) {
	if e := validatePassword(next, "input", "newPassword"); e != nil {
		return User{}, e
	}
	if current == next {
		return User{}, apperr.FieldError(apperr.Unchanged, "The new password must differ from the current one.", "input", "newPassword")
	}
	row, err := s.db.UserGetByID(ctx, v.UserID)
	if err != nil {
		return User{}, postgres.MapError(err, "user")
	}
	if row.PasswordHash == noPassword {
		return User{}, apperr.FieldError(apperr.PasswordNotSet, "This account has no password yet. Set one with a password reset first.", "input", "currentPassword")
	}
	ok, err := verifyPassword(current, row.PasswordHash)
	if err != nil {
		return User{}, fmt.Errorf("verify password of user %d: %w", row.ID, err)
	}
	if !ok {
		return User{}, apperr.FieldError(apperr.WrongPassword, "The current password is incorrect.", "input", "currentPassword")
	}
	hash, err := hashPassword(next)
	if err != nil {
		return User{}, err
	}
	err = s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		if _, err := q.UserUpdatePassword(ctx, db.UserUpdatePasswordParams{ID: v.UserID, PasswordHash: hash}); err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		_, err := q.SessionRevokeAllForUserExcept(ctx, db.SessionRevokeAllForUserExceptParams{
			UserID: v.UserID, KeepID: v.SessionID, Reason: ptr("password changed"),
		})
		s.Revocations.AnnounceAfterCommit(ctx)
		return err
	})
	if err != nil {
		return User{}, err
	}
	return userFromRow(row), nil
}

// Get returns an account. Errors: NOT_FOUND.
func (s *Service) Get(ctx context.Context, id int64) (User, error) {
	row, err := s.db.UserGetByID(ctx, id)
	if err != nil {
		return User{}, postgres.MapError(err, "user")
	}
	return userFromRow(row), nil
}

// GetVisible returns account id if v (nil when anonymous) may see it: itself, and admins.
// Errors: NOT_FOUND (also for one v may not see).
func (s *Service) GetVisible(ctx context.Context, v *auth.Viewer, id int64) (User, error) {
	if v == nil || !CanView(*v, id) {
		return User{}, apperr.New(apperr.NotFound, "user not found")
	}
	return s.Get(ctx, id)
}

// ListByIDs returns the accounts that exist among ids, keyed by id (for dataloaders).
func (s *Service) ListByIDs(ctx context.Context, ids []int64) (map[int64]User, error) {
	rows, err := s.db.UserListByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make(map[int64]User, len(rows))
	for _, r := range rows {
		out[r.ID] = userFromRow(r)
	}
	return out, nil
}

// SetRole gives an account another role: admins may, but not take their own admin role away.
// Errors: FORBIDDEN, NOT_FOUND, INVALID.
func (s *Service) SetRole(ctx context.Context, v auth.Viewer, userID int64, role auth.Role) (User, error) {
	if err := mayChangeRoles(v); err != nil {
		return User{}, err
	}
	if !role.Valid() {
		return User{}, apperr.FieldError(apperr.Invalid, "Unknown role.", "input", "role")
	}
	if err := mayGiveRole(v, userID, role); err != nil {
		return User{}, err
	}
	row, err := s.db.UserSetRole(ctx, db.UserSetRoleParams{ID: userID, Role: db.UserRole(role)})
	if postgres.IsNotFound(err) {
		return User{}, apperr.FieldError(apperr.NotFound, "No User has this ID.", "input", "id")
	}
	if err != nil {
		return User{}, err
	}
	return userFromRow(row), nil
}

// EnsureAdmin creates an admin account, or promotes an existing one and sets its password (the
// `shopgraph admin create` command and the development admin).
// Errors: INVALID.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (User, error) {
	email = NormalizeEmail(email)
	var errs apperr.List
	if e := validateEmail(email, "email"); e != nil {
		errs = append(errs, e)
	}
	if e := validatePassword(password, "password"); e != nil {
		errs = append(errs, e)
	}
	if err := errs.Err(); err != nil {
		return User{}, err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return User{}, err
	}
	row, err := s.db.UserUpsertAdmin(ctx, db.UserUpsertAdminParams{Email: email, PasswordHash: hash, Name: "Admin"})
	if err != nil {
		return User{}, fmt.Errorf("upsert admin: %w", err)
	}
	return userFromRow(row), nil
}

// AdminExists reports whether any admin account exists.
func (s *Service) AdminExists(ctx context.Context) (bool, error) {
	n, err := s.db.UserCountByRole(ctx, db.UserRoleADMIN)
	return n > 0, err
}

// newRefreshToken returns a random token (256 bits, URL-safe) and the hash that is stored.
func newRefreshToken() (string, []byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("read random: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func ptr[T any](v T) *T { return &v }

// EnsureVendor creates a VENDOR account, or returns the existing account with that email (demo
// data and tests). Errors: INVALID.
func (s *Service) EnsureVendor(ctx context.Context, email, password, name string) (User, error) {
	email = NormalizeEmail(email)
	if e := validateEmail(email, "email"); e != nil {
		return User{}, e
	}
	if e := validatePassword(password, "password"); e != nil {
		return User{}, e
	}
	hash, err := hashPassword(password)
	if err != nil {
		return User{}, err
	}
	row, err := s.db.UserUpsertVendor(ctx, db.UserUpsertVendorParams{Email: email, PasswordHash: hash, Name: name})
	if err != nil {
		return User{}, fmt.Errorf("upsert vendor: %w", err)
	}
	return userFromRow(row), nil
}

// SessionActive reports whether a session is still valid (not revoked, not expired): live
// subscriptions check it, so signing out or changing the password ends them.
func (s *Service) SessionActive(ctx context.Context, id uuid.UUID) (bool, error) {
	row, err := s.db.SessionGetByID(ctx, id)
	if postgres.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return row.RevokedAt == nil && s.now().Before(row.ExpiresAt), nil
}
