package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/shopgraph/shopgraph/internal/analytics"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// median is the middle of took (the lower middle of an even count), in milliseconds.
func median(took []time.Duration) float64 {
	s := slices.Clone(took)
	slices.Sort(s)
	return float64(s[(len(s)-1)/2].Microseconds()) / 1000
}

// measureWrites pays n fresh two-line orders through the state machine with the analytics
// hook and n without it, alternating, and prints each side's median time of a payment's
// transaction: the write cost the rollups add to a payment.
func measureWrites(ctx context.Context, d *postgres.DB, svc *analytics.Service, n int) (with, without float64, err error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	plain := order.NewService(d, nil, nil, log)
	hooked := order.NewService(d, nil, nil, log)
	hooked.Sales = svc
	rows, err := d.Pool.Query(ctx, `
		WITH o AS (
		    INSERT INTO orders (user_id, status, currency, total_amount, shipping_address)
		    SELECT (SELECT min(id) FROM users), 'PENDING', 'USD', 0, '{}' FROM generate_series(1, $1::int)
		    RETURNING id
		), l AS (
		    INSERT INTO order_lines (order_id, product_id, variant_id, vendor_id, product_name, variant_name, sku, unit_price, currency, quantity, line_total)
		    SELECT o.id, 1 + k, 1 + k, (SELECT min(id) + k FROM vendors), 'Product', 'Default', 'SKU', 1000, 'USD', 1, 1000
		    FROM o CROSS JOIN generate_series(0, 1) k
		    RETURNING order_id
		)
		SELECT DISTINCT order_id FROM l ORDER BY order_id`, 2*n)
	if err != nil {
		return 0, 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return 0, 0, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	var tookWith, tookWithout []time.Duration
	for i, id := range ids {
		s := plain
		if i%2 == 0 {
			s = hooked
		}
		t0 := time.Now()
		if _, err := s.Transition(ctx, order.SystemActor, id, order.Paid, order.TransitionOptions{}); err != nil {
			return 0, 0, fmt.Errorf("pay order %d: %w", id, err)
		}
		if i%2 == 0 {
			tookWith = append(tookWith, time.Since(t0))
		} else {
			tookWithout = append(tookWithout, time.Since(t0))
		}
	}
	with, without = median(tookWith), median(tookWithout)
	fmt.Printf("payment (PAID move) median: with the analytics hook %.2f ms, without %.2f ms (n=%d each)\n", with, without, len(tookWith))
	return with, without, nil
}

// measurePlatform times runs platform-wide 90-day daily reports (an admin's, vendorId
// omitted) ending on end, and prints the median.
func measurePlatform(ctx context.Context, svc *analytics.Service, end time.Time, runs int) (float64, error) {
	admin := auth.Viewer{UserID: 1, Role: auth.RoleAdmin}
	in := analytics.Input{From: end.AddDate(0, 0, -90).Format("2006-01-02"), To: end.AddDate(0, 0, -1).Format("2006-01-02"),
		Interval: analytics.Day, TimeZone: "UTC"}
	if _, err := svc.Report(ctx, &admin, in); err != nil { // warm-up
		return 0, err
	}
	took := make([]time.Duration, runs)
	for i := range took {
		t0 := time.Now()
		if _, err := svc.Report(ctx, &admin, in); err != nil {
			return 0, err
		}
		took[i] = time.Since(t0)
	}
	m := median(took)
	fmt.Printf("platform-wide 90-day daily report median: %.2f ms (n=%d)\n", m, runs)
	return m, nil
}
