package apperr

// Codes of the account profile, email and deletion flows (issue 18).
const (
	PasswordTooShort     Code = "PASSWORD_TOO_SHORT"
	PasswordTooCommon    Code = "PASSWORD_TOO_COMMON"
	PasswordNotSet       Code = "PASSWORD_NOT_SET"
	EmailAlreadyVerified Code = "EMAIL_ALREADY_VERIFIED"
	LastAdmin            Code = "LAST_ADMIN"
	VendorMember         Code = "VENDOR_MEMBER"
)
