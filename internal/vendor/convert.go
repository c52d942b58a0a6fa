package vendor

import "github.com/shopgraph/shopgraph/db"

// FromRow converts a vendor's row, ours or one another domain's statement read (the catalog's
// product page joins it); whether a viewer may see it is still Visible's to say.
func FromRow(r db.Vendor) Vendor {
	return Vendor{
		ID: r.ID, Name: r.Name, Slug: r.Slug, Description: r.Description, LogoURL: r.LogoUrl,
		Status: Status(r.Status), ContactEmail: r.ContactEmail, CommissionBps: int(r.CommissionBps),
		ApplicantID: r.ApplicantID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func eventFromRow(r db.VendorEvent) Event {
	return Event{
		ID: r.ID, VendorID: r.VendorID, Action: Action(r.Action), Status: Status(r.Status),
		Reason: r.Reason, ActorID: r.ActorID, CreatedAt: r.CreatedAt,
	}
}
