package address

import "github.com/shopgraph/shopgraph/db"

func fromRow(r db.Address) Address {
	return Address{
		ID: r.ID, UserID: r.UserID,
		Postal: Postal{Name: r.Name, Line1: r.Line1, Line2: r.Line2, City: r.City, Region: r.Region,
			PostalCode: r.PostalCode, Country: r.Country, Phone: r.Phone},
		DefaultShipping: r.IsDefaultShipping, DefaultBilling: r.IsDefaultBilling,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}
