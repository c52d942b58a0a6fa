package review_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/review"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

type testBundle struct {
	d       *postgres.DB
	catalog *catalog.Service
	svc     *review.Service
	admin   auth.Viewer
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func setup(t *testing.T, maxConns int32) testBundle {
	t.Helper()
	d := pgtest.New(t, postgres.Options{MaxConns: maxConns})
	c := catalog.NewService(d, cache.New(cache.NewMemory(1000)), quiet())
	return testBundle{d: d, catalog: c, svc: review.NewService(d, c, quiet()),
		admin: tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleAdmin}).Viewer()}
}

// buyer is a new customer with an order of the product in status.
func (b testBundle) buyer(t *testing.T, p tf.Product, status string) auth.Viewer {
	t.Helper()
	u := tf.NewUser(t, b.d, tf.UserOpts{})
	tf.NewOrder(t, b.d, tf.OrderOpts{UserID: u.ID, Status: status, Lines: []tf.LineOpts{{ProductID: p.ID, VariantID: p.Variant(), VendorID: nil}}})
	return u.Viewer()
}

type stored struct {
	Count     int
	Sum       int
	Histogram []int32
	Average   *float64
}

// ratingColumns reads the product's maintained rating columns.
func (b testBundle) ratingColumns(t *testing.T, productID int64) stored {
	t.Helper()
	var s stored
	require.NoError(t, b.d.Pool.QueryRow(context.Background(), `
		SELECT rating_count, rating_sum, rating_histogram, rating_average::float8 FROM products WHERE id = $1`, productID).
		Scan(&s.Count, &s.Sum, &s.Histogram, &s.Average))
	return s
}

// ratingOfRows computes the same from the review rows.
func (b testBundle) ratingOfRows(t *testing.T, productID int64) stored {
	t.Helper()
	var s stored
	require.NoError(t, b.d.Pool.QueryRow(context.Background(), `
		SELECT count(*), COALESCE(sum(rating), 0),
		       ARRAY[count(*) FILTER (WHERE rating = 1), count(*) FILTER (WHERE rating = 2), count(*) FILTER (WHERE rating = 3),
		             count(*) FILTER (WHERE rating = 4), count(*) FILTER (WHERE rating = 5)]::int[],
		       round(avg(rating), 2)::float8
		FROM reviews WHERE product_id = $1 AND status = 'APPROVED'`, productID).
		Scan(&s.Count, &s.Sum, &s.Histogram, &s.Average))
	return s
}

func ptr[T any](v T) *T { return &v }

func codes(err error) []apperr.Code { return tf.Codes(err) }

func TestService(t *testing.T) {
	t.Parallel()
	b := setup(t, 4)
	ctx := context.Background()

	t.Run("a buyer reviews a product once: PENDING, verified, unseen by others until approved", func(t *testing.T) {
		p := tf.NewProduct(t, b.d, tf.ProductOpts{})
		v := b.buyer(t, p, "DELIVERED")
		r, err := b.svc.Create(ctx, v, p.ID, review.Input{Rating: 4, Title: ptr("  Good  "), Body: ptr("   ")})
		require.NoError(t, err)
		require.Equal(t, review.StatusPending, r.Status)
		require.True(t, r.VerifiedPurchase)
		require.Equal(t, "Good", *r.Title)
		require.Nil(t, r.Body, "blank is none")
		require.Zero(t, b.ratingColumns(t, p.ID).Count, "a pending review is not rated")

		other := tf.NewUser(t, b.d, tf.UserOpts{}).Viewer()
		for name, viewer := range map[string]*auth.Viewer{"anonymous": nil, "another customer": &other} {
			page, err := b.svc.ListByProduct(ctx, viewer, p.ID, review.ListParams{})
			require.NoError(t, err)
			require.Empty(t, page.Reviews, name)
			_, err = b.svc.Get(ctx, viewer, r.ID)
			require.Equal(t, []apperr.Code{apperr.NotFound}, codes(err), name)
		}
		for _, viewer := range []*auth.Viewer{&v, &b.admin} {
			page, err := b.svc.ListByProduct(ctx, viewer, p.ID, review.ListParams{})
			require.NoError(t, err)
			require.Len(t, page.Reviews, 1)
			n, err := b.svc.CountByProduct(ctx, viewer, p.ID, review.ListParams{})
			require.NoError(t, err)
			require.Equal(t, 1, n)
		}

		_, err = b.svc.Create(ctx, v, p.ID, review.Input{Rating: 5})
		require.Equal(t, []apperr.Code{apperr.AlreadyReviewed}, codes(err))
		require.Equal(t, 1, tf.Count(t, b.d, "reviews", "product_id = $1", p.ID))
	})

	t.Run("only a paid order counts as bought: pending and cancelled orders do not", func(t *testing.T) {
		p := tf.NewProduct(t, b.d, tf.ProductOpts{})
		for _, status := range []string{"PENDING", "CANCELLED"} {
			v := b.buyer(t, p, status)
			_, err := b.svc.Create(ctx, v, p.ID, review.Input{Rating: 5})
			require.Equal(t, []apperr.Code{apperr.NotPurchased}, codes(err), status)
		}
		stranger := tf.NewUser(t, b.d, tf.UserOpts{}).Viewer()
		_, err := b.svc.Create(ctx, stranger, p.ID, review.Input{Rating: 5})
		require.Equal(t, []apperr.Code{apperr.NotPurchased}, codes(err))
		for _, status := range []string{"PAID", "SHIPPED", "PARTIALLY_REFUNDED", "REFUNDED"} {
			v := b.buyer(t, p, status)
			_, err := b.svc.Create(ctx, v, p.ID, review.Input{Rating: 5})
			require.NoError(t, err, status)
		}
		require.Equal(t, 4, tf.Count(t, b.d, "reviews", "product_id = $1", p.ID))
	})

	t.Run("bad rating and lengths are field errors and write nothing", func(t *testing.T) {
		p := tf.NewProduct(t, b.d, tf.ProductOpts{})
		v := b.buyer(t, p, "PAID")
		_, err := b.svc.Create(ctx, v, p.ID, review.Input{Rating: 6, Title: ptr(strings.Repeat("t", 121)), Body: ptr(strings.Repeat("b", 5001))})
		require.Equal(t, []apperr.Code{apperr.Invalid, apperr.Invalid, apperr.Invalid}, codes(err))
		require.ElementsMatch(t, []string{"input.rating", "input.title", "input.body"}, tf.Fields(err))
		_, err = b.svc.Create(ctx, v, p.ID, review.Input{Rating: 0})
		require.Equal(t, []apperr.Code{apperr.Invalid}, codes(err))
		require.Zero(t, tf.Count(t, b.d, "reviews", "product_id = $1", p.ID))

		r, err := b.svc.Create(ctx, v, p.ID, review.Input{Rating: 3, Title: ptr(strings.Repeat("é", 120))})
		require.NoError(t, err, "120 characters, not bytes")
		_, err = b.svc.Update(ctx, v, r.ID, review.Input{Rating: 9})
		require.Equal(t, []apperr.Code{apperr.Invalid}, codes(err))
		got, err := b.svc.Get(ctx, &v, r.ID)
		require.NoError(t, err)
		require.Equal(t, 3, got.Rating)
	})

	t.Run("moderation keeps the rating exact; an edit of an approved review goes back to PENDING", func(t *testing.T) {
		p := tf.NewProduct(t, b.d, tf.ProductOpts{})
		v1, v2 := b.buyer(t, p, "PAID"), b.buyer(t, p, "PAID")
		r1, err := b.svc.Create(ctx, v1, p.ID, review.Input{Rating: 5})
		require.NoError(t, err)
		r2, err := b.svc.Create(ctx, v2, p.ID, review.Input{Rating: 2})
		require.NoError(t, err)

		_, err = b.svc.Moderate(ctx, v1, r2.ID, review.StatusApproved, nil)
		require.Equal(t, []apperr.Code{apperr.Forbidden}, codes(err), "customers do not moderate")
		_, err = b.svc.Moderate(ctx, b.admin, r2.ID, review.StatusPending, nil)
		require.Equal(t, []apperr.Code{apperr.Invalid}, codes(err))

		_, err = b.svc.Moderate(ctx, b.admin, r1.ID, review.StatusApproved, nil)
		require.NoError(t, err)
		_, err = b.svc.Moderate(ctx, b.admin, r2.ID, review.StatusApproved, nil)
		require.NoError(t, err)
		got := b.ratingColumns(t, p.ID)
		require.Equal(t, stored{Count: 2, Sum: 7, Histogram: []int32{0, 1, 0, 0, 1}, Average: ptr(3.5)}, got)

		rating, err := b.svc.Ratings(ctx, []int64{p.ID})
		require.NoError(t, err)
		require.Equal(t, review.Rating{Average: ptr(3.5), Count: 2, Histogram: []int{0, 1, 0, 0, 1}}, rating[p.ID])

		rej, err := b.svc.Moderate(ctx, b.admin, r2.ID, review.StatusRejected, ptr("Off topic"))
		require.NoError(t, err)
		require.Equal(t, "Off topic", *b.svc.ModerationReason(&v2, rej))
		require.Nil(t, b.svc.ModerationReason(&v1, rej), "only the author and admins read the reason")
		require.Equal(t, stored{Count: 1, Sum: 5, Histogram: []int32{0, 0, 0, 0, 1}, Average: ptr(5.0)}, b.ratingColumns(t, p.ID))

		edited, err := b.svc.Update(ctx, v1, r1.ID, review.Input{Rating: 1, Body: ptr("Broke after a week")})
		require.NoError(t, err)
		require.Equal(t, review.StatusPending, edited.Status)
		require.Equal(t, stored{Count: 0, Sum: 0, Histogram: []int32{0, 0, 0, 0, 0}}, b.ratingColumns(t, p.ID))
		rating, err = b.svc.Ratings(ctx, []int64{p.ID})
		require.NoError(t, err)
		require.Nil(t, rating[p.ID].Average, "no approved review: no average")

		_, err = b.svc.Update(ctx, v2, r1.ID, review.Input{Rating: 5})
		require.Equal(t, []apperr.Code{apperr.NotFound}, codes(err), "another's pending review is not seen")
		_, err = b.svc.Moderate(ctx, b.admin, r1.ID, review.StatusApproved, nil)
		require.NoError(t, err)
		_, err = b.svc.Update(ctx, v2, r1.ID, review.Input{Rating: 5})
		require.Equal(t, []apperr.Code{apperr.Forbidden}, codes(err), "another's approved review is seen, not changed")

		gone, err := b.svc.Delete(ctx, v1, r1.ID)
		require.NoError(t, err)
		require.Equal(t, r1.ID, gone.ID)
		require.Equal(t, stored{Count: 0, Sum: 0, Histogram: []int32{0, 0, 0, 0, 0}}, b.ratingColumns(t, p.ID))
	})

	t.Run("with auto-approval new and edited reviews are APPROVED and rated at once", func(t *testing.T) {
		auto := review.NewService(b.d, b.catalog, quiet())
		auto.AutoApprove = true
		p := tf.NewProduct(t, b.d, tf.ProductOpts{})
		v := b.buyer(t, p, "PAID")
		r, err := auto.Create(ctx, v, p.ID, review.Input{Rating: 4})
		require.NoError(t, err)
		require.Equal(t, review.StatusApproved, r.Status)
		r, err = auto.Update(ctx, v, r.ID, review.Input{Rating: 2})
		require.NoError(t, err)
		require.Equal(t, review.StatusApproved, r.Status)
		require.Equal(t, stored{Count: 1, Sum: 2, Histogram: []int32{0, 1, 0, 0, 0}, Average: ptr(2.0)}, b.ratingColumns(t, p.ID))
	})

	t.Run("the product's vendor replies once; others may not", func(t *testing.T) {
		owner := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
		rival := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
		p := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &owner.VendorID})
		v := b.buyer(t, p, "PAID")
		r, err := b.svc.Create(ctx, v, p.ID, review.Input{Rating: 3})
		require.NoError(t, err)
		_, err = b.svc.Reply(ctx, owner.Viewer(), r.ID, "Thanks")
		require.Equal(t, []apperr.Code{apperr.NotFound}, codes(err), "a pending review is not the vendor's to see yet")
		_, err = b.svc.Moderate(ctx, b.admin, r.ID, review.StatusApproved, nil)
		require.NoError(t, err)

		_, err = b.svc.Reply(ctx, rival.Viewer(), r.ID, "Buy ours")
		require.Equal(t, []apperr.Code{apperr.Forbidden}, codes(err))
		_, err = b.svc.Reply(ctx, v, r.ID, "Me again")
		require.Equal(t, []apperr.Code{apperr.Forbidden}, codes(err))
		_, err = b.svc.Reply(ctx, owner.Viewer(), r.ID, "  ")
		require.Equal(t, []apperr.Code{apperr.Invalid}, codes(err))
		replied, err := b.svc.Reply(ctx, owner.Viewer(), r.ID, " Thanks! ")
		require.NoError(t, err)
		require.Equal(t, "Thanks!", replied.Reply.Body)
		_, err = b.svc.Reply(ctx, owner.Viewer(), r.ID, "Again")
		require.Equal(t, []apperr.Code{apperr.AlreadyReplied}, codes(err))
		got, err := b.svc.Get(ctx, nil, r.ID)
		require.NoError(t, err)
		require.Equal(t, "Thanks!", got.Reply.Body)
	})

	t.Run("helpful marks count once per account, never the author's; reports once", func(t *testing.T) {
		p := tf.NewProduct(t, b.d, tf.ProductOpts{})
		author := b.buyer(t, p, "PAID")
		r, err := b.svc.Create(ctx, author, p.ID, review.Input{Rating: 5})
		require.NoError(t, err)
		_, err = b.svc.Moderate(ctx, b.admin, r.ID, review.StatusApproved, nil)
		require.NoError(t, err)
		fan := tf.NewUser(t, b.d, tf.UserOpts{}).Viewer()
		for range 2 {
			got, err := b.svc.MarkHelpful(ctx, fan, r.ID)
			require.NoError(t, err)
			require.Equal(t, 1, got.HelpfulCount)
		}
		_, err = b.svc.MarkHelpful(ctx, author, r.ID)
		require.Equal(t, []apperr.Code{apperr.OwnReview}, codes(err))

		_, err = b.svc.Report(ctx, fan, r.ID, "")
		require.Equal(t, []apperr.Code{apperr.Invalid}, codes(err))
		_, err = b.svc.Report(ctx, fan, r.ID, "Spam")
		require.NoError(t, err)
		_, err = b.svc.Report(ctx, fan, r.ID, "Spam again")
		require.Equal(t, []apperr.Code{apperr.AlreadyReported}, codes(err))
		_, err = b.svc.Report(ctx, author, r.ID, "Mine")
		require.Equal(t, []apperr.Code{apperr.OwnReview}, codes(err))
		require.Equal(t, 1, tf.Count(t, b.d, "review_reports", "review_id = $1", r.ID))
	})

	t.Run("pages follow each sort with keyset cursors, forward and backward", func(t *testing.T) {
		auto := review.NewService(b.d, b.catalog, quiet())
		auto.AutoApprove = true
		p := tf.NewProduct(t, b.d, tf.ProductOpts{})
		for i, stars := range []int{3, 5, 1, 5, 2, 4, 3} {
			_, err := auto.Create(ctx, b.buyer(t, p, "PAID"), p.ID, review.Input{Rating: stars, Title: ptr(fmt.Sprint(i))})
			require.NoError(t, err)
		}
		walk := func(sort review.Sort, rating *int) []int {
			var stars []int
			after := ""
			for {
				page, err := b.svc.ListByProduct(ctx, nil, p.ID, review.ListParams{First: ptr(2), After: after, Sort: sort, Rating: rating})
				require.NoError(t, err)
				for _, r := range page.Reviews {
					stars = append(stars, r.Rating)
				}
				if !page.HasNextPage {
					return stars
				}
				after = page.Cursors[len(page.Cursors)-1]
			}
		}
		require.Equal(t, []int{5, 5, 4, 3, 3, 2, 1}, walk(review.SortHighest, nil))
		require.Equal(t, []int{1, 2, 3, 3, 4, 5, 5}, walk(review.SortLowest, nil))
		require.Equal(t, []int{3, 4, 2, 5, 1, 5, 3}, walk(review.SortNewest, nil))
		require.Equal(t, []int{5, 5}, walk(review.SortMostHelpful, ptr(5)))

		last, err := b.svc.ListByProduct(ctx, nil, p.ID, review.ListParams{Last: ptr(3), Sort: review.SortHighest})
		require.NoError(t, err)
		require.Equal(t, []int{3, 2, 1}, []int{last.Reviews[0].Rating, last.Reviews[1].Rating, last.Reviews[2].Rating})
		require.True(t, last.HasPreviousPage)
		prev, err := b.svc.ListByProduct(ctx, nil, p.ID, review.ListParams{Last: ptr(10), Before: last.Cursors[0], Sort: review.SortHighest})
		require.NoError(t, err)
		require.Len(t, prev.Reviews, 4)
		require.False(t, prev.HasPreviousPage)

		_, err = b.svc.ListByProduct(ctx, nil, p.ID, review.ListParams{First: ptr(2), After: last.Cursors[0], Sort: review.SortNewest})
		require.Equal(t, []apperr.Code{apperr.BadUserInput}, codes(err), "a cursor of another sort")
		_, err = b.svc.ListByProduct(ctx, nil, p.ID, review.ListParams{First: ptr(101)})
		require.Equal(t, []apperr.Code{apperr.BadUserInput}, codes(err))
		n, err := b.svc.CountByProduct(ctx, nil, p.ID, review.ListParams{Rating: ptr(3)})
		require.NoError(t, err)
		require.Equal(t, 2, n)
	})

	t.Run("an account's reviews are its own and admins' to list", func(t *testing.T) {
		p1, p2 := tf.NewProduct(t, b.d, tf.ProductOpts{}), tf.NewProduct(t, b.d, tf.ProductOpts{})
		v := b.buyer(t, p1, "PAID")
		tf.NewOrder(t, b.d, tf.OrderOpts{UserID: v.UserID, Status: "PAID", Lines: []tf.LineOpts{{ProductID: p2.ID, VariantID: p2.Variant()}}})
		for _, p := range []tf.Product{p1, p2} {
			_, err := b.svc.Create(ctx, v, p.ID, review.Input{Rating: 4})
			require.NoError(t, err)
		}
		page, err := b.svc.ListByUser(ctx, &v, v.UserID, review.ListParams{First: ptr(1)})
		require.NoError(t, err)
		require.Len(t, page.Reviews, 1)
		require.True(t, page.HasNextPage)
		require.Equal(t, p2.ID, page.Reviews[0].ProductID, "newest first")
		n, err := b.svc.CountByUser(ctx, &b.admin, v.UserID)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		other := tf.NewUser(t, b.d, tf.UserOpts{}).Viewer()
		_, err = b.svc.ListByUser(ctx, &other, v.UserID, review.ListParams{})
		require.Equal(t, []apperr.Code{apperr.Forbidden}, codes(err))
	})

	t.Run("an order's move to PAID adds its units to the products' units sold, once", func(t *testing.T) {
		orders := order.NewService(b.d, nil, nil, quiet())
		p := tf.NewProduct(t, b.d, tf.ProductOpts{})
		u := tf.NewUser(t, b.d, tf.UserOpts{})
		o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: u.ID, Lines: []tf.LineOpts{{ProductID: p.ID, VariantID: p.Variant(), Quantity: 3}}})
		unitsSold := func() int {
			var n int
			require.NoError(t, b.d.Pool.QueryRow(ctx, `SELECT units_sold FROM products WHERE id = $1`, p.ID).Scan(&n))
			return n
		}
		require.Zero(t, unitsSold())
		_, err := orders.Transition(ctx, order.SystemActor, o.ID, order.Paid, order.TransitionOptions{})
		require.NoError(t, err)
		require.Equal(t, 3, unitsSold())
		_, err = orders.Transition(ctx, order.SystemActor, o.ID, order.Refunded, order.TransitionOptions{})
		require.NoError(t, err)
		require.Equal(t, 3, unitsSold(), "refunds do not subtract")
	})
}

// TestRatingUnderConcurrentChanges runs 200 creations, edits, moderations and deletions of one
// product's reviews at once: the product's rating columns, kept by the trigger in each change's
// transaction, must equal what the rows say.
func TestRatingUnderConcurrentChanges(t *testing.T) {
	t.Parallel()
	b := setup(t, 8)
	ctx := context.Background()
	p := tf.NewProduct(t, b.d, tf.ProductOpts{})
	auto := review.NewService(b.d, b.catalog, quiet())
	auto.AutoApprove = true

	const n = 200
	buyers := make([]auth.Viewer, n)
	for i := range buyers {
		buyers[i] = b.buyer(t, p, "PAID")
	}
	// Half of the reviews exist beforehand, approved, for the edits, moderations and deletes.
	existing := make([]review.Review, n/2)
	for i := range existing {
		r, err := auto.Create(ctx, buyers[i], p.ID, review.Input{Rating: i%5 + 1})
		require.NoError(t, err)
		existing[i] = r
	}

	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			switch {
			case i >= n/2: // creations, approved and pending alike
				svc := b.svc
				if i%2 == 0 {
					svc = auto
				}
				_, err = svc.Create(ctx, buyers[i], p.ID, review.Input{Rating: (i*7)%5 + 1})
			case i%4 == 0:
				_, err = b.svc.Delete(ctx, buyers[i], existing[i].ID)
			case i%4 == 1:
				_, err = auto.Update(ctx, buyers[i], existing[i].ID, review.Input{Rating: (i*3)%5 + 1})
			case i%4 == 2:
				_, err = b.svc.Moderate(ctx, b.admin, existing[i].ID, review.StatusRejected, nil)
			default:
				_, err = b.svc.Update(ctx, buyers[i], existing[i].ID, review.Input{Rating: 5}) // back to PENDING
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	want := b.ratingOfRows(t, p.ID)
	require.Equal(t, want, b.ratingColumns(t, p.ID))
	require.Positive(t, want.Count)
	t.Logf("after %d concurrent changes: %d approved, sum %d, histogram %v", n, want.Count, want.Sum, want.Histogram)
}
