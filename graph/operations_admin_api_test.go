package graph_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/payment/paymenttest"
)

// TestDocumentedDashboardAndAdminOperations runs the vendor dashboard's and the admin's
// documented operations against the real server: what schema validation cannot see (a field
// the operation's audience may not read, an argument a resolver refuses) fails here.
func TestDocumentedDashboardAndAdminOperations(t *testing.T) {
	t.Parallel()
	fake := paymenttest.New()
	e := apitest.NewEnv(t, apitest.EnvOptions{Gateway: fake})

	t.Run("an admin approves a vendor's application", func(t *testing.T) {
		applicant := e.RegisterCustomer(t)
		var applied struct {
			Vendor *struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"vendor"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		applicant.Payload("VendorApply", map[string]any{"name": "Applicant " + uuid.NewString()[:6], "contactEmail": apitest.UniqueEmail()}, &applied)
		require.Empty(t, applied.UserErrors)
		require.Equal(t, "PENDING", applied.Vendor.Status)

		var pending struct {
			Vendors struct {
				Nodes []struct {
					ID      string `json:"id"`
					Members []struct {
						ID string `json:"id"`
					} `json:"members"`
				} `json:"nodes"`
			} `json:"vendors"`
		}
		e.Admin.As(t).Operation("VendorsPending", nil).Decode(t, &pending)
		var ids []string
		for _, v := range pending.Vendors.Nodes {
			ids = append(ids, v.ID)
		}
		require.Contains(t, ids, applied.Vendor.ID)

		var approved struct {
			Vendor *struct {
				Status string `json:"status"`
			} `json:"vendor"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		e.Admin.As(t).Payload("VendorApprove", map[string]any{"id": applied.Vendor.ID, "reason": "welcome"}, &approved)
		require.Empty(t, approved.UserErrors)
		require.Equal(t, "ACTIVE", approved.Vendor.Status)
	})

	t.Run("an admin rejects a vendor's application", func(t *testing.T) {
		var applied struct {
			Vendor *struct {
				ID string `json:"id"`
			} `json:"vendor"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		e.RegisterCustomer(t).Payload("VendorApply", map[string]any{"name": "Dubious " + uuid.NewString()[:6], "contactEmail": apitest.UniqueEmail()}, &applied)
		require.Empty(t, applied.UserErrors)
		var rejected struct {
			Vendor *struct {
				Status string `json:"status"`
			} `json:"vendor"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		e.Admin.As(t).Payload("VendorReject", map[string]any{"id": applied.Vendor.ID, "reason": "no business address"}, &rejected)
		require.Empty(t, rejected.UserErrors)
		require.Equal(t, "REJECTED", rejected.Vendor.Status)
	})

	t.Run("an admin changes an account's role", func(t *testing.T) {
		_, id := e.Customer(t)
		gid := apitest.GlobalID("User", id)
		var user struct {
			User *struct {
				Role string `json:"role"`
			} `json:"user"`
		}
		e.Admin.As(t).Operation("User", map[string]any{"id": gid}).Decode(t, &user)
		require.Equal(t, "CUSTOMER", user.User.Role)
		var changed struct {
			User *struct {
				Role string `json:"role"`
			} `json:"user"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		e.Admin.As(t).Payload("AccountRoleUpdate", map[string]any{"id": gid, "role": "ADMIN"}, &changed)
		require.Empty(t, changed.UserErrors)
		require.Equal(t, "ADMIN", changed.User.Role)
	})

	t.Run("a vendor stocks, sells and reports; an admin moderates and refunds", func(t *testing.T) {
		vendorClient, seller := e.RegisterVendor(t, "Dashboard Vendor")
		vendorClient = vendorClient.As(t)
		var created struct {
			Product *struct {
				ID       string `json:"id"`
				Variants []struct {
					ID string `json:"id"`
				} `json:"variants"`
			} `json:"product"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		vendorClient.Payload("ProductCreate", map[string]any{"name": "Kettle", "currency": "EUR",
			"variants": []map[string]any{{"sku": apitest.UniqueSKU("KET"), "price": 2500, "stock": 10}}}, &created)
		require.Empty(t, created.UserErrors)
		variant := created.Product.Variants[0].ID

		var adjusted struct {
			Variant *struct {
				QuantityAvailable *int `json:"quantityAvailable"`
			} `json:"variant"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		vendorClient.Payload("ProductVariantStockAdjust", map[string]any{"variantId": variant, "delta": -7}, &adjusted)
		require.Empty(t, adjusted.UserErrors)
		require.Equal(t, 3, *adjusted.Variant.QuantityAvailable)

		var products struct {
			Me struct {
				Vendor *struct {
					Products struct {
						TotalCount int `json:"totalCount"`
					} `json:"products"`
				} `json:"vendor"`
			} `json:"me"`
		}
		vendorClient.Operation("VendorProducts", nil).Decode(t, &products)
		require.Equal(t, 1, products.Me.Vendor.Products.TotalCount)
		var low struct {
			LowStockVariants struct {
				TotalCount int `json:"totalCount"`
			} `json:"lowStockVariants"`
		}
		vendorClient.Operation("LowStockVariants", nil).Decode(t, &low)
		require.Equal(t, 1, low.LowStockVariants.TotalCount, "3 left is under the default threshold of 5")

		buyer := e.RegisterCustomer(t).As(t)
		apitest.FillCart(t, buyer, apitest.CartLine{VariantGID: variant, Quantity: 2})
		var checkout struct {
			Order *struct {
				ID string `json:"id"`
			} `json:"order"`
			Payment *struct {
				IntentID string `json:"intentId"`
			} `json:"payment"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		buyer.Payload("Checkout", map[string]any{"idempotencyKey": uuid.NewString(), "shippingAddress": apitest.Address()}, &checkout)
		require.Empty(t, checkout.UserErrors)
		o := apitest.Order{ID: apitest.OrderNumber(t, checkout.Order.ID), GID: checkout.Order.ID, Intent: checkout.Payment.IntentID, Total: 5000}
		fake.Succeed(o.Intent)
		apitest.SendStripe(t, e, o, "payment_intent.succeeded", func(s *payment.EventSpec) { s.Currency = "EUR" })
		require.Equal(t, "PAID", e.OrderStatus(t, o.ID))

		today := time.Now().UTC().Format(time.DateOnly)
		var report struct {
			VendorAnalytics *struct {
				Currencies []struct {
					Currency string `json:"currency"`
					Totals   struct {
						OrderCount int `json:"orderCount"`
						Units      int `json:"units"`
					} `json:"totals"`
				} `json:"currencies"`
			} `json:"vendorAnalytics"`
		}
		vendorClient.Operation("VendorAnalytics", map[string]any{"input": map[string]any{
			"vendorId": seller.VendorID, "from": today, "to": today, "interval": "DAY", "timeZone": "UTC"}}).Decode(t, &report)
		require.NotNil(t, report.VendorAnalytics)
		require.Len(t, report.VendorAnalytics.Currencies, 1)
		require.Equal(t, "EUR", report.VendorAnalytics.Currencies[0].Currency)
		require.Equal(t, 1, report.VendorAnalytics.Currencies[0].Totals.OrderCount)
		require.Equal(t, 2, report.VendorAnalytics.Currencies[0].Totals.Units)

		var review struct {
			Review *struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"review"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		buyer.Payload("ReviewCreate", map[string]any{"productId": created.Product.ID, "rating": 4, "title": "Boils fast"}, &review)
		require.Empty(t, review.UserErrors)
		require.Equal(t, "PENDING", review.Review.Status)
		var queue struct {
			Product *struct {
				Reviews struct {
					Nodes []struct {
						ID     string `json:"id"`
						Status string `json:"status"`
					} `json:"nodes"`
				} `json:"reviews"`
			} `json:"product"`
		}
		e.Admin.As(t).Operation("ReviewsToModerate", map[string]any{"productId": created.Product.ID}).Decode(t, &queue)
		require.Len(t, queue.Product.Reviews.Nodes, 1)
		require.Equal(t, "PENDING", queue.Product.Reviews.Nodes[0].Status)
		var moderated struct {
			Review *struct {
				Status string `json:"status"`
			} `json:"review"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		e.Admin.As(t).Payload("ReviewModerate", map[string]any{"id": review.Review.ID, "status": "APPROVED"}, &moderated)
		require.Empty(t, moderated.UserErrors)
		require.Equal(t, "APPROVED", moderated.Review.Status)

		var refunded struct {
			Order *struct {
				ID string `json:"id"`
			} `json:"order"`
			UserErrors []apitest.UserError `json:"userErrors"`
		}
		e.Admin.As(t).Payload("OrderRefund", map[string]any{"id": o.GID, "amount": 1000}, &refunded)
		require.Empty(t, refunded.UserErrors)
		require.NotNil(t, refunded.Order)
		require.Equal(t, int64(1000), fake.Refunded(o.Intent))
	})
}
