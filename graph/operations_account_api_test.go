package graph_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

// TestDocumentedAccountAndCartOperations runs the storefront's remaining documented operations
// (the flow test runs the main path): the session's refresh and sign-out, the catalog's
// navigation and suggestions, a line's removal, the address book's edits, and an unpaid order's
// payment retry and cancellation. Each must answer without top-level errors for its audience.
func TestDocumentedAccountAndCartOperations(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	word := "quokka" + uuid.NewString()[:6]
	e.Category(t, apitest.CategoryOptions{Name: "Docs " + word})
	v := e.Product(t, apitest.ProductOptions{Name: "Mug " + word, Variants: []catalog.VariantInput{{Name: "Blue", Price: 1200, Stock: 5}}})[0]
	w := e.Variant(t, 800, 5)

	c := e.Server.Client(t)
	email := apitest.UniqueEmail()
	var reg apitest.Session
	c.Payload("Register", map[string]any{"email": email, "password": apitest.Password}, &reg)
	require.Empty(t, reg.UserErrors)
	c.Bearer = reg.Tokens.AccessToken

	t.Run("the session: me, refresh, sign in again", func(t *testing.T) {
		c := c.As(t)
		var me struct {
			Me *struct {
				Email string `json:"email"`
				Role  string `json:"role"`
			} `json:"me"`
		}
		c.Operation("Me", nil).Decode(t, &me)
		require.Equal(t, email, me.Me.Email)
		require.Equal(t, "CUSTOMER", me.Me.Role)

		var refreshed apitest.Session
		c.Payload("RefreshTokens", map[string]any{"refreshToken": reg.Tokens.RefreshToken}, &refreshed)
		require.Empty(t, refreshed.UserErrors)
		require.NotEqual(t, reg.Tokens.RefreshToken, refreshed.Tokens.RefreshToken, "each refresh hands out a new refresh token")

		var again apitest.Session
		c.Payload("SignIn", map[string]any{"email": email, "password": apitest.Password}, &again)
		require.Empty(t, again.UserErrors)
		c.Bearer = again.Tokens.AccessToken
	})

	t.Run("the catalog's navigation and suggestions", func(t *testing.T) {
		c := c.As(t)
		var cats struct {
			Categories []struct {
				Name string `json:"name"`
			} `json:"categories"`
		}
		c.Operation("Categories", nil).Decode(t, &cats)
		var names []string
		for _, cat := range cats.Categories {
			names = append(names, cat.Name)
		}
		require.Contains(t, names, "Docs "+word)
		var suggest struct {
			ProductSuggest []string `json:"productSuggest"`
		}
		c.Operation("ProductSuggest", map[string]any{"prefix": word[:5]}).Decode(t, &suggest)
		require.Contains(t, suggest.ProductSuggest, "Mug "+word)
	})

	t.Run("a cart line removed", func(t *testing.T) {
		c := c.As(t)
		apitest.FillCart(t, c, apitest.CartLine{VariantGID: v.GID, Quantity: 1}, apitest.CartLine{VariantGID: w.GID, Quantity: 2})
		var removed docCartPayload
		c.Payload("CartItemRemove", map[string]any{"variantId": w.GID}, &removed)
		require.Empty(t, removed.UserErrors)
		require.Equal(t, 1, removed.Cart.TotalQuantity)
	})

	var orderID string
	t.Run("the address book edited", func(t *testing.T) {
		c := c.As(t)
		type addressPayload struct {
			Address *struct {
				ID                string `json:"id"`
				City              string `json:"city"`
				IsDefaultShipping bool   `json:"isDefaultShipping"`
			} `json:"address"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		var home, work addressPayload
		c.Payload("AddressCreate", apitest.Address(), &home)
		require.Empty(t, home.UserErrors)
		c.Payload("AddressCreate", apitest.Address(), &work)
		require.Empty(t, work.UserErrors)

		var edited addressPayload
		c.Payload("AddressUpdate", map[string]any{"id": home.Address.ID, "city": "Cambridge", "postalCode": "CB2 1TN"}, &edited)
		require.Empty(t, edited.UserErrors)
		require.Equal(t, "Cambridge", edited.Address.City)
		var def addressPayload
		c.Payload("AddressSetDefault", map[string]any{"id": home.Address.ID, "type": "SHIPPING"}, &def)
		require.Empty(t, def.UserErrors)
		require.True(t, def.Address.IsDefaultShipping)
		var deleted addressPayload
		c.Payload("AddressDelete", map[string]any{"id": work.Address.ID}, &deleted)
		require.Empty(t, deleted.UserErrors)

		var book struct {
			Me struct {
				Addresses []struct {
					ID string `json:"id"`
				} `json:"addresses"`
				DefaultShippingAddress *struct {
					ID string `json:"id"`
				} `json:"defaultShippingAddress"`
			} `json:"me"`
		}
		c.Operation("AddressBook", nil).Decode(t, &book)
		require.Len(t, book.Me.Addresses, 1)
		require.Equal(t, home.Address.ID, book.Me.DefaultShippingAddress.ID)

		var placed struct {
			Order *struct {
				ID string `json:"id"`
			} `json:"order"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		c.Payload("Checkout", map[string]any{"idempotencyKey": uuid.NewString(), "shippingAddressId": home.Address.ID}, &placed)
		require.Empty(t, placed.UserErrors)
		orderID = placed.Order.ID
	})

	t.Run("an unpaid order's payment retried, then the order cancelled", func(t *testing.T) {
		require.NotEmpty(t, orderID)
		c := c.As(t)
		var retried struct {
			Payment *struct {
				IntentID string `json:"intentId"`
				Status   string `json:"status"`
			} `json:"payment"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		c.Payload("OrderPaymentRetry", map[string]any{"id": orderID}, &retried)
		require.Empty(t, retried.UserErrors)
		require.NotNil(t, retried.Payment)
		require.NotEmpty(t, retried.Payment.IntentID)

		var cancelled struct {
			Order *struct {
				Status string `json:"status"`
			} `json:"order"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		c.Payload("OrderCancel", map[string]any{"id": orderID}, &cancelled)
		require.Empty(t, cancelled.UserErrors)
		require.Equal(t, "CANCELLED", cancelled.Order.Status)
	})

	t.Run("signing out ends the session", func(t *testing.T) {
		c := c.As(t)
		var out struct {
			P struct {
				UserErrors []apitest.UserError `json:"userErrors"`
			} `json:"accountLogout"`
		}
		c.Operation("SignOut", nil).Decode(t, &out)
		require.NotNil(t, out.P.UserErrors)
		require.Empty(t, out.P.UserErrors)
		var me struct {
			Me *struct {
				Email string `json:"email"`
			} `json:"me"`
		}
		c.Operation("Me", nil).Decode(t, &me)
		require.Nil(t, me.Me, "the signed-out session's token no longer names a viewer")
	})
}
