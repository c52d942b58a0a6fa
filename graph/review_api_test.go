package graph_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

const reviewFields = `id rating title body status verifiedPurchase helpfulCount moderationReason authorName reply { body } product { id }`

const (
	reviewCreateMutation   = `mutation C($input: ReviewCreateInput!) { reviewCreate(input: $input) { review { ` + reviewFields + ` } userErrors { field message code } } }`
	reviewUpdateMutation   = `mutation U($input: ReviewUpdateInput!) { reviewUpdate(input: $input) { review { ` + reviewFields + ` } userErrors { field message code } } }`
	reviewDeleteMutation   = `mutation D($input: ReviewDeleteInput!) { reviewDelete(input: $input) { review { ` + reviewFields + ` } userErrors { field message code } } }`
	reviewModerateMutation = `mutation M($input: ReviewModerateInput!) { reviewModerate(input: $input) { review { ` + reviewFields + ` } userErrors { field message code } } }`
	reviewReplyMutation    = `mutation R($input: ReviewReplyInput!) { reviewReply(input: $input) { review { ` + reviewFields + ` } userErrors { field message code } } }`
	reviewHelpfulMutation  = `mutation H($input: ReviewHelpfulMarkInput!) { reviewHelpfulMark(input: $input) { review { ` + reviewFields + ` } userErrors { field message code } } }`
	reviewReportMutation   = `mutation P($input: ReviewReportInput!) { reviewReport(input: $input) { review { ` + reviewFields + ` } userErrors { field message code } } }`
	productRatingQuery     = `query Q($id: ID!) { product(id: $id) { rating { average count histogram } reviews(first: 10) { totalCount nodes { id rating authorName status } } } }`
)

type reviewJSON struct {
	ID               string  `json:"id"`
	Rating           int     `json:"rating"`
	Title            *string `json:"title"`
	Body             *string `json:"body"`
	Status           string  `json:"status"`
	VerifiedPurchase bool    `json:"verifiedPurchase"`
	HelpfulCount     int     `json:"helpfulCount"`
	ModerationReason *string `json:"moderationReason"`
	AuthorName       string  `json:"authorName"`
	Reply            *struct {
		Body string `json:"body"`
	} `json:"reply"`
	Product *idJSON `json:"product"`
}

type reviewPayloadJSON struct {
	Review     *reviewJSON     `json:"review"`
	UserErrors []commerceError `json:"userErrors"`
}

type productRatingJSON struct {
	Rating struct {
		Average   *float64 `json:"average"`
		Count     int      `json:"count"`
		Histogram []int    `json:"histogram"`
	} `json:"rating"`
	Reviews struct {
		TotalCount int          `json:"totalCount"`
		Nodes      []reviewJSON `json:"nodes"`
	} `json:"reviews"`
}

// reviewDo runs one of the review mutations as c and returns its payload.
func reviewDo(t *testing.T, c *apitest.Client, mutation string, input map[string]any) reviewPayloadJSON {
	t.Helper()
	var out map[string]reviewPayloadJSON
	c.As(t).Do(mutation, map[string]any{"input": input}).Decode(t, &out)
	for _, p := range out {
		require.NotNil(t, p.UserErrors, "userErrors is never null")
		if len(p.UserErrors) > 0 {
			require.Nil(t, p.Review, "no review beside userErrors")
		}
		return p
	}
	t.Fatal("no payload")
	return reviewPayloadJSON{}
}

func productRatingOf(t *testing.T, c *apitest.Client, productGID string) productRatingJSON {
	t.Helper()
	var out struct {
		Product *productRatingJSON `json:"product"`
	}
	c.As(t).Do(productRatingQuery, map[string]any{"id": productGID}).Decode(t, &out)
	require.NotNil(t, out.Product)
	return *out.Product
}

// reviewBuyer is a new customer whose order holding v's product is in status.
func reviewBuyer(t *testing.T, e *apitest.Env, v apitest.Variant, status string) (*apitest.Client, int64) {
	t.Helper()
	c, id := e.Customer(t)
	tf.NewOrder(t, e.Server.App.DB, tf.OrderOpts{UserID: id, Status: status, Lines: []tf.LineOpts{{ProductID: v.ProductID, VariantID: v.VariantID}}})
	return c, id
}

func TestReviewAPI(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)

	t.Run("a buyer writes, edits and deletes a review; the rating and cached answers follow moderation", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		anon := e.Anon(t)
		stranger, _ := reviewBuyer(t, e, v, "PENDING")
		p := reviewDo(t, stranger, reviewCreateMutation, map[string]any{"productId": v.ProductGID, "rating": 5})
		require.Equal(t, []string{"NOT_PURCHASED:input.productId"}, errorCodesOf(p.UserErrors))

		buyer, _ := reviewBuyer(t, e, v, "DELIVERED")
		p = reviewDo(t, buyer, reviewCreateMutation, map[string]any{"productId": v.ProductGID, "rating": 7, "title": strings.Repeat("t", 121)})
		require.ElementsMatch(t, []string{"INVALID:input.rating", "INVALID:input.title"}, errorCodesOf(p.UserErrors))
		require.Zero(t, e.Count(t, `SELECT count(*) FROM reviews WHERE product_id = $1`, v.ProductID))

		// The anonymous answer is cached now (the public response cache): approval must not
		// leave it stale.
		before := productRatingOf(t, anon, v.ProductGID)
		require.Equal(t, 0, before.Rating.Count)
		require.Nil(t, before.Rating.Average)
		require.Equal(t, []int{0, 0, 0, 0, 0}, before.Rating.Histogram)

		p = reviewDo(t, buyer, reviewCreateMutation, map[string]any{"productId": v.ProductGID, "rating": 4, "title": "Warm", "body": "Fits well"})
		require.Empty(t, p.UserErrors)
		created := *p.Review
		require.Equal(t, "PENDING", created.Status)
		require.True(t, created.VerifiedPurchase)
		require.Equal(t, v.ProductGID, created.Product.ID)
		again := reviewDo(t, buyer, reviewCreateMutation, map[string]any{"productId": v.ProductGID, "rating": 3})
		require.Equal(t, []string{"ALREADY_REVIEWED:input.productId"}, errorCodesOf(again.UserErrors))
		require.Equal(t, 0, productRatingOf(t, anon, v.ProductGID).Reviews.TotalCount, "pending reviews are not public")

		var me struct {
			Me struct {
				Reviews struct {
					TotalCount int          `json:"totalCount"`
					Nodes      []reviewJSON `json:"nodes"`
				} `json:"reviews"`
			} `json:"me"`
		}
		buyer.As(t).Do(`{ me { reviews(first: 5) { totalCount nodes { id status } } } }`, nil).Decode(t, &me)
		require.Equal(t, 1, me.Me.Reviews.TotalCount)
		require.Equal(t, created.ID, me.Me.Reviews.Nodes[0].ID)

		resp := buyer.As(t).Do(reviewModerateMutation, map[string]any{"input": map[string]any{"id": created.ID, "status": "APPROVED"}})
		require.Equal(t, "FORBIDDEN", resp.Code(), "customers do not moderate")
		m := reviewDo(t, e.Admin, reviewModerateMutation, map[string]any{"id": created.ID, "status": "APPROVED", "reason": "Helpful"})
		require.Empty(t, m.UserErrors)
		require.Equal(t, "APPROVED", m.Review.Status)

		after := productRatingOf(t, anon, v.ProductGID)
		require.Equal(t, 1, after.Rating.Count)
		require.Equal(t, 4.0, *after.Rating.Average)
		require.Equal(t, []int{0, 0, 0, 1, 0}, after.Rating.Histogram)
		require.Equal(t, 1, after.Reviews.TotalCount)
		require.Nil(t, after.Reviews.Nodes[0].ModerationReason)

		u := reviewDo(t, buyer, reviewUpdateMutation, map[string]any{"id": created.ID, "rating": 2})
		require.Empty(t, u.UserErrors)
		require.Equal(t, "PENDING", u.Review.Status, "an edit goes back to moderation")
		require.Nil(t, u.Review.Title, "left out removes it")
		require.Equal(t, 0, productRatingOf(t, anon, v.ProductGID).Rating.Count)

		other, _ := e.Customer(t)
		d := reviewDo(t, other, reviewDeleteMutation, map[string]any{"id": created.ID})
		require.Equal(t, []string{"NOT_FOUND:input.id"}, errorCodesOf(d.UserErrors))
		d = reviewDo(t, buyer, reviewDeleteMutation, map[string]any{"id": created.ID})
		require.Empty(t, d.UserErrors)
		require.Equal(t, created.ID, d.Review.ID)
		var node struct {
			Node *reviewJSON `json:"node"`
		}
		buyer.As(t).Do(`query N($id: ID!) { node(id: $id) { ... on Review { id } } }`, map[string]any{"id": created.ID}).Decode(t, &node)
		require.Nil(t, node.Node)
	})

	t.Run("the vendor replies once; others mark helpful once and report once", func(t *testing.T) {
		vendorClient, vendorID := e.Vendor(t)
		rival, _ := e.Vendor(t)
		v := e.Product(t, apitest.ProductOptions{VendorID: &vendorID, Variants: []catalog.VariantInput{{Name: "Default", Price: 1000, Stock: 5}}})[0]
		buyer, _ := reviewBuyer(t, e, v, "PAID")
		p := reviewDo(t, buyer, reviewCreateMutation, map[string]any{"productId": v.ProductGID, "rating": 5})
		require.Empty(t, p.UserErrors)
		id := p.Review.ID
		require.Empty(t, reviewDo(t, e.Admin, reviewModerateMutation, map[string]any{"id": id, "status": "APPROVED"}).UserErrors)

		r := reviewDo(t, rival, reviewReplyMutation, map[string]any{"reviewId": id, "body": "Try ours"})
		require.Equal(t, []string{"FORBIDDEN:input.reviewId"}, errorCodesOf(r.UserErrors))
		r = reviewDo(t, vendorClient, reviewReplyMutation, map[string]any{"reviewId": id, "body": "Thank you!"})
		require.Empty(t, r.UserErrors)
		require.Equal(t, "Thank you!", r.Review.Reply.Body)
		r = reviewDo(t, vendorClient, reviewReplyMutation, map[string]any{"reviewId": id, "body": "Again"})
		require.Equal(t, []string{"ALREADY_REPLIED:input.reviewId"}, errorCodesOf(r.UserErrors))

		fan, _ := e.Customer(t)
		for range 2 {
			h := reviewDo(t, fan, reviewHelpfulMutation, map[string]any{"reviewId": id})
			require.Empty(t, h.UserErrors)
			require.Equal(t, 1, h.Review.HelpfulCount)
		}
		h := reviewDo(t, buyer, reviewHelpfulMutation, map[string]any{"reviewId": id})
		require.Equal(t, []string{"OWN_REVIEW:input.reviewId"}, errorCodesOf(h.UserErrors))
		rp := reviewDo(t, fan, reviewReportMutation, map[string]any{"reviewId": id, "reason": "Spam"})
		require.Empty(t, rp.UserErrors)
		rp = reviewDo(t, fan, reviewReportMutation, map[string]any{"reviewId": id, "reason": "Spam"})
		require.Equal(t, []string{"ALREADY_REPORTED:input.reviewId"}, errorCodesOf(rp.UserErrors))

		resp := e.Anon(t).Do(reviewHelpfulMutation, map[string]any{"input": map[string]any{"reviewId": id}})
		require.Equal(t, "UNAUTHENTICATED", resp.Code())

		var node struct {
			Node *reviewJSON `json:"node"`
		}
		e.Anon(t).Do(`query N($id: ID!) { node(id: $id) { ... on Review { `+reviewFields+` } } }`, map[string]any{"id": id}).Decode(t, &node)
		require.NotNil(t, node.Node)
		require.Equal(t, "Thank you!", node.Node.Reply.Body)
		require.Equal(t, 1, node.Node.HelpfulCount)
	})

	t.Run("a page of reviews with authors and products runs a constant number of statements", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		userIDs := e.InsertUsers(t, auth.RoleCustomer, 12)
		for i, uid := range userIDs {
			_, err := e.Server.App.DB.Pool.Exec(context.Background(),
				`INSERT INTO reviews (product_id, user_id, rating, status) VALUES ($1, $2, $3, 'APPROVED')`, v.ProductID, uid, i%5+1)
			require.NoError(t, err)
		}
		const q = `query Q($id: ID!, $n: Int) { product(id: $id) { rating { count } reviews(first: $n, sort: HIGHEST) { totalCount nodes { authorName rating product { name } } } } }`
		count := func(n int) int64 {
			resp := e.Anon(t).Do(q+fmt.Sprintf(" # %d", n), map[string]any{"id": v.ProductGID, "n": n})
			var out struct {
				Product struct {
					Reviews struct {
						Nodes []reviewJSON `json:"nodes"`
					} `json:"reviews"`
				} `json:"product"`
			}
			resp.Decode(t, &out)
			require.Len(t, out.Product.Reviews.Nodes, n)
			return resp.SQLStatements(t)
		}
		count(1) // warms the catalog's caches (the product and its variants), as in production
		// An earlier subtest's cache invalidation, delivered late, can cost one read of the
		// product in either count: compare again, and fail only when 12 always costs more.
		two, twelve := count(2), count(12)
		for attempt := 0; attempt < 2 && two != twelve; attempt++ {
			two, twelve = count(2), count(12)
		}
		require.Equal(t, two, twelve)
	})
}

// TestProductRatingSorts drives ProductFilter.minRating, ProductSort.RATING and BEST_SELLING
// through the API, page by page.
func TestProductRatingSorts(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	ctx := context.Background()
	_, vendorID := e.Vendor(t)
	pool := e.Server.App.DB.Pool
	// Five products of one vendor (the filter keeps the list to them), rated by approved
	// reviews and sold through orders that reach PAID.
	ratings := [][]int{{5, 4}, {5}, {3, 3}, nil, {4, 5}} // averages 4.5, 5, 3, none, 4.5
	sold := []int{1, 7, 3, 0, 9}
	var gids []string
	for i := range ratings {
		v := e.Product(t, apitest.ProductOptions{Name: fmt.Sprintf("Rated %d", i), VendorID: &vendorID,
			Variants: []catalog.VariantInput{{Name: "Default", Price: 1000, Stock: 50}}})[0]
		gids = append(gids, v.ProductGID)
		for _, stars := range ratings[i] {
			uid := e.InsertUsers(t, auth.RoleCustomer, 1)[0]
			_, err := pool.Exec(ctx, `INSERT INTO reviews (product_id, user_id, rating, status) VALUES ($1, $2, $3, 'APPROVED')`, v.ProductID, uid, stars)
			require.NoError(t, err)
		}
		if sold[i] > 0 {
			uid := e.InsertUsers(t, auth.RoleCustomer, 1)[0]
			o := tf.NewOrder(t, e.Server.App.DB, tf.OrderOpts{UserID: uid, Lines: []tf.LineOpts{{ProductID: v.ProductID, VariantID: v.VariantID, Quantity: sold[i]}}})
			_, err := pool.Exec(ctx, `UPDATE orders SET status = 'PAID' WHERE id = $1`, o.ID)
			require.NoError(t, err)
		}
	}
	e.Server.App.Catalog.InvalidateProducts(ctx) // the rows above were written behind the catalog's back

	walk := func(t *testing.T, sort string, minRating any) []string {
		t.Helper()
		const q = `query L($f: ProductFilter, $s: ProductSort, $after: String) { products(first: 2, after: $after, filter: $f, sort: $s) {
		  totalCount nodes { id } pageInfo { hasNextPage endCursor } } }`
		var ids []string
		var after any
		for {
			var out struct {
				Products struct {
					TotalCount int      `json:"totalCount"`
					Nodes      []idJSON `json:"nodes"`
					PageInfo   struct {
						HasNextPage bool   `json:"hasNextPage"`
						EndCursor   string `json:"endCursor"`
					} `json:"pageInfo"`
				} `json:"products"`
			}
			f := map[string]any{"vendorId": apitest.GlobalID("Vendor", vendorID)}
			if minRating != nil {
				f["minRating"] = minRating
			}
			e.Anon(t).Do(q, map[string]any{"f": f, "s": sort, "after": after}).Decode(t, &out)
			for _, n := range out.Products.Nodes {
				ids = append(ids, n.ID)
			}
			if !out.Products.PageInfo.HasNextPage {
				require.Equal(t, len(ids), out.Products.TotalCount)
				return ids
			}
			after = out.Products.PageInfo.EndCursor
		}
	}

	t.Run("RATING: best average first, then more ratings, then newer; unrated last", func(t *testing.T) {
		// 4.5 twice with two ratings each: the higher id (created later) first.
		require.Equal(t, []string{gids[1], gids[4], gids[0], gids[2], gids[3]}, walk(t, "RATING", nil))
	})
	t.Run("minRating keeps products rated at least that", func(t *testing.T) {
		require.Equal(t, []string{gids[1], gids[4], gids[0]}, walk(t, "RATING", 4.5))
		require.Equal(t, []string{gids[4], gids[1], gids[0]}, walk(t, "BEST_SELLING", 4))
		resp := e.Anon(t).Do(`{ products(filter: {minRating: 6}) { nodes { id } } }`, nil)
		require.Equal(t, "BAD_USER_INPUT", resp.Code())
	})
	t.Run("BEST_SELLING: most units of paid orders first", func(t *testing.T) {
		require.Equal(t, []string{gids[4], gids[1], gids[2], gids[0], gids[3]}, walk(t, "BEST_SELLING", nil))
	})
}
