package notify

// This file sends the account emails of issue 18 (owed by internal/account): the verification
// of an address, an email change's link to the new address and notice to the old one, and a
// password reset link. Their job carries the link's token (the only copy: the database keeps
// its hash); the recipient is read from the token's row and the account when the job runs.
// The delivery record (email_deliveries) keeps the recipient and a key naming the token's row,
// never the token or the body.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// KindAccount is an account email: a verification link, an email change's link or notice, a
// password reset link.
const KindAccount Kind = "account"

// DefaultStorefrontURL is where account links point when Options.StorefrontURL is not set.
const DefaultStorefrontURL = "http://localhost:3000"

// accountTemplateNames are the account emails' templates (part of TemplateNames).
var accountTemplateNames = []string{
	"account_verify_email.subject.tmpl", "account_verify_email.txt.tmpl", "account_verify_email.html.tmpl",
	"account_email_change.subject.tmpl", "account_email_change.txt.tmpl", "account_email_change.html.tmpl",
	"account_email_change_notice.subject.tmpl", "account_email_change_notice.txt.tmpl", "account_email_change_notice.html.tmpl",
	"account_password_reset.subject.tmpl", "account_password_reset.txt.tmpl", "account_password_reset.html.tmpl",
}

// accountEmails are, per email of jobs.SendAccountEmailArgs, its template and the storefront
// page its link opens ("" for the notice, which has none).
var accountEmails = map[string]struct{ template, page string }{
	"verify_email":        {"account_verify_email", "/account/verify-email"},
	"change_email":        {"account_email_change", "/account/verify-email"},
	"change_email_notice": {"account_email_change_notice", ""},
	"reset_password":      {"account_password_reset", "/account/reset-password"},
}

// accountEmailData is what an account email shows.
type accountEmailData struct {
	Subject  string
	Name     string
	Link     string
	NewEmail string
}

// AccountEmailMessage renders account email `email` (a key of accountEmails) to `to`.
func (t *Templates) AccountEmailMessage(to, email string, data accountEmailData) (Message, error) {
	e, ok := accountEmails[email]
	if !ok {
		return Message{}, fmt.Errorf("no account email %q: %w", email, ErrPermanent)
	}
	return t.render(to, e.template, &data, func(s string) { data.Subject = s })
}

// validateAccountEmails renders every account email with sample data.
func (t *Templates) validateAccountEmails() error {
	for email := range accountEmails {
		for _, name := range []string{"", "Ada"} {
			if _, err := t.AccountEmailMessage("ada@example.com", email, accountEmailData{Name: name,
				Link: DefaultStorefrontURL + "/account/verify-email?token=sample", NewEmail: "new@example.com"}); err != nil {
				return err
			}
		}
	}
	return nil
}

// AccountEmail owes account email `email` with the token of account_tokens row tokenID: it
// inserts its job in tx, the transaction that stores the token. It does nothing when emails
// are off.
func (s *Service) AccountEmail(ctx context.Context, tx pgx.Tx, email string, tokenID int64, token string) error {
	if !s.Enabled() {
		return nil
	}
	args := jobs.SendAccountEmailArgs{Email: email, TokenID: tokenID, Token: token}
	if accountEmails[email].page == "" {
		args.Token = "" // the notice has no link: its job need not hold the secret
	}
	return s.jobs.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: args}})
}

// AccountEventKey is the delivery key of an account email: the email and its token's row.
func AccountEventKey(email string, tokenID int64) string {
	return fmt.Sprintf("%s:%s:%d", KindAccount, email, tokenID)
}

// SendAccountEmail sends one account email unless it was sent (or refused for good) before.
// One whose token or account is gone (the account was deleted) is not sent; a link whose token
// was used or replaced meanwhile neither.
func (s *Service) SendAccountEmail(ctx context.Context, a jobs.SendAccountEmailArgs) (Outcome, error) {
	if !s.Enabled() {
		return "", errOff("account email")
	}
	e, ok := accountEmails[a.Email]
	if !ok {
		return "", fmt.Errorf("no account email %q: %w", a.Email, ErrPermanent)
	}
	q := db.New(s.db.Pool)
	t, err := q.AccountTokenGetByID(ctx, a.TokenID)
	if postgres.IsNotFound(err) {
		return AlreadySent, nil
	}
	if err != nil {
		return "", fmt.Errorf("get account token %d: %w", a.TokenID, err)
	}
	if e.page != "" && t.UsedAt != nil {
		return AlreadySent, nil
	}
	u, err := q.UserGetByID(ctx, t.UserID)
	if postgres.IsNotFound(err) {
		return AlreadySent, nil
	}
	if err != nil {
		return "", fmt.Errorf("get account token %d's user: %w", a.TokenID, err)
	}
	to, data := u.Email, accountEmailData{Name: u.Name}
	switch a.Email {
	case "change_email":
		to = deref(t.NewEmail)
	case "change_email_notice":
		to, data.NewEmail = deref(t.OldEmail), deref(t.NewEmail)
	}
	if e.page != "" {
		data.Link = strings.TrimRight(s.storefront(), "/") + e.page + "?token=" + url.QueryEscape(a.Token)
	}
	msg, err := s.tmpl().AccountEmailMessage(to, a.Email, data)
	if err != nil {
		return "", err
	}
	return s.deliver(ctx, AccountEventKey(a.Email, a.TokenID), msg)
}

func (s *Service) storefront() string {
	if s.storefrontURL == "" {
		return DefaultStorefrontURL
	}
	return s.storefrontURL
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// AccountEmailWorker sends an account email; failures as OrderPlacedWorker's. Its log lines
// name the token's row, never the token.
type AccountEmailWorker struct {
	river.WorkerDefaults[jobs.SendAccountEmailArgs]
	Notify *Service
}

// Work implements river.Worker.
func (w *AccountEmailWorker) Work(ctx context.Context, job *river.Job[jobs.SendAccountEmailArgs]) error {
	_, err := w.Notify.SendAccountEmail(ctx, job.Args)
	if snooze := snoozed(err); snooze != nil {
		return snooze
	}
	if errors.Is(err, ErrPermanent) {
		w.Notify.log.WarnContext(ctx, "account email refused for good", "email", job.Args.Email, "token_id", job.Args.TokenID, "err", err)
		return river.JobCancel(err)
	}
	return err
}
