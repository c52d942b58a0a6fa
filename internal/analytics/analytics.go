// Package analytics is the vendors' and admins' sales analytics (vendorAnalytics): per currency,
// gross sales, refunds, net sales, orders, units and average order value over a range of
// calendar dates in a time zone, a series per calendar interval and the top products.
//
// Definitions. A sale counts at payment time: the order's PAID event. A refund counts when it
// completes: when the order's refunded total grows (the move to REFUNDED or PARTIALLY_REFUNDED
// that internal/payment makes when a refund settles or the provider reports one). An order
// never paid (pending, or cancelled unpaid) counts nothing; a paid order cancelled later keeps
// its sale and its refund counts when it completes. A vendor's sales are its lines of paid
// orders; its share of a refund is the refund in proportion to its lines of the order, rounded
// down on the order's cumulative refunded total (so a full refund reverses exactly its sales).
//
// Speed. order.Service.TransitionTx tells Service (its Sales hook, set in internal/app) of each
// payment and completed refund, in the move's transaction; Service adds it to rollups in
// 15-minute UTC buckets per vendor (and for the platform) and per product. Every zone in use
// today has offsets in whole quarter hours, so summing buckets per calendar interval in the
// zone is exact; the service checks every boundary of the asked range and answers from the
// plain aggregate over the lines when one does not fall on a quarter hour (old LMT offsets).
package analytics

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopgraph/shopgraph/internal/apperr"
)

// Interval is the length of the series' intervals.
type Interval string

// Intervals: calendar days, ISO weeks (Monday to Sunday) and calendar months in the zone.
const (
	Day   Interval = "DAY"
	Week  Interval = "WEEK"
	Month Interval = "MONTH"
)

// unit is the interval's date_trunc field.
func (i Interval) unit() string {
	switch i {
	case Week:
		return "week"
	case Month:
		return "month"
	}
	return "day"
}

// MaxIntervals bounds a report's series.
const MaxIntervals = 1000

// TopN is how many products each ranking holds.
const TopN = 10

// bucket is the rollups' bucket, in seconds.
const bucket = 15 * 60

// Input asks for a report.
type Input struct {
	// VendorID is the vendor; nil for the whole platform (admins).
	VendorID *int64
	// From and To are calendar dates (YYYY-MM-DD) in TimeZone, both included.
	From, To string
	Interval Interval
	// TimeZone is an IANA zone name, e.g. "America/New_York".
	TimeZone string
}

// Figures are one interval's (or the range's) numbers, in minor units of one currency.
type Figures struct {
	Gross   int64
	Refunds int64
	Orders  int64
	Units   int64
}

// Net is gross sales less refunds.
func (f Figures) Net() int64 { return f.Gross - f.Refunds }

// AverageOrderValue is gross sales per order, rounded to the nearest minor unit (halves up);
// 0 without orders.
func (f Figures) AverageOrderValue() int64 {
	if f.Orders == 0 {
		return 0
	}
	return (2*f.Gross + f.Orders) / (2 * f.Orders)
}

func (f *Figures) add(g Figures) {
	f.Gross += g.Gross
	f.Refunds += g.Refunds
	f.Orders += g.Orders
	f.Units += g.Units
}

// Point is one interval of the series: [Start, End), clipped to the range.
type Point struct {
	Start, End time.Time
	Figures
}

// Product is one product's sales in the range.
type Product struct {
	ProductID int64
	// Name is the product's name as sold (the lines' snapshot).
	Name    string
	Revenue int64
	Units   int64
}

// Currency is the report of one currency.
type Currency struct {
	Currency     string
	Totals       Figures
	Series       []Point
	TopByRevenue []Product
	TopByUnits   []Product
}

// Source says where a report's figures came from.
type Source string

// Sources.
const (
	FromRollups Source = "ROLLUPS"
	FromLines   Source = "LINES"
)

// Report is a vendor's (or the platform's) sales over a range.
type Report struct {
	VendorID   *int64
	From, To   string
	Interval   Interval
	TimeZone   string
	Start, End time.Time // the range's instants: [Start, End)
	Currencies []Currency
	Source     Source
}

// period is one interval of the asked range.
type period struct {
	key        string // the local date date_trunc gives its instants
	start, end time.Time
}

// plan is a validated Input: its zone and intervals.
type plan struct {
	in      Input
	loc     *time.Location
	periods []period
	// aligned: every boundary falls on a rollup bucket's.
	aligned bool
}

const dateLayout = "2006-01-02"

// parse validates in. Errors: INVALID (on the field at fault).
func parse(in Input) (plan, error) {
	p := plan{in: in}
	switch in.Interval {
	case Day, Week, Month:
	default:
		return p, apperr.FieldError(apperr.Invalid, "The interval must be DAY, WEEK or MONTH.", "input", "interval")
	}
	tz := strings.TrimSpace(in.TimeZone)
	if tz == "" || tz == "Local" || strings.EqualFold(tz, "local") {
		return p, apperr.FieldError(apperr.Invalid, "Give an IANA time zone, e.g. UTC or America/New_York.", "input", "timeZone")
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return p, apperr.FieldError(apperr.Invalid, fmt.Sprintf("%q is not an IANA time zone.", in.TimeZone), "input", "timeZone")
	}
	p.loc = loc
	p.in.TimeZone = tz
	from, err := time.Parse(dateLayout, in.From)
	if err != nil {
		return p, apperr.FieldError(apperr.Invalid, "from must be a date, YYYY-MM-DD.", "input", "from")
	}
	to, err := time.Parse(dateLayout, in.To)
	if err != nil {
		return p, apperr.FieldError(apperr.Invalid, "to must be a date, YYYY-MM-DD.", "input", "to")
	}
	if to.Before(from) {
		return p, apperr.FieldError(apperr.Invalid, "to must not be before from.", "input", "to")
	}
	if from.Year() < 1970 || to.Year() > 9999 {
		return p, apperr.FieldError(apperr.Invalid, "Dates must be from 1970 on.", "input", "from")
	}
	end := to.AddDate(0, 0, 1)
	instant := func(d time.Time) time.Time {
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc).UTC()
	}
	p.aligned = true
	for d := from; d.Before(end); {
		var key, next time.Time
		switch in.Interval {
		case Day:
			key, next = d, d.AddDate(0, 0, 1)
		case Week:
			back := (int(d.Weekday()) + 6) % 7 // days since Monday
			key = d.AddDate(0, 0, -back)
			next = key.AddDate(0, 0, 7)
		case Month:
			key = time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
			next = key.AddDate(0, 1, 0)
		}
		if next.After(end) {
			next = end
		}
		pe := period{key: key.Format(dateLayout), start: instant(d), end: instant(next)}
		if pe.start.Unix()%bucket != 0 || pe.end.Unix()%bucket != 0 {
			p.aligned = false
		}
		p.periods = append(p.periods, pe)
		if len(p.periods) > MaxIntervals {
			return p, apperr.FieldError(apperr.Invalid, fmt.Sprintf("A report has at most %d intervals; narrow the range or widen the interval.", MaxIntervals), "input", "to")
		}
		d = next
	}
	p.in.From, p.in.To = from.Format(dateLayout), to.Format(dateLayout)
	return p, nil
}

func (p plan) start() time.Time { return p.periods[0].start }
func (p plan) end() time.Time   { return p.periods[len(p.periods)-1].end }
