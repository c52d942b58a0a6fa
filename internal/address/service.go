package address

import (
	"context"
	"fmt"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// Service is the address-book use cases.
type Service struct {
	db *postgres.DB
}

// NewService returns an address-book service.
func NewService(d *postgres.DB) *Service { return &Service{db: d} }

// Patch is addressUpdate's input: nil fields keep their value, an empty optional field
// (line2, region, phone) clears it.
type Patch struct {
	Name, Line1, Line2, City, Region, PostalCode, Country, Phone *string
}

func (p Patch) applyTo(a Postal) Postal {
	for _, f := range []struct {
		from *string
		to   *string
	}{
		{p.Name, &a.Name}, {p.Line1, &a.Line1}, {p.Line2, &a.Line2}, {p.City, &a.City},
		{p.Region, &a.Region}, {p.PostalCode, &a.PostalCode}, {p.Country, &a.Country}, {p.Phone, &a.Phone},
	} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	return a
}

// notFound answers an address id that is not one of the viewer's own, whether it belongs to
// someone else, was deleted or never was: the same answer for each, so ids cannot be probed.
func notFound(field ...string) error {
	return apperr.FieldError(apperr.NotFound, "No address of yours has this ID.", field...)
}

// Create adds p to the viewer's address book.
// Errors: INVALID, INVALID_COUNTRY, INVALID_POSTAL_CODE (per field, under "input"),
// ADDRESS_LIMIT_REACHED; nothing changes on any of them.
func (s *Service) Create(ctx context.Context, v auth.Viewer, p Postal) (Address, error) {
	p, err := Clean(p, "input")
	if err != nil {
		return Address{}, err
	}
	var out Address
	err = s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		// The owner's row lock makes the count and the insert one step for concurrent creates:
		// without it two of them could both see 49 addresses and both insert.
		if err := q.AddressLockOwner(ctx, owner(v)); err != nil {
			return fmt.Errorf("lock address book: %w", err)
		}
		row, err := q.AddressInsertUnderLimit(ctx, db.AddressInsertUnderLimitParams{
			UserID: owner(v), Name: p.Name, Line1: p.Line1, Line2: p.Line2, City: p.City, Region: p.Region,
			PostalCode: p.PostalCode, Country: p.Country, Phone: p.Phone, MaxCount: MaxPerAccount,
		})
		if postgres.IsNotFound(err) {
			return apperr.Newf(LimitReached, "An address book holds at most %d addresses; delete one first.", MaxPerAccount)
		}
		if err != nil {
			return fmt.Errorf("insert address: %w", err)
		}
		out = fromRow(row)
		return nil
	})
	return out, err
}

// Update changes the viewer's address id by patch; the result is checked as a whole.
// Errors: NOT_FOUND (input.id), INVALID, INVALID_COUNTRY, INVALID_POSTAL_CODE; nothing changes
// on any of them.
func (s *Service) Update(ctx context.Context, v auth.Viewer, id int64, patch Patch) (Address, error) {
	var out Address
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		if err := q.AddressLockOwner(ctx, owner(v)); err != nil {
			return fmt.Errorf("lock address book: %w", err)
		}
		row, err := q.AddressGetOwned(ctx, db.AddressGetOwnedParams{ID: id, UserID: owner(v)})
		if postgres.IsNotFound(err) {
			return notFound("input", "id")
		}
		if err != nil {
			return fmt.Errorf("get address: %w", err)
		}
		p, err := Clean(patch.applyTo(fromRow(row).Postal), "input")
		if err != nil {
			return err
		}
		row, err = q.AddressUpdate(ctx, db.AddressUpdateParams{
			ID: id, UserID: owner(v), Name: p.Name, Line1: p.Line1, Line2: p.Line2, City: p.City, Region: p.Region,
			PostalCode: p.PostalCode, Country: p.Country, Phone: p.Phone,
		})
		if postgres.IsNotFound(err) { // deleted meanwhile: Delete takes no owner lock
			return notFound("input", "id")
		}
		if err != nil {
			return fmt.Errorf("update address: %w", err)
		}
		out = fromRow(row)
		return nil
	})
	return out, err
}

// Delete removes the viewer's address id, and with it its default flags (the account then has
// no default for that use). Orders placed with it keep their own copy.
// Errors: NOT_FOUND (input.id).
func (s *Service) Delete(ctx context.Context, v auth.Viewer, id int64) (Address, error) {
	row, err := s.db.AddressDelete(ctx, db.AddressDeleteParams{ID: id, UserID: owner(v)})
	if postgres.IsNotFound(err) {
		return Address{}, notFound("input", "id")
	}
	if err != nil {
		return Address{}, fmt.Errorf("delete address: %w", err)
	}
	return fromRow(row), nil
}

// SetDefault makes the viewer's address id its default for use, in place of the one before.
// Errors: NOT_FOUND (input.id), INVALID (an unknown use); nothing changes on either.
func (s *Service) SetDefault(ctx context.Context, v auth.Viewer, id int64, use Use) (Address, error) {
	if !use.Valid() {
		return Address{}, apperr.FieldError(apperr.Invalid, "The type must be SHIPPING or BILLING.", "input", "type")
	}
	var out Address
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		// Serialised per account by the owner's lock: the flag moves in two statements, and
		// the unique index on it would refuse a concurrent second default.
		if err := q.AddressLockOwner(ctx, owner(v)); err != nil {
			return fmt.Errorf("lock address book: %w", err)
		}
		var (
			row db.Address
			err error
		)
		if use == Shipping {
			err = q.AddressClearDefaultShipping(ctx, db.AddressClearDefaultShippingParams{UserID: owner(v), KeepID: id})
			if err == nil {
				row, err = q.AddressSetDefaultShipping(ctx, db.AddressSetDefaultShippingParams{ID: id, UserID: owner(v)})
			}
		} else {
			err = q.AddressClearDefaultBilling(ctx, db.AddressClearDefaultBillingParams{UserID: owner(v), KeepID: id})
			if err == nil {
				row, err = q.AddressSetDefaultBilling(ctx, db.AddressSetDefaultBillingParams{ID: id, UserID: owner(v)})
			}
		}
		// No row: not the viewer's; the cleared flag is rolled back with the transaction.
		if postgres.IsNotFound(err) {
			return notFound("input", "id")
		}
		if err != nil {
			return fmt.Errorf("set default %s address: %w", use, err)
		}
		out = fromRow(row)
		return nil
	})
	return out, err
}

// Shows reports whether v may read the address book of account userID (policy.go).
func (s *Service) Shows(v auth.Viewer, userID int64) bool { return CanView(v, userID) }

// Get is address id for v: its owner's and admins'. Errors: NOT_FOUND.
func (s *Service) Get(ctx context.Context, v auth.Viewer, id int64) (Address, error) {
	row, err := s.db.AddressGetByID(ctx, id)
	if err == nil && !CanView(v, row.UserID) {
		err = notFound()
	}
	if err != nil {
		return Address{}, postgres.MapError(err, "address")
	}
	return fromRow(row), nil
}

// BooksByUserIDs is the address books of accounts, for the dataloader; it does no
// authorisation (resolvers ask Shows first).
func (s *Service) BooksByUserIDs(ctx context.Context, userIDs []int64) (map[int64][]Address, error) {
	rows, err := s.db.AddressListByUserIDs(ctx, userIDs)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	out := make(map[int64][]Address, len(userIDs))
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], fromRow(r))
	}
	return out, nil
}

// Owned is address id of account userID as checkout snapshots it, read on q (outside or
// inside the caller's transaction). Errors: NOT_FOUND on field, for any address that is not
// the account's own (someone else's, deleted, or never there).
func Owned(ctx context.Context, q db.Querier, userID, id int64, field ...string) (Postal, error) {
	row, err := q.AddressGetOwned(ctx, db.AddressGetOwnedParams{ID: id, UserID: userID})
	if postgres.IsNotFound(err) {
		return Postal{}, notFound(field...)
	}
	if err != nil {
		return Postal{}, fmt.Errorf("get address %d: %w", id, err)
	}
	return fromRow(row).Postal, nil
}
