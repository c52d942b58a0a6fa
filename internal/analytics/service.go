package analytics

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// Service is the analytics use cases, and order.Service's Sales hook (order.SalesRecorder).
type Service struct {
	db  *postgres.DB
	log *slog.Logger
}

// NewService returns an analytics service.
func NewService(d *postgres.DB, log *slog.Logger) *Service {
	return &Service{db: d, log: log}
}

// Paid adds an order paid at at to the rollups, in the PAID move's transaction tx.
func (s *Service) Paid(ctx context.Context, tx pgx.Tx, orderID int64, at time.Time) error {
	if err := db.New(tx).AnalyticsRecordPaid(ctx, db.AnalyticsRecordPaidParams{OrderID: orderID, PaidAt: at}); err != nil {
		return fmt.Errorf("record sale of order %d: %w", orderID, err)
	}
	return nil
}

// Refunded records a refund of amount completed at at (the move's event sequence) in the
// ledger and the rollups, in the move's transaction tx.
func (s *Service) Refunded(ctx context.Context, tx pgx.Tx, orderID int64, sequence int, amount int64, at time.Time) error {
	err := db.New(tx).AnalyticsRecordRefund(ctx, db.AnalyticsRecordRefundParams{
		OrderID: orderID, Sequence: int32(sequence), Amount: amount, RefundedAt: at,
	})
	if err != nil {
		return fmt.Errorf("record refund of order %d: %w", orderID, err)
	}
	return nil
}

// Rebuild builds the rollups afresh from the lines, the PAID events and the refund ledger
// (the backfill the migration runs; the benchmark's generated data uses it too).
func (s *Service) Rebuild(ctx context.Context) error {
	return s.db.AnalyticsRebuild(ctx)
}

// Report is the sales report v asks for: from the rollups when every boundary of the range
// falls on a quarter hour (every zone in use today), from the lines otherwise; both exact.
// Errors: UNAUTHENTICATED, FORBIDDEN (not a vendor's member nor an admin; the platform asked
// by a non-admin), NOT_FOUND (a missing vendor, or another vendor's), INVALID (input).
func (s *Service) Report(ctx context.Context, v *auth.Viewer, in Input) (Report, error) {
	return s.report(ctx, v, in, false)
}

// ReportFromLines is Report always computed as the plain aggregate over the lines: the
// reference the rollups are tested and benchmarked against.
func (s *Service) ReportFromLines(ctx context.Context, v *auth.Viewer, in Input) (Report, error) {
	return s.report(ctx, v, in, true)
}

func (s *Service) report(ctx context.Context, v *auth.Viewer, in Input, plain bool) (Report, error) {
	if err := mayRead(v, in.VendorID); err != nil {
		return Report{}, err
	}
	p, err := parse(in)
	if err != nil {
		return Report{}, err
	}
	var vendorID int64 // 0: the platform
	if in.VendorID != nil {
		vendorID = *in.VendorID
		if v.IsAdmin() {
			if _, err := s.db.VendorGetByID(ctx, vendorID); postgres.IsNotFound(err) {
				return Report{}, apperr.FieldError(apperr.NotFound, "No vendor has this ID.", "input", "vendorId")
			} else if err != nil {
				return Report{}, fmt.Errorf("get vendor: %w", err)
			}
		}
	}
	r := Report{VendorID: in.VendorID, From: p.in.From, To: p.in.To, Interval: in.Interval, TimeZone: p.in.TimeZone,
		Start: p.start(), End: p.end(), Source: FromRollups}
	if plain || !p.aligned {
		r.Source = FromLines
	}
	var (
		series []db.AnalyticsRollupSeriesRow
		top    []db.AnalyticsRollupTopRow
	)
	// Two statements outside a transaction: a sale committed between them may show in one and
	// not yet in the other, as in any live report; each figure is exact for its moment.
	q := s.db.Queries
	err = func() error {
		if r.Source == FromRollups {
			series, err = q.AnalyticsRollupSeries(ctx, db.AnalyticsRollupSeriesParams{
				Unit: in.Interval.unit(), Tz: p.in.TimeZone, VendorID: vendorID, FromAt: r.Start, ToAt: r.End})
			if err != nil {
				return fmt.Errorf("rollup series: %w", err)
			}
			top, err = q.AnalyticsRollupTop(ctx, db.AnalyticsRollupTopParams{VendorID: vendorID, FromAt: r.Start, ToAt: r.End, Lim: TopN})
			if err != nil {
				return fmt.Errorf("rollup top: %w", err)
			}
			return nil
		}
		rows, err := q.AnalyticsPlainSeries(ctx, db.AnalyticsPlainSeriesParams{
			Unit: in.Interval.unit(), Tz: p.in.TimeZone, VendorID: vendorID, FromAt: r.Start, ToAt: r.End})
		if err != nil {
			return fmt.Errorf("plain series: %w", err)
		}
		for _, x := range rows {
			series = append(series, db.AnalyticsRollupSeriesRow(x))
		}
		trows, err := q.AnalyticsPlainTop(ctx, db.AnalyticsPlainTopParams{VendorID: vendorID, FromAt: r.Start, ToAt: r.End, Lim: TopN})
		if err != nil {
			return fmt.Errorf("plain top: %w", err)
		}
		for _, x := range trows {
			top = append(top, db.AnalyticsRollupTopRow(x))
		}
		return nil
	}()
	if err != nil {
		return Report{}, err
	}
	r.Currencies, err = assemble(p, series, top)
	if err != nil {
		return Report{}, err
	}
	return r, nil
}

// assemble lays the rows out per currency: a point per interval of the range (zeros where
// nothing happened), the totals, the rankings.
func assemble(p plan, series []db.AnalyticsRollupSeriesRow, top []db.AnalyticsRollupTopRow) ([]Currency, error) {
	index := make(map[string]int, len(p.periods))
	for i, pe := range p.periods {
		index[pe.key] = i
	}
	byCur := map[string]*Currency{}
	get := func(code string) *Currency {
		c := byCur[code]
		if c == nil {
			c = &Currency{Currency: code, Series: make([]Point, len(p.periods)), TopByRevenue: []Product{}, TopByUnits: []Product{}}
			for i, pe := range p.periods {
				c.Series[i] = Point{Start: pe.start, End: pe.end}
			}
			byCur[code] = c
		}
		return c
	}
	for _, row := range series {
		if !row.Period.Valid {
			return nil, fmt.Errorf("analytics row without a period")
		}
		key := row.Period.Time.Format(dateLayout)
		i, ok := index[key]
		if !ok {
			return nil, fmt.Errorf("analytics row for %s outside the range's intervals", key)
		}
		c := get(row.Currency)
		f := Figures{Gross: row.Gross, Refunds: row.Refunds, Orders: row.Orders, Units: row.Units}
		c.Series[i].add(f)
		c.Totals.add(f)
	}
	for _, row := range top {
		c := get(row.Currency)
		pr := Product{ProductID: row.ProductID, Name: row.Name, Revenue: row.Revenue, Units: row.Units}
		if row.Ranking == "REVENUE" {
			c.TopByRevenue = append(c.TopByRevenue, pr)
		} else {
			c.TopByUnits = append(c.TopByUnits, pr)
		}
	}
	out := make([]Currency, 0, len(byCur))
	for _, c := range byCur {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Currency < out[j].Currency })
	return out, nil
}
