package order

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// feedPositionShift: an event's feed position is its transaction's id shifted left by 16 bits,
// plus its number within the transaction, as migration 00008's trigger and horizon give them.
const feedPositionShift = 16

// FeedFrom is the start of a feed subscription that wants only new events: the transactions
// of a snapshot (pg_current_snapshot) taken when it started.
type FeedFrom struct {
	xmin, xmax uint64   // every id below xmin had ended; none from xmax on had started
	running    []uint64 // the ids in between still running, sorted
}

// After is the position to replay after: every event below it was committed before.
func (f FeedFrom) After() int64 { return int64(f.xmin<<feedPositionShift) - 1 }

// IsHistory reports whether e's transaction had committed when the subscription started (e
// is history, not a new event).
func (f FeedFrom) IsHistory(e Event) bool {
	xid := uint64(e.FeedPosition) >> feedPositionShift
	switch {
	case xid < f.xmin:
		return true
	case xid >= f.xmax:
		return false
	}
	_, running := slices.BinarySearch(f.running, xid)
	return !running
}

// parseFeedFrom reads a pg_snapshot's text form, xmin:xmax:id,id,...
func parseFeedFrom(text string) (FeedFrom, error) {
	parts := strings.Split(text, ":")
	if len(parts) != 3 {
		return FeedFrom{}, fmt.Errorf("feed snapshot %q: not xmin:xmax:running", text)
	}
	var f FeedFrom
	var err error
	if f.xmin, err = strconv.ParseUint(parts[0], 10, 64); err != nil {
		return FeedFrom{}, fmt.Errorf("feed snapshot %q: %w", text, err)
	}
	if f.xmax, err = strconv.ParseUint(parts[1], 10, 64); err != nil {
		return FeedFrom{}, fmt.Errorf("feed snapshot %q: %w", text, err)
	}
	if parts[2] != "" {
		for _, s := range strings.Split(parts[2], ",") {
			id, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return FeedFrom{}, fmt.Errorf("feed snapshot %q: %w", text, err)
			}
			f.running = append(f.running, id)
		}
	}
	slices.Sort(f.running)
	return f, nil
}
