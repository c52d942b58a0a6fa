package account

import (
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// This file is social login's policy: when a provider's identity may join an existing account,
// who sees an account's identities, and when one may be unlinked.

// noPassword is the password_hash of an account made by social login: no argon2id hash is
// empty, so password sign-in never matches it (Login checks it before verifying).
const noPassword = ""

// mayLinkByEmail says whether an identity may join the existing account with its email: only
// when the provider vouches that the person controls that mailbox (OpenID Connect's
// email_verified). Anything less would let whoever opens an account at a provider under
// someone else's address sign in to theirs. Facebook never vouches (its Graph API has no such
// flag), so a Facebook identity never joins an existing account. Errors: EMAIL_NOT_VERIFIED.
func mayLinkByEmail(p ExternalProfile) error {
	if !p.EmailVerified {
		return apperr.New(apperr.EmailNotVerified,
			"An account with this email already exists, and the provider does not confirm the email is yours. Sign in with your password instead.")
	}
	return nil
}

// canSeeExternalAccounts: an account's linked identities are the account's own business only.
func canSeeExternalAccounts(v auth.Viewer, userID int64) bool {
	return v.UserID != 0 && v.UserID == userID
}

// mayUnlink says whether an identity may go from an account with hasPassword and linked
// identities: not the last way to sign in. Errors: LAST_SIGN_IN_METHOD.
func mayUnlink(hasPassword bool, linked int) error {
	if !hasPassword && linked <= 1 {
		return apperr.FieldError(apperr.LastSignInMethod,
			"This is the only way to sign in to your account: set a password or link another account first.", "input", "provider")
	}
	return nil
}
