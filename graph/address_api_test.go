package graph_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/address"
	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/auth"
)

const addressFields = `id name line1 line2 city region postalCode country phone isDefaultShipping isDefaultBilling createdAt updatedAt`

const (
	addressCreateMutation  = `mutation Create($input: AddressCreateInput!) { addressCreate(input: $input) { address { ` + addressFields + ` } userErrors { field message code } } }`
	addressUpdateMutation  = `mutation Update($input: AddressUpdateInput!) { addressUpdate(input: $input) { address { ` + addressFields + ` } userErrors { field message code } } }`
	addressDeleteMutation  = `mutation Delete($input: AddressDeleteInput!) { addressDelete(input: $input) { address { ` + addressFields + ` } userErrors { field message code } } }`
	addressDefaultMutation = `mutation SetDefault($input: AddressSetDefaultInput!) { addressSetDefault(input: $input) { address { ` + addressFields + ` } userErrors { field message code } } }`
	addressBookQuery       = `query Book { me { addresses { ` + addressFields + ` } defaultShippingAddress { id } defaultBillingAddress { id } } }`
	addressNodeQuery       = `query Node($id: ID!) { node(id: $id) { ... on Address { ` + addressFields + ` } } }`
	userAddressesQuery     = `query User($id: ID!) { user(id: $id) { addresses { id } defaultShippingAddress { id } } }`
)

type addressJSON struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Line1             string `json:"line1"`
	Line2             string `json:"line2"`
	City              string `json:"city"`
	Region            string `json:"region"`
	PostalCode        string `json:"postalCode"`
	Country           string `json:"country"`
	Phone             string `json:"phone"`
	IsDefaultShipping bool   `json:"isDefaultShipping"`
	IsDefaultBilling  bool   `json:"isDefaultBilling"`
}

type addressPayloadJSON struct {
	Address    *addressJSON    `json:"address"`
	UserErrors []commerceError `json:"userErrors"`
}

type idJSON struct {
	ID string `json:"id"`
}

type addressBookJSON struct {
	Addresses              []addressJSON `json:"addresses"`
	DefaultShippingAddress *idJSON       `json:"defaultShippingAddress"`
	DefaultBillingAddress  *idJSON       `json:"defaultBillingAddress"`
}

func addressInput(changes map[string]any) map[string]any {
	in := map[string]any{"name": "Ada Lovelace", "line1": "12 Analytical Row", "city": "London", "postalCode": "N1 9GU", "country": "GB"}
	for k, v := range changes {
		in[k] = v
	}
	return in
}

// addressDo runs one of the address mutations as c and returns its payload.
func addressDo(t *testing.T, c *apitest.Client, mutation string, input map[string]any) addressPayloadJSON {
	t.Helper()
	var out map[string]addressPayloadJSON
	c.As(t).Do(mutation, map[string]any{"input": input}).Decode(t, &out)
	for _, p := range out {
		require.NotNil(t, p.UserErrors, "userErrors is never null")
		if len(p.UserErrors) > 0 {
			require.Nil(t, p.Address, "no address beside userErrors")
		}
		return p
	}
	t.Fatal("no payload")
	return addressPayloadJSON{}
}

func mustCreateAddress(t *testing.T, c *apitest.Client, changes map[string]any) addressJSON {
	t.Helper()
	p := addressDo(t, c, addressCreateMutation, addressInput(changes))
	require.Empty(t, p.UserErrors)
	return *p.Address
}

func addressBookOf(t *testing.T, c *apitest.Client) addressBookJSON {
	t.Helper()
	var out struct {
		Me *addressBookJSON `json:"me"`
	}
	c.As(t).Do(addressBookQuery, nil).Decode(t, &out)
	require.NotNil(t, out.Me)
	return *out.Me
}

func addressNode(t *testing.T, c *apitest.Client, id string) *addressJSON {
	t.Helper()
	var out struct {
		Node *addressJSON `json:"node"`
	}
	c.As(t).Do(addressNodeQuery, map[string]any{"id": id}).Decode(t, &out)
	return out.Node
}

func TestAddressBook(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)

	t.Run("addressCreate, addressUpdate and addressDelete keep the viewer's book", func(t *testing.T) {
		c, _ := e.Customer(t)
		require.Empty(t, addressBookOf(t, c).Addresses)

		a := mustCreateAddress(t, c, map[string]any{"postalCode": "sw1a1aa", "line2": "Flat 3", "phone": "+44 20 7946 0000"})
		require.Equal(t, addressJSON{ID: a.ID, Name: "Ada Lovelace", Line1: "12 Analytical Row", Line2: "Flat 3", City: "London",
			PostalCode: "SW1A 1AA", Country: "GB", Phone: "+44 20 7946 0000"}, a)
		require.Equal(t, []addressJSON{a}, addressBookOf(t, c).Addresses)
		require.Equal(t, &a, addressNode(t, c, a.ID))

		p := addressDo(t, c, addressUpdateMutation, map[string]any{"id": a.ID, "city": "Amsterdam", "country": "NL", "postalCode": "1012ab", "line2": ""})
		require.Empty(t, p.UserErrors)
		require.Equal(t, "Amsterdam", p.Address.City)
		require.Equal(t, "1012 AB", p.Address.PostalCode)
		require.Empty(t, p.Address.Line2, "an empty string clears an optional field")
		require.Equal(t, "Ada Lovelace", p.Address.Name, "fields left out keep their value")
		require.Equal(t, []addressJSON{*p.Address}, addressBookOf(t, c).Addresses)

		d := addressDo(t, c, addressDeleteMutation, map[string]any{"id": a.ID})
		require.Empty(t, d.UserErrors)
		require.Equal(t, a.ID, d.Address.ID)
		require.Empty(t, addressBookOf(t, c).Addresses)
		require.Nil(t, addressNode(t, c, a.ID))
		again := addressDo(t, c, addressDeleteMutation, map[string]any{"id": a.ID})
		require.Equal(t, []string{"NOT_FOUND:input.id"}, errorCodesOf(again.UserErrors))
	})

	t.Run("addressSetDefault sets one default per type; deleting the default clears it", func(t *testing.T) {
		c, _ := e.Customer(t)
		home := mustCreateAddress(t, c, nil)
		work := mustCreateAddress(t, c, map[string]any{"line1": "1 Office Park"})
		book := addressBookOf(t, c)
		require.Nil(t, book.DefaultShippingAddress)
		require.Nil(t, book.DefaultBillingAddress)

		p := addressDo(t, c, addressDefaultMutation, map[string]any{"id": home.ID, "type": "SHIPPING"})
		require.Empty(t, p.UserErrors)
		require.True(t, p.Address.IsDefaultShipping)
		require.Empty(t, addressDo(t, c, addressDefaultMutation, map[string]any{"id": home.ID, "type": "BILLING"}).UserErrors)
		require.Empty(t, addressDo(t, c, addressDefaultMutation, map[string]any{"id": work.ID, "type": "SHIPPING"}).UserErrors)
		book = addressBookOf(t, c)
		require.Equal(t, &idJSON{work.ID}, book.DefaultShippingAddress)
		require.Equal(t, &idJSON{home.ID}, book.DefaultBillingAddress)
		require.False(t, book.Addresses[0].IsDefaultShipping, "the previous default is no longer one")
		require.True(t, book.Addresses[0].IsDefaultBilling)
		require.True(t, book.Addresses[1].IsDefaultShipping)

		require.Empty(t, addressDo(t, c, addressDeleteMutation, map[string]any{"id": work.ID}).UserErrors)
		book = addressBookOf(t, c)
		require.Nil(t, book.DefaultShippingAddress, "deleting the default clears it")
		require.Equal(t, &idJSON{home.ID}, book.DefaultBillingAddress)
	})

	t.Run("an account holds at most 50 addresses", func(t *testing.T) {
		c, id := e.Customer(t)
		v := auth.Viewer{UserID: id, Role: auth.RoleCustomer}
		for i := range address.MaxPerAccount - 1 {
			_, err := e.Server.App.AddressBook.Create(context.Background(), v, address.Postal{
				Name: "Ada", Line1: fmt.Sprintf("%d Main St", i), City: "Springfield", PostalCode: "12345", Country: "US"})
			require.NoError(t, err)
		}
		last := mustCreateAddress(t, c, nil)
		p := addressDo(t, c, addressCreateMutation, addressInput(nil))
		require.Len(t, p.UserErrors, 1)
		require.Equal(t, "ADDRESS_LIMIT_REACHED", p.UserErrors[0].Code)
		require.Len(t, addressBookOf(t, c).Addresses, address.MaxPerAccount)

		require.Empty(t, addressDo(t, c, addressDeleteMutation, map[string]any{"id": last.ID}).UserErrors)
		mustCreateAddress(t, c, nil)
	})

	t.Run("addresses are checked per country, with the field at fault", func(t *testing.T) {
		c, _ := e.Customer(t)
		for _, tc := range []struct {
			country, postalCode string
			want                string // the stored postal code, or the error
		}{
			{"US", "94103", "94103"},
			{"US", "94103-1234", "94103-1234"},
			{"US", "9410", "INVALID_POSTAL_CODE:input.postalCode"},
			{"CA", "m5v3l9", "M5V 3L9"},
			{"CA", "M5V 3L", "INVALID_POSTAL_CODE:input.postalCode"},
			{"GB", "ec1a 1bb", "EC1A 1BB"},
			{"GB", "EC1A", "INVALID_POSTAL_CODE:input.postalCode"},
			{"DE", "10115", "10115"},
			{"DE", "101150", "INVALID_POSTAL_CODE:input.postalCode"},
			{"FR", "75008", "75008"},
			{"FR", "F-75008", "INVALID_POSTAL_CODE:input.postalCode"},
			{"NL", "1012AB", "1012 AB"},
			{"NL", "1012", "INVALID_POSTAL_CODE:input.postalCode"},
			{"AU", "3000", "3000"},
			{"AU", "300", "INVALID_POSTAL_CODE:input.postalCode"},
			{"JP", "1500001", "150-0001"},
			{"JP", "150-00011", "INVALID_POSTAL_CODE:input.postalCode"},
			{"BR", "01310-100", "01310-100"},
			{"XX", "12345", "INVALID_COUNTRY:input.country"},
			{"UK", "SW1A 1AA", "INVALID_COUNTRY:input.country"},
			{"gb", "SW1A 1AA", "INVALID:input.country"},
			{"USA", "12345", "INVALID:input.country"},
		} {
			p := addressDo(t, c, addressCreateMutation, addressInput(map[string]any{"country": tc.country, "postalCode": tc.postalCode}))
			if len(p.UserErrors) > 0 {
				require.Equal(t, []string{tc.want}, errorCodesOf(p.UserErrors), "%s %s", tc.country, tc.postalCode)
				continue
			}
			require.Equal(t, tc.want, p.Address.PostalCode, "%s %s", tc.country, tc.postalCode)
		}

		p := addressDo(t, c, addressCreateMutation, addressInput(map[string]any{"name": " ", "city": "", "phone": "1234567890123456789012345678901"}))
		require.ElementsMatch(t, []string{"INVALID:input.name", "INVALID:input.city", "INVALID:input.phone"}, errorCodesOf(p.UserErrors))
		a := mustCreateAddress(t, c, nil)
		u := addressDo(t, c, addressUpdateMutation, map[string]any{"id": a.ID, "country": "US"})
		require.Equal(t, []string{"INVALID_POSTAL_CODE:input.postalCode"}, errorCodesOf(u.UserErrors),
			"an update is checked as a whole: the old postal code against the new country")
	})

	t.Run("another customer's address is NOT_FOUND everywhere and changes nothing", func(t *testing.T) {
		owner, ownerID := e.Customer(t)
		thief, _ := e.Customer(t)
		theirs := mustCreateAddress(t, owner, nil)
		require.Empty(t, addressDo(t, owner, addressDefaultMutation, map[string]any{"id": theirs.ID, "type": "SHIPPING"}).UserErrors)
		before := addressBookOf(t, owner)

		for _, tc := range []struct {
			mutation string
			input    map[string]any
		}{
			{addressUpdateMutation, map[string]any{"id": theirs.ID, "name": "Mallory"}},
			{addressDeleteMutation, map[string]any{"id": theirs.ID}},
			{addressDefaultMutation, map[string]any{"id": theirs.ID, "type": "SHIPPING"}},
			{addressDefaultMutation, map[string]any{"id": theirs.ID, "type": "BILLING"}},
		} {
			p := addressDo(t, thief, tc.mutation, tc.input)
			require.Equal(t, []string{"NOT_FOUND:input.id"}, errorCodesOf(p.UserErrors), tc.mutation)
		}
		require.Nil(t, addressNode(t, thief, theirs.ID))
		require.Nil(t, addressNode(t, e.Anon(t), theirs.ID))

		v := e.Variant(t, 1000, 10)
		mustAdd(t, thief, v.GID, 1)
		co := checkoutWith(t, thief, map[string]any{"idempotencyKey": uuid.NewString(), "shippingAddressId": theirs.ID})
		require.Equal(t, []string{"NOT_FOUND:input.shippingAddressId"}, errorCodesOf(co.UserErrors))
		require.Equal(t, 10, e.Stock(t, v))

		require.Equal(t, before, addressBookOf(t, owner), "the owner's book is unchanged")
		require.Empty(t, addressBookOf(t, thief).Addresses)

		// Admins read any account's book; the owner reads its own through node.
		var out struct {
			User *addressBookJSON `json:"user"`
		}
		e.Admin.Do(userAddressesQuery, map[string]any{"id": apitest.GlobalID("User", ownerID)}).Decode(t, &out)
		require.Equal(t, []addressJSON{{ID: theirs.ID}}, idsOnly(out.User.Addresses))
		require.Equal(t, &idJSON{theirs.ID}, out.User.DefaultShippingAddress)
		require.NotNil(t, addressNode(t, e.Admin, theirs.ID))
		require.NotNil(t, addressNode(t, owner, theirs.ID))
	})

	t.Run("an ID of another kind is NOT_FOUND; anonymous viewers have no book", func(t *testing.T) {
		c, userID := e.Customer(t)
		p := addressDo(t, c, addressDeleteMutation, map[string]any{"id": apitest.GlobalID("User", userID)})
		require.Equal(t, []string{"NOT_FOUND:input.id"}, errorCodesOf(p.UserErrors))

		resp := e.Anon(t).Do(addressCreateMutation, map[string]any{"input": addressInput(nil)})
		require.Equal(t, "UNAUTHENTICATED", resp.Code())
	})
}

func idsOnly(as []addressJSON) []addressJSON {
	out := make([]addressJSON, len(as))
	for i, a := range as {
		out[i] = addressJSON{ID: a.ID}
	}
	return out
}

// TestCheckoutWithSavedAddress: checkout takes a typed-in address or a saved one's ID, and the
// order keeps its copy whatever happens to the saved address later.
func TestCheckoutWithSavedAddress(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	wantSnapshot := addressView{Name: "Ada Lovelace", Line1: "12 Analytical Row", Line2: ptrTo("Flat 3"), City: "London",
		Region: ptrTo(""), PostalCode: "SW1A 1AA", Country: "GB", Phone: ptrTo("+44 20 7946 0000")}

	t.Run("the order keeps a copy of the saved address, unchanged by its edit and deletion", func(t *testing.T) {
		c, _ := e.Customer(t)
		saved := mustCreateAddress(t, c, map[string]any{"line2": "Flat 3", "postalCode": "SW1A 1AA", "phone": "+44 20 7946 0000"})
		mustAdd(t, c, e.Variant(t, 1000, 10).GID, 1)
		p := checkoutWith(t, c, map[string]any{"idempotencyKey": uuid.NewString(), "shippingAddressId": saved.ID})
		require.Empty(t, p.UserErrors)
		require.Equal(t, wantSnapshot, p.Order.ShippingAddress)

		require.Empty(t, addressDo(t, c, addressUpdateMutation, map[string]any{"id": saved.ID, "name": "Someone Else", "city": "Leeds", "postalCode": "LS1 1UR"}).UserErrors)
		require.Equal(t, wantSnapshot, orderAs(t, c, p.Order.ID).ShippingAddress, "an edit leaves the order alone")
		require.Empty(t, addressDo(t, c, addressDeleteMutation, map[string]any{"id": saved.ID}).UserErrors)
		require.Equal(t, wantSnapshot, orderAs(t, c, p.Order.ID).ShippingAddress, "a deletion leaves the order alone")

		mustAdd(t, c, e.Variant(t, 1000, 10).GID, 1)
		gone := checkoutWith(t, c, map[string]any{"idempotencyKey": uuid.NewString(), "shippingAddressId": saved.ID})
		require.Equal(t, []string{"NOT_FOUND:input.shippingAddressId"}, errorCodesOf(gone.UserErrors), "a deleted address")
	})

	t.Run("a typed-in address still works, checked by the address book's rules", func(t *testing.T) {
		c, userID := e.Customer(t)
		mustAdd(t, c, e.Variant(t, 1000, 10).GID, 1)
		bad := checkoutWith(t, c, checkoutInput(uuid.NewString(), withAddress(map[string]any{"postalCode": "N1"})))
		require.Equal(t, []string{"INVALID_POSTAL_CODE:input.shippingAddress.postalCode"}, errorCodesOf(bad.UserErrors))
		bad = checkoutWith(t, c, checkoutInput(uuid.NewString(), withAddress(map[string]any{"country": "ZZ"})))
		require.Equal(t, []string{"INVALID_COUNTRY:input.shippingAddress.country"}, errorCodesOf(bad.UserErrors))
		require.Zero(t, e.OrdersOf(t, userID))

		p := checkoutWith(t, c, checkoutInput(uuid.NewString(), withAddress(map[string]any{"postalCode": "n19gu"})))
		require.Empty(t, p.UserErrors)
		require.Equal(t, "N1 9GU", p.Order.ShippingAddress.PostalCode, "stored in its written form")
	})

	t.Run("exactly one of shippingAddress and shippingAddressId", func(t *testing.T) {
		c, userID := e.Customer(t)
		saved := mustCreateAddress(t, c, nil)
		mustAdd(t, c, e.Variant(t, 1000, 10).GID, 1)
		both := checkoutWith(t, c, map[string]any{"idempotencyKey": uuid.NewString(), "shippingAddress": apitest.Address(), "shippingAddressId": saved.ID})
		require.Equal(t, []string{"INVALID:input.shippingAddressId"}, errorCodesOf(both.UserErrors))
		neither := checkoutWith(t, c, map[string]any{"idempotencyKey": uuid.NewString()})
		require.Equal(t, []string{"INVALID:input.shippingAddress"}, errorCodesOf(neither.UserErrors))
		require.Zero(t, e.OrdersOf(t, userID))
	})

	t.Run("a saved address costs one read (one round trip) more than a typed-in one", func(t *testing.T) {
		cost := func(input func(c *apitest.Client) map[string]any) (statements, roundTrips int64) {
			c, _ := e.Customer(t)
			in := input(c)
			mustAdd(t, c, e.Variant(t, 1000, 10).GID, 1)
			resp := c.Do(checkoutMutation, map[string]any{"input": in})
			var out struct {
				P orderPayloadView `json:"checkout"`
			}
			resp.Decode(t, &out)
			require.Empty(t, out.P.UserErrors)
			return resp.SQLStatements(t), resp.SQLRoundTrips(t)
		}
		inlineStatements, inlineTrips := cost(func(*apitest.Client) map[string]any {
			return checkoutInput(uuid.NewString(), apitest.Address())
		})
		savedStatements, savedTrips := cost(func(c *apitest.Client) map[string]any {
			return map[string]any{"idempotencyKey": uuid.NewString(), "shippingAddressId": mustCreateAddress(t, c, nil).ID}
		})
		require.Equal(t, inlineStatements+1, savedStatements)
		require.Equal(t, inlineTrips+1, savedTrips)
		// TestCheckoutRoundTrips holds the typed-in checkout's own budget, which this change
		// leaves as it was.
	})
}

// TestAddressBookHiddenFromVendors: a vendor's members see each other's accounts (Vendor.members,
// vendorMemberAdd's payload), never each other's addresses.
func TestAddressBookHiddenFromVendors(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	member, vendorID := e.Vendor(t)
	customer, customerID := e.Customer(t)
	mustCreateAddress(t, customer, nil)
	saved := mustCreateAddress(t, customer, map[string]any{"line1": "2 Main St"})
	require.Empty(t, addressDo(t, customer, addressDefaultMutation, map[string]any{"id": saved.ID, "type": "SHIPPING"}).UserErrors)
	var email string
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(), `SELECT email FROM users WHERE id = $1`, customerID).Scan(&email))

	var added struct {
		P struct {
			User       *addressBookJSON `json:"user"`
			UserErrors []commerceError  `json:"userErrors"`
		} `json:"vendorMemberAdd"`
	}
	member.As(t).Do(`mutation($input: VendorMemberAddInput!) { vendorMemberAdd(input: $input) {
		user { addresses { id } defaultShippingAddress { id } defaultBillingAddress { id } } userErrors { field message code } } }`,
		map[string]any{"input": map[string]any{"vendorId": apitest.GlobalID("Vendor", vendorID), "email": email}}).Decode(t, &added)
	require.Empty(t, added.P.UserErrors)
	require.NotNil(t, added.P.User)
	require.Equal(t, addressBookJSON{}, *added.P.User, "the new member's addresses are not the vendor's business")

	var members struct {
		Vendor struct {
			Members []addressBookJSON `json:"members"`
		} `json:"vendor"`
	}
	member.As(t).Do(`query($id: ID!) { vendor(id: $id) { members { addresses { id } defaultShippingAddress { id } } } }`,
		map[string]any{"id": apitest.GlobalID("Vendor", vendorID)}).Decode(t, &members)
	require.Len(t, members.Vendor.Members, 2)
	for _, m := range members.Vendor.Members {
		require.Nil(t, m.DefaultShippingAddress)
		if m.Addresses != nil {
			require.Empty(t, m.Addresses, "only the member's own (empty) book is listed")
		}
	}
}
