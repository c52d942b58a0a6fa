package order

import "testing"

func TestFeedFrom(t *testing.T) {
	f, err := parseFeedFrom("100:110:103,101")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.After(), int64(100<<16-1); got != want {
		t.Fatalf("After = %d, want %d", got, want)
	}
	at := func(xid int64) Event { return Event{FeedPosition: xid<<16 | 1} }
	for xid, history := range map[int64]bool{
		99: true, 100: true, // ended before the snapshot (100 is not running)
		101: false, 103: false, // running: their events are new
		102: true, 109: true, // committed between xmin and xmax
		110: false, 111: false, // started after
	} {
		if got := f.IsHistory(at(xid)); got != history {
			t.Errorf("IsHistory(transaction %d) = %v, want %v", xid, got, history)
		}
	}
	if f, err := parseFeedFrom("5:5:"); err != nil || f.IsHistory(at(5)) || !f.IsHistory(at(4)) {
		t.Errorf("no running transaction: %+v, %v", f, err)
	}
	for _, bad := range []string{"", "1:2", "a:2:", "1:b:", "1:2:x"} {
		if _, err := parseFeedFrom(bad); err == nil {
			t.Errorf("parseFeedFrom(%q) took it", bad)
		}
	}
}
