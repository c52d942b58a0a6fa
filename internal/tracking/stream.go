package tracking

import (
	"context"
	"sync"
	"time"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/pubsub"
)

// Stream limits.
const (
	// subscriberBuffer is how many events a subscriber may lag before it is cut off (and
	// resumes with `after`) rather than hold publishers back.
	subscriberBuffer = 64
	// sessionCheckInterval is how often a live subscription checks that its session was not
	// revoked (sign-out, password change). Access tokens live 15 minutes and end the stream
	// anyway; checking every 2 minutes keeps 10,000 idle streams under 100 queries a second.
	sessionCheckInterval = 2 * time.Minute
	// replayPage is how many stored events one replay query reads.
	replayPage = 1000
	// heldBackRetry is how soon the feed is read again when committed events were held back
	// behind a transaction still running: nothing may publish when that one ends.
	heldBackRetry = 25 * time.Millisecond
)

// stream runs one subscription: it replays from Postgres, then forwards live events, and
// ends with an error update when the subscriber fell behind, its token expired or its session
// was revoked. sub is attached before the first replay, so nothing committed in between is lost.
//
// No goroutine of its own waits while nothing happens: a server holds tens of thousands of idle
// subscriptions, and a parked goroutine costs its stack (8 KiB and more once a replay has run
// through pgx). The hub (Subscription.OnDeliver), the timers and the end of ctx each call kick,
// which starts one worker if none runs; the worker does what is due, then ends. One worker at
// a time: the fields below the lock belong to whichever runs.
type stream struct {
	viewer       auth.Viewer
	orders       Orders
	sessions     Sessions
	sessionCheck time.Duration
	out          chan *Update
	sub          *pubsub.Subscription
	// history, when set, tells the stored events that are not to be sent: those committed
	// before a subscription that wants only new ones.
	history func(order.Event) bool

	mu       sync.Mutex
	due      due  // what the next worker has to do
	running  bool // a worker runs (or the stream ended: none may start again)
	finished bool

	// The worker's state.
	ctx      context.Context
	replay   func(after int64) (events []order.Event, full, heldBack bool, err error)
	position func(order.Event) int64
	gapless  bool
	last     int64
	again    *time.Timer // reads again soon: events were held back
	expiry   *time.Timer
	check    *time.Timer
	stopCtx  func() bool
	// announce, when the reader of out asked for it (WithAnnounce), is called after each
	// update put on out and after out closes: the reader then waits for it, not on out.
	announce func()
}

// due is what wakes a stream's worker.
type due uint8

const (
	dueCatchUp due = 1 << iota // the first replay, or events were held back
	dueEvent                   // the hub put an event on sub.C, or closed it
	dueExpiry                  // the access token expired
	dueCheck                   // time to check the session
	dueStop                    // ctx ended
)

// run starts the stream and returns at once; the stream ends when ctx ends. replay returns the
// stored events after a position, one page of them, whether the page was full (more may
// follow) and whether later events were held back (order.Service.FeedAfter: read again soon);
// position gives an event's place in the stream; gapless says positions count up by one (an
// order's sequence does; the feed's positions have holes), so a jump means events were lost
// between instances and are re-read from Postgres.
func (s *stream) run(ctx context.Context, replay func(after int64) (events []order.Event, full, heldBack bool, err error), position func(order.Event) int64, gapless bool, last int64) {
	// The lock holds back every wake-up until the stream is set up.
	s.mu.Lock()
	s.ctx, s.replay, s.position, s.gapless, s.last = ctx, replay, position, gapless, last
	if take, ok := ctx.Value(announceKey{}).(func() func()); ok {
		s.announce = take()
	}
	s.expiry = time.AfterFunc(time.Until(s.viewer.ExpiresAt), func() { s.kick(dueExpiry) })
	s.check = time.AfterFunc(s.sessionCheck, func() { s.kick(dueCheck) })
	s.stopCtx = context.AfterFunc(ctx, func() { s.kick(dueStop) })
	s.sub.OnDeliver(func() { s.kick(dueEvent) })
	s.due, s.running = dueCatchUp|dueEvent, true // events may have arrived since Subscribe
	s.mu.Unlock()
	go s.work()
}

// kick marks d due and starts a worker unless one runs. It never blocks for long: the hub
// calls it while delivering to every subscriber.
func (s *stream) kick(d due) {
	s.mu.Lock()
	s.due |= d
	if s.running || s.finished {
		s.mu.Unlock()
		return
	}
	s.running = true
	s.mu.Unlock()
	go s.work()
}

// work does what is due until nothing is, or the stream ends.
func (s *stream) work() {
	for {
		s.mu.Lock()
		d := s.due
		s.due = 0
		if d == 0 {
			// Whatever is marked due after this starts a new worker.
			s.running = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		if !s.step(d) {
			s.finish()
			return
		}
	}
}

// finish ends the stream: no worker starts again, the hub forgets it, out closes.
func (s *stream) finish() {
	s.mu.Lock()
	s.finished = true
	s.mu.Unlock()
	s.stopCtx()
	s.expiry.Stop()
	s.check.Stop()
	if s.again != nil {
		s.again.Stop()
	}
	s.sub.Close()
	close(s.out)
	if s.announce != nil {
		s.announce()
	}
}

// step does what d says is due; false means the stream ended.
func (s *stream) step(d due) bool {
	if d&dueStop != 0 || s.ctx.Err() != nil {
		return false
	}
	if d&dueCatchUp != 0 && !s.catchUp() {
		return false
	}
	if d&dueEvent != 0 && !s.forward() {
		return false
	}
	if d&dueExpiry != 0 {
		s.end(apperr.New(codeExpired, "The access token expired; refresh it and subscribe again with after."))
		return false
	}
	if d&dueCheck != 0 {
		if ok, err := s.sessions.SessionActive(s.ctx, s.viewer.SessionID); err == nil && !ok {
			s.end(apperr.New(codeExpired, "The session was signed out; sign in and subscribe again."))
			return false
		}
		s.check.Reset(s.sessionCheck)
	}
	return true
}

// forward sends the live events waiting on sub.C.
func (s *stream) forward() bool {
	for {
		var m *pubsub.OrderEvent
		var ok bool
		select {
		case m, ok = <-s.sub.C:
		default:
			return true
		}
		if !ok {
			s.end(apperr.Wrap(s.sub.Err(), codeResume, "You fell behind the live updates; subscribe again with after set to the last one received."))
			return false
		}
		e := order.FromMessage(*m)
		// The feed's live messages only ring the bell: the events come from Postgres, in
		// order, once no running transaction can commit one before them.
		if m.Resync || !s.gapless || s.position(e) > s.last+1 {
			if !s.catchUp() {
				return false
			}
			continue
		}
		if !s.send(e) {
			return false
		}
	}
}

// send sends e unless it was sent already (a replay overlapping a live event) or is history.
func (s *stream) send(e order.Event) bool {
	if s.position(e) <= s.last {
		return true
	}
	if s.history != nil && s.history(e) {
		s.last = s.position(e)
		return true
	}
	// Every event passes the viewer's redaction (order.EventFor) before it leaves.
	e, err := s.orders.EventFor(s.ctx, s.viewer, e)
	if err != nil {
		s.end(apperr.Wrap(err, codeResume, "Could not read the order history; subscribe again with after."))
		return false
	}
	if !s.put(&Update{Event: e}) {
		return false
	}
	s.last = s.position(e)
	return true
}

// put puts u on out, unless ctx ends first.
func (s *stream) put(u *Update) bool {
	select {
	case s.out <- u:
		if s.announce != nil {
			s.announce()
		}
		return true
	case <-s.ctx.Done():
		return false
	}
}

// catchUp sends everything stored after the last event sent, page by page until a page is not
// full, and reads again soon when some were held back.
func (s *stream) catchUp() bool {
	if s.again != nil {
		s.again.Stop()
		s.again = nil
	}
	for {
		events, full, heldBack, err := s.replay(s.last)
		if err != nil {
			s.end(apperr.Wrap(err, codeResume, "Could not read the order history; subscribe again with after."))
			return false
		}
		before := s.last
		for _, e := range events {
			if !s.send(e) {
				return false
			}
		}
		if heldBack {
			s.again = time.AfterFunc(heldBackRetry, func() { s.kick(dueCatchUp) })
			return true
		}
		if !full || s.last == before {
			return true
		}
	}
}

// end sends the final, failing update, unless ctx ended first.
func (s *stream) end(err error) {
	s.put(&Update{Err: err})
}
