package graph_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/app"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/pubsub"
	"github.com/shopgraph/shopgraph/internal/testutil/redistest"
	"github.com/shopgraph/shopgraph/internal/tracking"
)

// Live order tracking (issue 6) over graphql-transport-ws, the legacy graphql-ws protocol and
// Server-Sent Events. The helpers are in subscription_helpers_api_test.go.

// TestSubscriptionTracking: the owner of an order follows it over every transport.
func TestSubscriptionTracking(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)

	for _, transport := range trackTransports {
		t.Run(transport, func(t *testing.T) {
			t.Run("the owner gets the current status first, then each change in order", func(t *testing.T) {
				o := newTrackOrder(t, e, nil)
				s := openTrack(t, e.Server.Server, transport, o.owner.Bearer, trackQuery, trackVars(o.gid, -1))

				first := nextEvent(t, s)
				require.Equal(t, 1, first.Sequence)
				require.Equal(t, "PENDING", first.Status)
				require.Nil(t, first.PreviousStatus)
				require.Equal(t, o.gid, first.Order.ID)

				require.Empty(t, setStatus(t, e.Admin, o.gid, "PAID", "").UserErrors)
				paid := nextEvent(t, s)
				require.Equal(t, 2, paid.Sequence)
				require.Equal(t, "PAID", paid.Status)
				require.Equal(t, "PENDING", *paid.PreviousStatus)
				require.Equal(t, "PAID", paid.Order.Status)
				require.Greater(t, paid.Position, first.Position)

				require.Empty(t, setStatus(t, e.Admin, o.gid, "SHIPPED", "1Z999AA10123456784").UserErrors)
				shipped := nextEvent(t, s)
				require.Equal(t, 3, shipped.Sequence)
				require.Equal(t, "SHIPPED", shipped.Status)
				require.Equal(t, "PAID", *shipped.PreviousStatus)
				require.Equal(t, "SHIPPED", shipped.Order.Status)
				require.NotNil(t, shipped.Order.TrackingNumber)
				require.Equal(t, "1Z999AA10123456784", *shipped.Order.TrackingNumber)
				// orderStatusUpdate(SHIPPED) fulfilled the line: its event follows the move.
				fulfilled := nextEvent(t, s)
				require.Equal(t, 4, fulfilled.Sequence)
				require.Equal(t, "SHIPPED", fulfilled.Status)
				require.Equal(t, "fulfilment created", fulfilled.Note)

				requireQuiet(t, s, 200*time.Millisecond)
			})

			t.Run("without after the first event is the current status, not the history", func(t *testing.T) {
				o := newTrackOrder(t, e, nil)
				moveOrder(t, e.Server, o.id, order.Paid, "paid")
				moveOrder(t, e.Server, o.id, order.Shipped, "shipped")
				s := openTrack(t, e.Server.Server, transport, o.owner.Bearer, trackQuery, trackVars(o.gid, -1))

				cur := nextEvent(t, s)
				require.Equal(t, 3, cur.Sequence)
				require.Equal(t, "SHIPPED", cur.Status)
				moveOrder(t, e.Server, o.id, order.Delivered, "delivered")
				require.Equal(t, 4, nextEvent(t, s).Sequence)
				requireQuiet(t, s, 200*time.Millisecond)
			})

			t.Run("after N replays the stored events after N, then streams live ones", func(t *testing.T) {
				o := newTrackOrder(t, e, nil)
				moveOrder(t, e.Server, o.id, order.Paid, "paid")
				moveOrder(t, e.Server, o.id, order.Shipped, "shipped")
				s := openTrack(t, e.Server.Server, transport, o.owner.Bearer, trackQuery, trackVars(o.gid, 1))

				replayed := []trackEvent{nextEvent(t, s), nextEvent(t, s)}
				require.Equal(t, []int{2, 3}, sequences(replayed))
				require.Equal(t, "PAID", replayed[0].Status)
				require.Equal(t, "SHIPPED", replayed[1].Status)
				require.Equal(t, "shipped", replayed[1].Note)

				moveOrder(t, e.Server, o.id, order.Delivered, "delivered")
				live := nextEvent(t, s)
				require.Equal(t, 4, live.Sequence)
				require.Equal(t, "DELIVERED", live.Status)
				requireQuiet(t, s, 200*time.Millisecond)
			})

			t.Run("after the last sequence waits for the next change", func(t *testing.T) {
				o := newTrackOrder(t, e, nil)
				moveOrder(t, e.Server, o.id, order.Paid, "paid")
				s := openTrack(t, e.Server.Server, transport, o.owner.Bearer, trackQuery, trackVars(o.gid, 2))
				requireQuiet(t, s, 300*time.Millisecond)
				moveOrder(t, e.Server, o.id, order.Shipped, "shipped")
				require.Equal(t, 3, nextEvent(t, s).Sequence)
			})
		})
	}
}

// TestSubscriptionAuthorization: who may follow what, on every transport.
func TestSubscriptionAuthorization(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	o := newTrackOrder(t, e, nil)
	stranger, _ := e.Customer(t)

	for _, transport := range trackTransports {
		t.Run(transport, func(t *testing.T) {
			refused := func(t *testing.T, token, query string, vars map[string]any, code string) {
				t.Helper()
				s := openTrack(t, e.Server.Server, transport, token, query, vars)
				codes, events, raw := nextEnd(t, s, trackWait)
				require.Empty(t, events, "events were sent before the refusal")
				require.Equal(t, []string{code}, codes, "errors: %s", raw)
				// Nothing but the end may follow the refusal.
				if it, ok := s.next(time.Second); ok {
					require.True(t, it.Done, "after the refusal: %s", it.Raw)
				}
			}

			t.Run("an unauthenticated subscription is refused with UNAUTHENTICATED", func(t *testing.T) {
				refused(t, "", trackQuery, trackVars(o.gid, -1), "UNAUTHENTICATED")
			})
			t.Run("someone else's order is NOT_FOUND", func(t *testing.T) {
				refused(t, stranger.Bearer, trackQuery, trackVars(o.gid, -1), "NOT_FOUND")
			})
			t.Run("an ID that is not an order's is NOT_FOUND", func(t *testing.T) {
				refused(t, o.owner.Bearer, trackQuery, trackVars(apitest.EncodeID("Product:1"), -1), "NOT_FOUND")
			})
			t.Run("a customer following every order is FORBIDDEN", func(t *testing.T) {
				refused(t, o.owner.Bearer, feedQuery, nil, "FORBIDDEN")
			})
			t.Run("an unauthenticated feed subscription is refused with UNAUTHENTICATED", func(t *testing.T) {
				refused(t, "", feedQuery, nil, "UNAUTHENTICATED")
			})

			t.Run("the subscription ends with UNAUTHENTICATED when the access token expires", func(t *testing.T) {
				// A token issued so that it expires in about two seconds.
				issuer := auth.NewTokens(e.Server.App.Config.JWTSecret, func() time.Time {
					return time.Now().Add(-auth.AccessTokenTTL + 2*time.Second)
				})
				token, exp, err := issuer.Issue(auth.Viewer{UserID: o.userID, Role: auth.RoleCustomer, SessionID: uuid.New()})
				require.NoError(t, err)
				s := openTrack(t, e.Server.Server, transport, token, trackQuery, trackVars(o.gid, -1))
				require.Equal(t, 1, nextEvent(t, s).Sequence)
				codes, events, raw := nextEnd(t, s, 10*time.Second)
				require.Empty(t, events)
				require.Equal(t, []string{"UNAUTHENTICATED"}, codes, "errors: %s", raw)
				require.WithinDuration(t, exp, time.Now(), 3*time.Second, "ended long after the expiry")
			})
		})
	}
}

// TestSubscriptionWebSocket: connection-level behaviour of both WebSocket protocols.
func TestSubscriptionWebSocket(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	o := newTrackOrder(t, e, nil)

	// Connections that never send connection_init, opened first: the server closes them
	// after its 10-second InitTimeout, checked once the other subtests are done.
	type silent struct {
		c      *wsClient
		opened time.Time
	}
	silents := map[string]silent{}
	if !testing.Short() {
		for _, proto := range trackWSProtocols {
			silents[proto] = silent{c: mustDialWS(t, e.Server.Server, proto, nil), opened: time.Now()}
		}
	}

	t.Run("group", func(t *testing.T) {
		for _, proto := range trackWSProtocols {
			t.Run(proto, func(t *testing.T) {
				t.Run("a bad token in connection_init closes the connection with 4403", func(t *testing.T) {
					for _, payload := range []map[string]any{
						{"Authorization": "Bearer not-a-jwt"},
						{"authToken": "not-a-jwt"},
						{"Authorization": "Bearer " + o.owner.Bearer[:len(o.owner.Bearer)-4] + "AAAA"}, // bad signature
					} {
						c := mustDialWS(t, e.Server.Server, proto, nil)
						c.init(payload)
						code := c.closeStatus(trackWait)
						require.Equal(t, websocket.StatusCode(4403), code, "payload %v: %v", payload, c.endErr())
					}
				})

				t.Run("the token may come from the upgrade request's header or cookie", func(t *testing.T) {
					for name, header := range map[string]http.Header{
						"header": {"Authorization": {"Bearer " + o.owner.Bearer}},
						"cookie": {"Cookie": {auth.AccessCookie + "=" + o.owner.Bearer}},
					} {
						c := connectWS(t, e.Server.Server, proto, header, nil)
						c.subscribe("1", trackQuery, trackVars(o.gid, -1))
						ev := nextEvent(t, &wsSub{c: c, id: "1"})
						require.Equal(t, o.gid, ev.Order.ID, name)
					}
				})

				t.Run("a browser origin that is not allowed is refused at the upgrade", func(t *testing.T) {
					for _, origin := range []string{"https://evil.example", "http://localhost:1"} {
						c, resp, err := dialWS(t, e.Server.Server, proto, http.Header{"Origin": {origin}})
						require.Error(t, err, "origin %s was accepted", origin)
						require.Nil(t, c)
						require.NotNil(t, resp, "origin %s", origin)
						require.Equal(t, http.StatusForbidden, resp.StatusCode, "origin %s", origin)
					}
					// The server's own origin is allowed.
					c := connectWS(t, e.Server.Server, proto, http.Header{"Origin": {e.Server.URL}}, bearerInit(o.owner.Bearer))
					c.subscribe("1", trackQuery, trackVars(o.gid, -1))
					nextEvent(t, &wsSub{c: c, id: "1"})
				})

				t.Run("more than 20 subscriptions on one connection are refused", func(t *testing.T) {
					mo := newTrackOrder(t, e, nil)
					c := connectWS(t, e.Server.Server, proto, nil, bearerInit(mo.owner.Bearer))
					subs := make([]*wsSub, tracking.MaxSubscriptionsPerConnection)
					for i := range subs {
						subs[i] = &wsSub{c: c, id: fmt.Sprint(i + 1)}
						c.subscribe(subs[i].id, trackQuery, trackVars(mo.gid, -1))
					}
					// One message per operation, in any order.
					got := map[string]bool{}
					for range subs {
						m, ok := c.recv(trackWait)
						require.True(t, ok)
						require.Equal(t, wsNext, m.Type, "%s", m.Payload)
						require.Contains(t, string(m.Payload), `"sequence":1`)
						got[m.ID] = true
					}
					require.Len(t, got, tracking.MaxSubscriptionsPerConnection)

					over := &wsSub{c: c, id: "over"}
					c.subscribe(over.id, trackQuery, trackVars(mo.gid, -1))
					codes, events, raw := nextEnd(t, over, trackWait)
					require.Empty(t, events)
					require.Equal(t, []string{"BAD_USER_INPUT"}, codes, raw)

					// Ending one makes room for another (the count drops once the server has
					// ended the operation, asynchronously).
					c.stop(subs[0].id)
					admitted := false
					for attempt := 0; !admitted && attempt < 50; attempt++ {
						id := fmt.Sprint("again-", attempt)
						c.subscribe(id, trackQuery, trackVars(mo.gid, -1))
						it, ok := (&wsSub{c: c, id: id}).next(trackWait)
						require.True(t, ok)
						if admitted = it.Event != nil && len(it.Errors) == 0; !admitted {
							require.Equal(t, []string{"BAD_USER_INPUT"}, it.codes(), it.Raw)
							time.Sleep(50 * time.Millisecond)
						}
					}
					require.True(t, admitted, "no new subscription was admitted after one ended")
					// The 20 others are still live.
					moveOrder(t, e.Server, mo.id, order.Paid, "paid-"+proto)
					seen := 0
					for seen < tracking.MaxSubscriptionsPerConnection {
						m, ok := c.recv(trackWait)
						require.True(t, ok, "only %d subscriptions got the change", seen)
						if m.Type == wsNext && strings.Contains(string(m.Payload), `"PAID"`) {
							seen++
						}
					}
				})
			})
		}
	})

	for proto, s := range silents {
		t.Run(proto+"/a connection that never sends connection_init is closed after the init timeout", func(t *testing.T) {
			// Under a loaded CI this subtest may start long after the connection opened: still
			// read for a moment, so a close that already arrived is seen.
			code := s.c.closeStatus(max(20*time.Second-time.Since(s.opened), 3*time.Second))
			elapsed := time.Since(s.opened)
			require.NotZero(t, code, "still open after %s", elapsed)
			require.NotEqual(t, websocket.StatusNormalClosure, code, "closed as if nothing was wrong")
			require.Equal(t, websocket.StatusCode(4408), code, "graphql-transport-ws: 4408 Connection initialisation timeout")
			require.NotEqual(t, websocket.StatusCode(-1), code, "dropped without a close frame: %v", s.c.endErr())
			require.GreaterOrEqual(t, elapsed, 9*time.Second, "closed before the init timeout")
			t.Logf("closed after %s with %d (%v)", elapsed.Round(time.Millisecond), code, s.c.endErr())
		})
	}
}

// TestSubscriptionFeed: orderEvents, the all-orders feed of admins and vendors.
func TestSubscriptionFeed(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	feedFrom := func(t *testing.T) int64 {
		t.Helper()
		var p int64
		require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(),
			`SELECT COALESCE(max(feed_position), 0) FROM order_events`).Scan(&p))
		return p
	}

	for _, transport := range trackTransports {
		t.Run(transport, func(t *testing.T) {
			t.Run("an admin sees every order's events, a vendor only the orders holding its products", func(t *testing.T) {
				vendorClient, vendorID := e.Vendor(t)
				otherVendor, otherID := e.Vendor(t)
				mine := newTrackOrder(t, e, &vendorID)
				notMine := newTrackOrder(t, e, &otherID)
				noVendor := newTrackOrder(t, e, nil)
				from := feedFrom(t)

				after := map[string]any{"after": from}
				admin := openTrack(t, e.Server.Server, transport, e.Admin.Bearer, feedQuery, after)
				vendor := openTrack(t, e.Server.Server, transport, vendorClient.Bearer, feedQuery, after)
				other := openTrack(t, e.Server.Server, transport, otherVendor.Bearer, feedQuery, after)

				moveOrder(t, e.Server, noVendor.id, order.Paid, "no vendor")
				moveOrder(t, e.Server, notMine.id, order.Paid, "not mine")
				moveOrder(t, e.Server, mine.id, order.Paid, "mine")

				// The admin sees the three orders' events (and maybe other subtests'), in feed order.
				var adminSaw []string
				var positions []int64
				for len(adminSaw) < 3 {
					ev := nextEvent(t, admin)
					positions = append(positions, ev.Position)
					switch ev.Order.ID {
					case mine.gid, notMine.gid, noVendor.gid:
						require.Equal(t, "PAID", ev.Status)
						adminSaw = append(adminSaw, ev.Order.ID)
					}
				}
				require.Equal(t, []string{noVendor.gid, notMine.gid, mine.gid}, adminSaw)
				require.IsIncreasing(t, positions)

				// Each vendor sees only its own order.
				ev := nextEvent(t, vendor)
				require.Equal(t, mine.gid, ev.Order.ID)
				require.Equal(t, "PAID", ev.Status)
				require.Equal(t, 2, ev.Sequence)
				ev = nextEvent(t, other)
				require.Equal(t, notMine.gid, ev.Order.ID)
				requireQuiet(t, vendor, 200*time.Millisecond)
				requireQuiet(t, other, 100*time.Millisecond)

				// A replay from an earlier position is filtered the same way.
				replay := openTrack(t, e.Server.Server, transport, vendorClient.Bearer, feedQuery, map[string]any{"after": 0})
				var replayed []string
				for len(replayed) < 2 {
					ev := nextEvent(t, replay)
					require.Equal(t, mine.gid, ev.Order.ID, "a vendor replayed another vendor's order")
					replayed = append(replayed, ev.Status)
				}
				require.Equal(t, []string{"PENDING", "PAID"}, replayed)
				requireQuiet(t, replay, 200*time.Millisecond)
			})

			t.Run("without after the feed starts with new events, not the history", func(t *testing.T) {
				o := newTrackOrder(t, e, nil)
				admin := openTrack(t, e.Server.Server, transport, e.Admin.Bearer, feedQuery, nil)
				// When the subscription attached is not observable: move the order until its
				// events arrive. The first one must be new (not its stored PENDING), and none
				// may be skipped after it.
				moves, first := 0, 0
				var got []int
				for deadline := time.Now().Add(trackWait); len(got) == 0 || got[len(got)-1] < moves+1; {
					require.True(t, time.Now().Before(deadline), "no event of order %s arrived", o.gid)
					if moves < 30 {
						to := order.PartiallyRefunded
						if moves == 0 {
							to = order.Paid
						}
						moveOrder(t, e.Server, o.id, to, fmt.Sprint("move ", moves))
						moves++
					}
					if it, ok := admin.next(50 * time.Millisecond); ok {
						require.Empty(t, it.Errors, it.Raw)
						require.NotNil(t, it.Event, it.Raw)
						if it.Event.Order.ID == o.gid {
							if first == 0 {
								first = it.Event.Sequence
							}
							got = append(got, it.Event.Sequence)
						}
					}
				}
				require.GreaterOrEqual(t, first, 2, "the feed replayed history without after")
				require.Equal(t, seqRange(first, moves+1), got)
			})
		})
	}

	t.Run("an event that commits after a later feed position is still delivered", func(t *testing.T) {
		// Feed positions are taken when an event is inserted, not when it commits: a webhook's
		// transaction can commit position p after another transaction committed p+1.
		slow := newTrackOrder(t, e, nil)
		fast := newTrackOrder(t, e, nil)
		admin := openTrack(t, e.Server.Server, protoTransportWS, e.Admin.Bearer, feedQuery, map[string]any{"after": feedFrom(t)})

		ctx := context.Background()
		inserted, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			// The event is published when the transaction commits (postgres.AfterCommit).
			err := e.Server.App.DB.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
				_, err := e.Server.App.Orders.TransitionTx(ctx, q, order.SystemActor, slow.id, order.Paid, order.TransitionOptions{Note: "slow"})
				close(inserted)
				<-release
				return err
			})
			done <- err
		}()
		<-inserted
		moveOrder(t, e.Server, fast.id, order.Paid, "fast")
		close(release)
		require.NoError(t, <-done)

		saw := map[string]int64{}
		deadline := time.Now().Add(3 * time.Second)
		for len(saw) < 2 && time.Now().Before(deadline) {
			it, ok := admin.next(time.Until(deadline))
			if !ok {
				break
			}
			require.Empty(t, it.Errors, it.Raw)
			if it.Event != nil && it.Event.Status == "PAID" && (it.Event.Order.ID == slow.gid || it.Event.Order.ID == fast.gid) {
				saw[it.Event.Order.ID] = it.Event.Position
			}
		}
		require.Contains(t, saw, fast.gid)
		require.Contains(t, saw, slow.gid, "the event at feed position below the last one sent was dropped (feed positions: %v)", saw)
	})

	t.Run("a replay longer than one page is delivered whole", func(t *testing.T) {
		// More stored events than one replay query returns (1,000), then a live one.
		o := newTrackOrder(t, e, nil)
		moveOrder(t, e.Server, o.id, order.Paid, "paid")
		moveOrder(t, e.Server, o.id, order.PartiallyRefunded, "refund 1")
		var start int64
		require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(),
			`SELECT max(feed_position) FROM order_events WHERE order_id = $1`, o.id).Scan(&start))
		const stored = 1100
		_, err := e.Server.App.DB.Pool.Exec(context.Background(), `
			INSERT INTO order_events (order_id, sequence, status, previous_status, note)
			SELECT $1, 4 + g, 'PARTIALLY_REFUNDED', 'PARTIALLY_REFUNDED', 'bulk ' || g FROM generate_series(0, $2 - 1) g`,
			o.id, stored)
		require.NoError(t, err)

		admin := openTrack(t, e.Server.Server, protoTransportWS, e.Admin.Bearer, feedQuery, map[string]any{"after": start})
		var got []int
		for len(got) < stored {
			it, ok := admin.next(2 * time.Second)
			if !ok {
				break
			}
			require.Empty(t, it.Errors, it.Raw)
			require.NotNil(t, it.Event, it.Raw)
			if it.Event.Order.ID == o.gid {
				got = append(got, it.Event.Sequence)
			}
		}
		moveOrder(t, e.Server, o.id, order.PartiallyRefunded, "live")
		for deadline := time.Now().Add(3 * time.Second); len(got) < stored+1 && time.Now().Before(deadline); {
			it, ok := admin.next(time.Until(deadline))
			if !ok {
				break
			}
			if it.Event != nil && it.Event.Order.ID == o.gid {
				got = append(got, it.Event.Sequence)
			}
		}
		want := seqRange(4, 4+stored) // the stored ones, then the live one
		require.Equal(t, len(want), len(got), "events received: %d, the last ones %v; expected %d..%d", len(got), got[max(0, len(got)-3):], 4, 4+stored)
		require.Equal(t, want, got)
	})

	storedPosition := func(t *testing.T, orderID int64, sequence int) int64 {
		t.Helper()
		var p int64
		require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(),
			`SELECT feed_position FROM order_events WHERE order_id = $1 AND sequence = $2`, orderID, sequence).Scan(&p))
		require.NotZero(t, p)
		return p
	}

	t.Run("a checkout's new order rings its vendor's feed live, and shows its stored position", func(t *testing.T) {
		// A checkout publishes its order's vendors from the lines it wrote, with no read.
		vendorClient, vendorID := e.Vendor(t)
		earlier := newTrackOrder(t, e, &vendorID)
		vendor := openTrack(t, e.Server.Server, protoTransportWS, vendorClient.Bearer, feedQuery, map[string]any{"after": feedFrom(t)})
		// The earlier order's move arrives: the stream is past its first replay, and only a
		// published event brings it another.
		moveOrder(t, e.Server, earlier.id, order.Paid, "live")
		require.Equal(t, earlier.gid, nextEvent(t, vendor).Order.ID)

		placed := newTrackOrder(t, e, &vendorID)
		ev := nextEvent(t, vendor)
		require.Equal(t, placed.gid, ev.Order.ID)
		require.Equal(t, "PENDING", ev.Status)
		require.Equal(t, storedPosition(t, placed.id, 1), ev.Position)
	})

	t.Run("a checkout publishes its new order's event with its stored position", func(t *testing.T) {
		c, userID := e.Customer(t)
		sub := e.Server.App.Bus.Hub.Subscribe(func(m pubsub.OrderEvent) bool { return m.UserID == userID }, 4)
		defer sub.Close()
		o := buy(t, c, e.Variant(t, 1250, 10), 1)
		select {
		case m := <-sub.C:
			require.Equal(t, trackDBID(t, o.ID), m.OrderID)
			require.Equal(t, 1, m.Sequence)
			require.Equal(t, storedPosition(t, m.OrderID, 1), m.FeedPosition)
		case <-time.After(trackWait):
			t.Fatal("the checkout published nothing")
		}
	})
}

// TestFeedKeepsEachOrdersSequence: feed positions follow transaction ids, so a transaction
// that wrote before it locked an order could place that order's next event before the one
// another transaction wrote meanwhile; it runs again instead, and the order's events keep
// their sequence order in the feed.
func TestFeedKeepsEachOrdersSequence(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	ctx := context.Background()
	o := newTrackOrder(t, e, nil)
	hasID, moved := make(chan struct{}), make(chan error, 1)
	attempts := 0
	tracking := "TRK-LATE"
	err := e.Server.App.DB.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		attempts++
		if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // a write's id, before the lock
			return err
		}
		if attempts == 1 {
			go func() {
				<-hasID
				_, err := e.Server.App.Orders.Transition(ctx, order.SystemActor, o.id, order.Paid, order.TransitionOptions{Note: "meanwhile"})
				moved <- err
			}()
			close(hasID)
			require.NoError(t, <-moved)
		}
		_, err := e.Server.App.Orders.TransitionTx(ctx, q, order.SystemActor, o.id, order.Shipped,
			order.TransitionOptions{Note: "late", TrackingNumber: &tracking})
		return err
	})
	require.NoError(t, err)
	require.Equal(t, 2, attempts, "the transaction whose event would have come first in the feed ran again")

	rows, err := e.Server.App.DB.Pool.Query(ctx, `SELECT sequence FROM order_events WHERE order_id = $1 ORDER BY feed_position`, o.id)
	require.NoError(t, err)
	inFeedOrder, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	require.NoError(t, err)
	require.Equal(t, []int32{1, 2, 3}, inFeedOrder)
}

// TestSubscriptionFeedHeldBack: feed positions follow transaction ids, so an event that
// commits while an older transaction still runs waits for it (that one may yet commit an
// event before it), and is delivered when it ends, even though it publishes nothing.
func TestSubscriptionFeedHeldBack(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t) // its own bus: no other test rings this feed
	ctx := context.Background()
	first := newTrackOrder(t, e, nil)
	held := newTrackOrder(t, e, nil)
	moveOrder(t, e.Server, first.id, order.Paid, "paid")
	admin := openTrack(t, e.Server.Server, protoTransportWS, e.Admin.Bearer, feedQuery, nil)
	// A first move arrives: the stream is live.
	for deadline := time.Now().Add(trackWait); ; {
		require.True(t, time.Now().Before(deadline), "the feed delivered nothing")
		moveOrder(t, e.Server, first.id, order.PartiallyRefunded, "ping")
		if it, ok := admin.next(100 * time.Millisecond); ok && it.Event != nil && it.Event.Order.ID == first.gid {
			break
		}
	}
	// The other pings' events may still be on their way (late on a loaded machine): send one
	// more and read up to its event. The feed sends in commit order, so none can come after it.
	moveOrder(t, e.Server, first.id, order.PartiallyRefunded, "last ping")
	var last int
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(ctx,
		`SELECT max(sequence) FROM order_events WHERE order_id = $1`, first.id).Scan(&last))
	for deadline := time.Now().Add(trackWait); ; {
		require.True(t, time.Now().Before(deadline), "the last ping's event did not arrive")
		if it, ok := admin.next(100 * time.Millisecond); ok && it.Event != nil &&
			it.Event.Order.ID == first.gid && it.Event.Sequence == last {
			break
		}
	}

	older, err := e.Server.App.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = older.Rollback(ctx) }()
	_, err = older.Exec(ctx, `SELECT pg_current_xact_id()`) // a transaction id, below the next event's
	require.NoError(t, err)

	moveOrder(t, e.Server, held.id, order.Paid, "behind an older transaction")
	requireQuiet(t, admin, 300*time.Millisecond)

	require.NoError(t, older.Rollback(ctx)) // ends without an event, publishing nothing
	ev := nextEvent(t, admin)
	require.Equal(t, held.gid, ev.Order.ID)
	require.Equal(t, "PAID", ev.Status)

	// Without `after` the feed sends only events committed after it started, though one
	// committed before is still above the horizon of a transaction running then.
	older, err = e.Server.App.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	_, err = older.Exec(ctx, `SELECT pg_current_xact_id()`)
	require.NoError(t, err)
	moveOrder(t, e.Server, first.id, order.PartiallyRefunded, "before the subscription")
	subscribers := e.Server.App.Bus.Hub.Subscribers()
	fresh := openTrack(t, e.Server.Server, protoTransportWS, e.Admin.Bearer, feedQuery, nil)
	for deadline := time.Now().Add(trackWait); e.Server.App.Bus.Hub.Subscribers() == subscribers; time.Sleep(5 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the subscription did not start")
	}
	require.NoError(t, older.Rollback(ctx))
	moveOrder(t, e.Server, held.id, order.Shipped, "after the subscription")
	ev = nextEvent(t, fresh)
	require.Equal(t, held.gid, ev.Order.ID, "the first event sent was committed before the subscription")
	require.Equal(t, "SHIPPED", ev.Status)
}

// TestSubscriptionNoGapNoDuplicate: events that land while a subscription starts are each
// delivered once, and a client that reconnects with its last sequence misses nothing.
func TestSubscriptionNoGapNoDuplicate(t *testing.T) {
	t.Parallel()
	srv, tracer := newInjectServer(t)
	e := shopEnvOn(t, srv)

	// inject runs n refunds of order id (PARTIALLY_REFUNDED → PARTIALLY_REFUNDED).
	inject := func(t *testing.T, id int64, n int, what string) func() {
		return func() {
			for i := range n {
				_, err := srv.App.Orders.Transition(context.Background(), order.SystemActor, id, order.PartiallyRefunded,
					order.TransitionOptions{Note: fmt.Sprintf("%s %d", what, i)})
				if err != nil {
					t.Errorf("inject: %v", err)
				}
			}
		}
	}
	paidOrder := func(t *testing.T) trackOrder {
		o := newTrackOrder(t, e, nil)
		moveOrder(t, srv, o.id, order.Paid, "paid")
		return o
	}
	forOrder := func(id int64) func([]any) bool {
		return func(args []any) bool { return len(args) > 0 && fmt.Sprint(args[0]) == fmt.Sprint(id) }
	}

	for _, transport := range trackTransports {
		t.Run(transport, func(t *testing.T) {
			t.Run("events committed between the live attach and the replay, or after the replay, come once each", func(t *testing.T) {
				o := paidOrder(t) // sequences 1, 2
				tracer.add(&queryHook{
					sql: "name: OrderEventListAfter", match: forOrder(o.id),
					before: inject(t, o.id, 3, "before replay"), // 3..5: in the replay and on the bus
					after:  inject(t, o.id, 3, "after replay"),  // 6..8: on the bus only
				})
				s := openTrack(t, srv.Server, transport, o.owner.Bearer, trackQuery, trackVars(o.gid, 1))
				var got []trackEvent
				for len(got) < 7 {
					got = append(got, nextEvent(t, s))
				}
				require.Equal(t, seqRange(2, 8), sequences(got))
				requireQuiet(t, s, 300*time.Millisecond)
				moveOrder(t, srv, o.id, order.Refunded, "refunded")
				require.Equal(t, 9, nextEvent(t, s).Sequence)
			})

			t.Run("without after, events around the first read come once each after the current one", func(t *testing.T) {
				o := paidOrder(t)
				tracer.add(&queryHook{
					sql: "name: OrderEventListAfter", match: forOrder(o.id),
					before: inject(t, o.id, 2, "before replay"), // 3, 4: the current status is 4
					after:  inject(t, o.id, 2, "after replay"),  // 5, 6
				})
				s := openTrack(t, srv.Server, transport, o.owner.Bearer, trackQuery, trackVars(o.gid, -1))
				var got []trackEvent
				for len(got) < 3 {
					got = append(got, nextEvent(t, s))
				}
				require.Equal(t, []int{4, 5, 6}, sequences(got))
				requireQuiet(t, s, 300*time.Millisecond)
			})

			t.Run("a burst of 50 changes while subscribing arrives complete and in order", func(t *testing.T) {
				o := paidOrder(t)
				const burst = 50
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					inject(t, o.id, burst, "burst")()
				}()
				// Subscribers joining at different points of the burst.
				var subs []trackSub
				for range 3 {
					subs = append(subs, openTrack(t, srv.Server, transport, o.owner.Bearer, trackQuery, trackVars(o.gid, 0)))
					time.Sleep(15 * time.Millisecond)
				}
				wg.Wait()
				for i, s := range subs {
					var got []trackEvent
					for len(got) < burst+2 {
						got = append(got, nextEvent(t, s))
					}
					require.Equal(t, seqRange(1, burst+2), sequences(got), "subscriber %d", i)
					requireQuiet(t, s, 200*time.Millisecond)
				}
			})

			t.Run("a client that reconnects with its last sequence gets the rest exactly once", func(t *testing.T) {
				o := paidOrder(t)
				inject(t, o.id, 3, "before")() // 3..5
				s := openTrack(t, srv.Server, transport, o.owner.Bearer, trackQuery, trackVars(o.gid, 0))
				var got []trackEvent
				for len(got) < 3 {
					got = append(got, nextEvent(t, s))
				}
				s.close()
				last := got[len(got)-1].Sequence
				require.Equal(t, 3, last)

				inject(t, o.id, 4, "while away")() // 6..9
				s = openTrack(t, srv.Server, transport, o.owner.Bearer, trackQuery, trackVars(o.gid, last))
				for len(got) < 9 {
					got = append(got, nextEvent(t, s))
				}
				inject(t, o.id, 1, "live")() // 10
				got = append(got, nextEvent(t, s))
				require.Equal(t, seqRange(1, 10), sequences(got))
				requireQuiet(t, s, 200*time.Millisecond)
			})
		})
	}

	t.Run("the feed delivers events around its replay once each", func(t *testing.T) {
		a, b := paidOrder(t), paidOrder(t)
		var from int64
		require.NoError(t, srv.App.DB.Pool.QueryRow(context.Background(), `SELECT max(feed_position) FROM order_events`).Scan(&from))
		tracer.add(&queryHook{
			sql: "name: OrderEventFeedAfter",
			match: func(args []any) bool {
				return len(args) > 0 && fmt.Sprint(args[0]) == fmt.Sprint(from)
			},
			before: func() { inject(t, a.id, 2, "before")(); inject(t, b.id, 2, "before")() },
			after:  func() { inject(t, a.id, 2, "after")(); inject(t, b.id, 2, "after")() },
		})
		s := openTrack(t, srv.Server, protoTransportWS, e.Admin.Bearer, feedQuery, map[string]any{"after": from})
		perOrder := map[string][]int{}
		var positions []int64
		for n := 0; n < 8; {
			ev := nextEvent(t, s)
			if ev.Order.ID != a.gid && ev.Order.ID != b.gid {
				continue // another subtest's
			}
			perOrder[ev.Order.ID] = append(perOrder[ev.Order.ID], ev.Sequence)
			positions = append(positions, ev.Position)
			n++
		}
		require.Equal(t, []int{3, 4, 5, 6}, perOrder[a.gid])
		require.Equal(t, []int{3, 4, 5, 6}, perOrder[b.gid])
		require.IsIncreasing(t, positions)
	})
}

// TestSubscriptionSlowConsumer: a subscriber that does not read cannot hold publishers back;
// its subscription ends with an error it can resume from.
func TestSubscriptionSlowConsumer(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)

	// flood hands the hub n events of order o (as if the order moved n times), as the bus
	// does for every event it receives, and returns how long the slowest hand-over took.
	flood := func(o trackOrder, from, n int) time.Duration {
		var slowest time.Duration
		for i := range n {
			start := time.Now()
			e.Server.App.Bus.Hub.Deliver(pubsub.OrderEvent{
				OrderID: o.id, Sequence: from + i, FeedPosition: int64(1_000_000 + from + i), Status: "PARTIALLY_REFUNDED",
				PreviousStatus: "PARTIALLY_REFUNDED", At: time.Now(), UserID: o.userID,
			})
			slowest = max(slowest, time.Since(start))
		}
		return slowest
	}

	for _, tc := range []struct{ name, query string }{
		{"a subscriber that never reads is cut off with RESUME_REQUIRED and publishers go on", trackQuery},
		{"the RESUME_REQUIRED error reaches a subscription that selects no order field", trackQueryBare},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newTrackOrder(t, e, nil)
			moveOrder(t, e.Server, o.id, order.Paid, "paid")
			c := connectWS(t, e.Server.Server, protoTransportWS, nil, bearerInit(o.owner.Bearer))
			s := &wsSub{c: c, id: "1"}
			c.subscribe("1", tc.query, trackVars(o.gid, 1))
			// The replayed event proves the subscription is attached; then the client stops
			// reading.
			require.Equal(t, 2, nextEvent(t, s).Sequence)

			// Far more than the subscriber's buffer of 64, while the client reads nothing.
			start := time.Now()
			slowest := flood(o, 3, 5000)
			t.Logf("5000 publishes in %s, slowest %s", time.Since(start).Round(time.Millisecond), slowest.Round(time.Microsecond))
			require.Less(t, slowest, time.Second, "a publish was held up by the slow subscriber")
			// A real transition of another order is not held up either.
			other := newTrackOrder(t, e, nil)
			moveStart := time.Now()
			moveOrder(t, e.Server, other.id, order.Paid, "unaffected")
			require.Less(t, time.Since(moveStart), 2*time.Second)

			// The client finally reads: some events, then the error that ends it.
			codes, events, raw := nextEnd(t, s, 30*time.Second)
			require.Less(t, len(events), 5000, "no event was dropped: the subscriber was never cut off")
			require.Equal(t, []string{"RESUME_REQUIRED"}, codes, "errors: %q after %d events, the last ones %+v", raw, len(events), events[max(0, len(events)-2):])
			for i, ev := range events {
				require.Equal(t, 3+i, ev.Sequence, "events before the cut-off are in order")
				require.NotEmpty(t, ev.Status)
			}
			it, ok := s.next(trackWait)
			require.True(t, ok)
			require.True(t, it.Done, "the subscription is completed after its error: %s", it.Raw)

			// Resuming works: the stored events after the last one received.
			s2 := openTrack(t, e.Server.Server, protoTransportWS, o.owner.Bearer, trackQuery, trackVars(o.gid, 1))
			require.Equal(t, 2, nextEvent(t, s2).Sequence)
		})
	}
}

// TestSubscriptionTwoInstances: a change applied by one instance reaches subscribers of
// another through Redis.
func TestSubscriptionTwoInstances(t *testing.T) {
	t.Parallel()
	redisURL := apitest.RedisURL(t)
	if redisURL == "" {
		t.Skip("TEST_REDIS_URL is not set: two instances need a shared Redis")
	}
	a, b := newTwinServers(t, redisURL)
	e := shopEnvOn(t, a)

	t.Run("a webhook delivered to A moves the order; B's subscribers get PAID within a second", func(t *testing.T) {
		o := newTrackOrder(t, e, nil)
		waitRedisSubscribers(t, a, 2)
		subs := map[string]trackSub{}
		for _, transport := range trackTransports {
			subs[transport] = openTrack(t, b.Server, transport, o.owner.Bearer, trackQuery, trackVars(o.gid, -1))
			require.Equal(t, "PENDING", nextEvent(t, subs[transport]).Status, transport)
		}
		var from int64
		require.NoError(t, a.App.DB.Pool.QueryRow(context.Background(), `SELECT max(feed_position) FROM order_events`).Scan(&from))
		feed := openTrack(t, b.Server, protoTransportWS, e.Admin.Bearer, feedQuery, map[string]any{"after": from})
		require.Eventually(t, func() bool { return b.App.Bus.Hub.Subscribers() >= 4 }, trackWait, 10*time.Millisecond)
		requireQuiet(t, feed, 100*time.Millisecond)

		start := time.Now()
		sendPaymentSucceeded(t, a, o.id)
		for _, transport := range trackTransports {
			it, ok := subs[transport].next(time.Second - time.Since(start))
			require.True(t, ok, "%s: no PAID on B within a second of the webhook", transport)
			require.Empty(t, it.Errors, it.Raw)
			require.Equal(t, "PAID", it.Event.Status, transport)
			require.Equal(t, 2, it.Event.Sequence, transport)
			require.Equal(t, "PAID", it.Event.Order.Status, transport)
		}
		ev := nextEvent(t, feed)
		latency := time.Since(start)
		require.Equal(t, o.gid, ev.Order.ID)
		require.Equal(t, "PAID", ev.Status)
		require.Less(t, latency, time.Second)
		t.Logf("webhook on A → PAID on B's subscribers: %s", latency.Round(time.Millisecond))
	})

	t.Run("every change made on either instance reaches the other once, in order", func(t *testing.T) {
		o := newTrackOrder(t, e, nil)
		moveOrder(t, a, o.id, order.Paid, "paid")
		waitRedisSubscribers(t, a, 2)
		onA := openTrack(t, a.Server, protoTransportWS, o.owner.Bearer, trackQuery, trackVars(o.gid, 2))
		onB := openTrack(t, b.Server, protoLegacyWS, o.owner.Bearer, trackQuery, trackVars(o.gid, 2))
		const n = 40
		for i := range n {
			srv := a
			if i%2 == 1 {
				srv = b
			}
			moveOrder(t, srv, o.id, order.PartiallyRefunded, fmt.Sprint("refund ", i))
		}
		for name, s := range map[string]trackSub{"A": onA, "B": onB} {
			var got []trackEvent
			for len(got) < n {
				got = append(got, nextEvent(t, s))
			}
			require.Equal(t, seqRange(3, n+2), sequences(got), "instance %s", name)
			requireQuiet(t, s, 200*time.Millisecond)
		}
	})
}

// TestSubscriptionRedisRestart: a subscriber on B keeps receiving after Redis comes back, or
// ends with an error it can resume from; it never silently stalls.
func TestSubscriptionRedisRestart(t *testing.T) {
	t.Parallel()
	redis := redistest.Start(t)
	a, b := newTwinServers(t, redis.URL())
	e := shopEnvOn(t, a)
	o := newTrackOrder(t, e, nil)
	waitRedisSubscribers(t, a, 2)

	onA := openTrack(t, a.Server, protoTransportWS, o.owner.Bearer, trackQuery, trackVars(o.gid, -1))
	onB := openTrack(t, b.Server, protoTransportWS, o.owner.Bearer, trackQuery, trackVars(o.gid, -1))
	onBSSE := openTrack(t, b.Server, transportSSE, o.owner.Bearer, trackQuery, trackVars(o.gid, -1))
	for _, s := range []trackSub{onA, onB, onBSSE} {
		require.Equal(t, 1, nextEvent(t, s).Sequence)
	}

	redis.Stop()
	// A's publish fails: its own subscribers still get the change at once.
	moveOrder(t, a, o.id, order.Paid, "paid while Redis is down")
	ev := nextEvent(t, onA)
	require.Equal(t, "PAID", ev.Status)
	time.Sleep(300 * time.Millisecond)
	redis.Restart()
	restarted := time.Now()

	// B's subscribers get the missed change from Postgres once Redis is back, or end with an
	// error telling them to resume.
	for name, s := range map[string]trackSub{"websocket": onB, "sse": onBSSE} {
		it, ok := s.next(10*time.Second - time.Since(restarted))
		require.True(t, ok, "%s: the subscriber on B silently stalled after Redis came back", name)
		if len(it.Errors) > 0 {
			require.Equal(t, []string{"RESUME_REQUIRED"}, it.codes(), "%s: %s", name, it.Raw)
			continue
		}
		require.False(t, it.Done, "%s ended without an error", name)
		require.Equal(t, 2, it.Event.Sequence, name)
		require.Equal(t, "PAID", it.Event.Status, name)
		t.Logf("%s: missed event delivered %s after Redis returned", name, time.Since(restarted).Round(time.Millisecond))
	}

	// Live delivery across instances works again.
	waitRedisSubscribers(t, a, 2)
	moveOrder(t, a, o.id, order.Shipped, "after restart")
	require.Equal(t, 3, nextEvent(t, onB).Sequence)
}

// TestSubscriptionShutdown: a graceful shutdown ends live subscriptions: WebSockets get a
// close frame (not a dropped connection) and SSE streams end, within the shutdown timeout.
func TestSubscriptionShutdown(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	o := newTrackOrder(t, e, nil)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const timeout = 2 * time.Second
	errc := make(chan error, 1)
	go func() { errc <- app.Serve(ctx, ln, e.Server.App.Handler(), timeout, e.Server.App.Log) }()
	srv := &httptest.Server{URL: "http://" + ln.Addr().String()}

	subs := map[string]trackSub{}
	for _, transport := range trackTransports {
		subs[transport] = openTrack(t, srv, transport, o.owner.Bearer, trackQuery, trackVars(o.gid, -1))
		require.Equal(t, 1, nextEvent(t, subs[transport]).Sequence, transport)
	}

	stopped := time.Now()
	cancel()
	for transport, s := range subs {
		if ws, ok := s.(*wsSub); ok {
			code := ws.c.closeStatus(timeout + 3*time.Second)
			require.NotZero(t, code, "%s: still open %s after the shutdown began", transport, time.Since(stopped))
			require.Equal(t, websocket.StatusGoingAway, code, "%s: closed with %d (%v); a shutdown is 1001 Going Away", transport, code, ws.c.endErr())
			t.Logf("%s: closed with %d after %s", transport, code, time.Since(stopped).Round(time.Millisecond))
			continue
		}
		for {
			it, ok := s.next(timeout + 3*time.Second)
			require.True(t, ok, "%s: still streaming %s after the shutdown began", transport, time.Since(stopped))
			if it.Done {
				break
			}
		}
	}
	select {
	case err := <-errc:
		require.NoError(t, err)
	case <-time.After(timeout + 5*time.Second):
		t.Fatal("serve did not return")
	}
}
