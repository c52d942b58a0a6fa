package jobs

import "github.com/riverqueue/river"

// SendAccountEmailArgs asks to send one account email (internal/notify): the verification of
// an address, an email change's link (to the new address) or notice (to the old one), or a
// password reset link. It is inserted in the transaction that stores token TokenID (its hash
// only); the job reads the recipient from the token's row and the account when it runs, so no
// address is kept in the queue. Token is the link's secret: the job is its only copy, it is
// never logged, and it works once and expires within a day (a reset's within an hour).
type SendAccountEmailArgs struct {
	Email   string `json:"email"` // verify_email, change_email, change_email_notice, reset_password
	TokenID int64  `json:"token_id"`
	Token   string `json:"token,omitempty"`
}

// Kind names the job in the queue table.
func (SendAccountEmailArgs) Kind() string { return "email_account" }

// InsertOpts: as SendOrderPlacedEmailArgs, but fewer attempts: a link sent days late has
// expired anyway.
func (SendAccountEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, Queue: QueueEmail}
}
