package account

import (
	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/auth"
)

func userFromRow(r db.User) User {
	return User{ID: r.ID, Email: r.Email, Name: r.Name, Role: auth.Role(r.Role), VendorID: r.VendorID, CreatedAt: r.CreatedAt,
		Phone: r.Phone, Locale: r.Locale, EmailVerified: r.EmailVerifiedAt != nil, HasPassword: r.PasswordHash != ""}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
