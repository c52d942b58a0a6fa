package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/app"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/payment/paymenttest"
)

// Payments through the API: checkout's intent (stripe-mock validates every Stripe request),
// the signed webhook, refunds and expiry (a stateful fake where behaviour needs state).

func TestPaymentCheckout(t *testing.T) {
	t.Parallel()
	e := newPaymentEnv(t, nil, nil) // stripe-mock

	vendor, vendorID := e.Vendor(t)
	v := e.Product(t, apitest.ProductOptions{VendorID: &vendorID, Variants: []catalog.VariantInput{{Name: "Default", Price: 2599, Stock: 10}}})[0]
	c, _ := e.Customer(t)
	mustAdd(t, c, v.GID, 2)
	key := uuid.NewString()
	first := payCheckout(t, c, key)
	require.Empty(t, first.UserErrors)
	require.NotNil(t, first.Order)
	require.NotNil(t, first.Payment)
	orderID := apitest.OrderNumber(t, first.Order.ID)

	t.Run("checkout returns the Stripe intent and its client secret", func(t *testing.T) {
		p := first.Payment
		require.Equal(t, "PENDING", first.Order.Status)
		require.Equal(t, "stripe", p.Provider)
		require.Regexp(t, `^pi_`, p.IntentID)
		require.NotNil(t, p.ClientSecret)
		require.NotEmpty(t, *p.ClientSecret)
		require.Equal(t, "REQUIRES_PAYMENT", p.Status)
		require.Equal(t, moneyJSON{5198, "USD"}, p.Amount, "the intent is for the order total")
		require.Equal(t, moneyJSON{0, "USD"}, p.AmountReceived)
		require.Equal(t, moneyJSON{0, "USD"}, p.AmountRefunded)
		require.Nil(t, p.LastError)

		stored, err := e.Server.App.Payments.ForOrder(context.Background(), orderID)
		require.NoError(t, err)
		require.Equal(t, p.IntentID, stored.IntentID, "the intent is recorded with the order")
	})

	t.Run("a replay of the same idempotency key returns the same intent", func(t *testing.T) {
		again := payCheckout(t, c, key)
		require.Empty(t, again.UserErrors)
		require.Equal(t, first.Order.ID, again.Order.ID)
		require.NotNil(t, again.Payment)
		require.Equal(t, first.Payment.IntentID, again.Payment.IntentID)
		require.Equal(t, first.Payment.ClientSecret, again.Payment.ClientSecret)
		require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM payments WHERE order_id = $1`, orderID))
	})

	t.Run("the owner sees the payment with its client secret", func(t *testing.T) {
		o := payOrderAs(t, c, first.Order.ID)
		require.NotNil(t, o)
		require.NotNil(t, o.Payment)
		require.Equal(t, first.Payment.IntentID, o.Payment.IntentID)
		require.Equal(t, first.Payment.ClientSecret, o.Payment.ClientSecret)
	})

	t.Run("admins see the payment without the client secret", func(t *testing.T) {
		o := payOrderAs(t, e.Admin, first.Order.ID)
		require.NotNil(t, o)
		require.NotNil(t, o.Payment)
		require.Equal(t, first.Payment.IntentID, o.Payment.IntentID)
		require.Equal(t, "REQUIRES_PAYMENT", o.Payment.Status)
		require.Nil(t, o.Payment.ClientSecret)
	})

	t.Run("other customers see neither the order nor its payment", func(t *testing.T) {
		other, _ := e.Customer(t)
		require.Nil(t, payOrderAs(t, other, first.Order.ID))
	})

	t.Run("a vendor with a line in the order sees the order but not its payment", func(t *testing.T) {
		o := payOrderAs(t, vendor, first.Order.ID)
		require.NotNil(t, o, "the vendor sees orders holding its products")
		require.Nil(t, o.Payment)
	})
}

func TestPaymentIntentOncePerOrder(t *testing.T) {
	t.Parallel()
	rec := &intentRecorder{Gateway: paymenttest.New()}
	e := newPaymentEnv(t, nil, rec)
	ctx := context.Background()

	t.Run("a checkout replay returns the same intent, created once with a key derived from the order", func(t *testing.T) {
		v := e.Variant(t, 1500, 10)
		c, _ := e.Customer(t)
		mustAdd(t, c, v.GID, 1)
		key := uuid.NewString()
		first := payCheckout(t, c, key)
		require.Empty(t, first.UserErrors)
		require.NotNil(t, first.Payment)
		for range 3 {
			again := payCheckout(t, c, key)
			require.Empty(t, again.UserErrors)
			require.Equal(t, first.Order.ID, again.Order.ID)
			require.Equal(t, first.Payment.IntentID, again.Payment.IntentID)
		}
		id := apitest.OrderNumber(t, first.Order.ID)
		require.Equal(t, []string{fmt.Sprintf("shopgraph-order-%d-intent", id)}, rec.takeKeys())
		in, err := rec.RetrieveIntent(ctx, first.Payment.IntentID)
		require.NoError(t, err)
		require.Equal(t, int64(1500), in.Amount)
		require.Equal(t, "USD", in.Currency)
	})

	t.Run("concurrent EnsureIntent calls converge on one intent", func(t *testing.T) {
		// An order without an intent: the provider was down at checkout.
		v := e.Variant(t, 900, 10)
		c, _ := e.Customer(t)
		mustAdd(t, c, v.GID, 1)
		rec.Down.Store(true)
		p := payCheckout(t, c, uuid.NewString())
		rec.Down.Store(false)
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, errorCodesOf(p.UserErrors))
		id := apitest.OrderNumber(t, p.Order.ID)
		rec.takeKeys()
		o := payOrderModel(t, e, id)

		var (
			mu   sync.Mutex
			ids  = map[string]int{}
			errs []error
		)
		together(10, func(int) {
			pay, err := e.Server.App.Payments.EnsureIntent(ctx, o)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			ids[pay.IntentID]++
		})
		require.Empty(t, errs)
		require.Len(t, ids, 1, "every call returns the same intent: %v", ids)
		keys := rec.takeKeys()
		require.NotEmpty(t, keys)
		for _, k := range keys {
			require.Equal(t, fmt.Sprintf("shopgraph-order-%d-intent", id), k, "every provider call carries the order's key")
		}
		require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM payments WHERE order_id = $1`, id))

		// The owner's concurrent retries agree too.
		var intents sync.Map
		require.NoError(t, parallel(10, 10, func(int) error {
			var out payPayloadView
			if err := c.TryPayload(payRetryMutation, map[string]any{"input": map[string]any{"id": p.Order.ID}}, "orderPaymentRetry", &out); err != nil {
				return err
			}
			if len(out.UserErrors) > 0 || out.Payment == nil {
				return fmt.Errorf("retry: %+v", out.UserErrors)
			}
			intents.Store(out.Payment.IntentID, true)
			return nil
		}))
		n := 0
		intents.Range(func(k, _ any) bool {
			n++
			require.Contains(t, ids, k)
			return true
		})
		require.Equal(t, 1, n)
	})
}

func TestPaymentProviderUnavailable(t *testing.T) {
	t.Parallel()
	fake := paymenttest.New()
	e := newPaymentEnv(t, nil, fake)
	v := e.Variant(t, 1200, 10)
	c, _ := e.Customer(t)
	mustAdd(t, c, v.GID, 2)
	key := uuid.NewString()

	fake.Down.Store(true)
	p := payCheckout(t, c, key)

	t.Run("checkout keeps the order PENDING and says PAYMENT_PROVIDER_UNAVAILABLE", func(t *testing.T) {
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, errorCodesOf(p.UserErrors))
		require.NotEmpty(t, p.UserErrors[0].Message)
		require.NotNil(t, p.Order, "the order stands")
		require.Equal(t, "PENDING", p.Order.Status)
		require.Nil(t, p.Payment)
		require.Equal(t, 8, e.Stock(t, v), "its stock is held (until paid or expired)")
		require.Empty(t, cartOf(t, c).Lines)
		o := payOrderAs(t, c, p.Order.ID)
		require.NotNil(t, o)
		require.Nil(t, o.Payment, "no payment before an intent exists")
	})

	t.Run("a replay while still down returns the order and the same user error", func(t *testing.T) {
		again := payCheckout(t, c, key)
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, errorCodesOf(again.UserErrors))
		require.NotNil(t, again.Order)
		require.Equal(t, p.Order.ID, again.Order.ID)
		require.Equal(t, 8, e.Stock(t, v), "no second order")
	})

	t.Run("orderPaymentRetry while still down says PAYMENT_PROVIDER_UNAVAILABLE", func(t *testing.T) {
		r := payRetry(t, c, p.Order.ID)
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, errorCodesOf(r.UserErrors))
		require.Nil(t, r.Payment)
	})

	fake.Down.Store(false)

	t.Run("another customer cannot retry the order", func(t *testing.T) {
		other, _ := e.Customer(t)
		r := payRetry(t, other, p.Order.ID)
		require.Equal(t, []string{"NOT_FOUND:input.id"}, errorCodesOf(r.UserErrors))
		require.Nil(t, r.Payment)
		require.Nil(t, r.Order)
		require.Equal(t, 0, e.Count(t, `SELECT count(*) FROM payments WHERE order_id = $1`, apitest.OrderNumber(t, p.Order.ID)))
	})

	t.Run("orderPaymentRetry after recovery returns the intent", func(t *testing.T) {
		r := payRetry(t, c, p.Order.ID)
		require.Empty(t, r.UserErrors)
		require.NotNil(t, r.Order)
		require.Equal(t, "PENDING", r.Order.Status)
		require.NotNil(t, r.Payment)
		require.Regexp(t, `^pi_`, r.Payment.IntentID)
		require.NotNil(t, r.Payment.ClientSecret)
		require.Equal(t, "REQUIRES_PAYMENT", r.Payment.Status)
		require.Equal(t, moneyJSON{2400, "USD"}, r.Payment.Amount)

		calls := fake.CallCount("CreateIntent")
		again := payRetry(t, c, p.Order.ID)
		require.Empty(t, again.UserErrors)
		require.Equal(t, r.Payment.IntentID, again.Payment.IntentID)
		require.Equal(t, calls, fake.CallCount("CreateIntent"), "an existing intent is returned without asking the provider")

		o := payOrderAs(t, c, p.Order.ID)
		require.NotNil(t, o.Payment)
		require.Equal(t, r.Payment.IntentID, o.Payment.IntentID)

		// And the order can now be paid.
		po := apitest.Order{ID: apitest.OrderNumber(t, p.Order.ID), GID: p.Order.ID, Variant: v, Total: 2400, Intent: r.Payment.IntentID}
		apitest.PayWithFake(t, e, fake, po)
	})

	t.Run("a cancelled order without an intent cannot get one", func(t *testing.T) {
		v := e.Variant(t, 500, 5)
		c, _ := e.Customer(t)
		mustAdd(t, c, v.GID, 1)
		fake.Down.Store(true)
		placed := payCheckout(t, c, uuid.NewString())
		fake.Down.Store(false)
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, errorCodesOf(placed.UserErrors))
		require.Empty(t, cancelOrder(t, c, placed.Order.ID).UserErrors)
		require.Equal(t, 5, e.Stock(t, v))

		r := payRetry(t, c, placed.Order.ID)
		require.Equal(t, []string{"INVALID_TRANSITION:input.id"}, errorCodesOf(r.UserErrors))
		require.Nil(t, r.Payment)
	})
}

func TestStripeWebhook(t *testing.T) {
	t.Parallel()
	e := newPaymentEnv(t, nil, nil) // stripe-mock: intents are created as Stripe would
	secret := e.Server.App.Config.StripeWebhookSecret
	require.Equal(t, config.DevStripeWebhookSecret, secret)

	t.Run("refuses unverifiable deliveries and changes nothing", func(t *testing.T) {
		o := newPayOrder(t, e, 1000, 10, 1)
		before := readPayState(t, e, o)
		require.Equal(t, "PENDING", before.OrderStatus)

		for _, tc := range []struct {
			name string
			make func(t *testing.T) (apitest.StripeEvent, string)
		}{
			{"a bad signature", func(t *testing.T) (apitest.StripeEvent, string) {
				ev := apitest.NewStripeEvent(t, o, "payment_intent.succeeded", nil)
				sig := payment.SignEvent(ev.Body, secret, time.Now())
				i := strings.Index(sig, "v1=") + 3
				flipped := "0"
				if sig[i] == '0' {
					flipped = "1"
				}
				return ev, sig[:i] + flipped + sig[i+1:]
			}},
			{"no signature", func(t *testing.T) (apitest.StripeEvent, string) {
				return apitest.NewStripeEvent(t, o, "payment_intent.succeeded", nil), ""
			}},
			{"a body changed after signing", func(t *testing.T) (apitest.StripeEvent, string) {
				ev := apitest.NewStripeEvent(t, o, "payment_intent.succeeded", nil)
				sig := payment.SignEvent(ev.Body, secret, time.Now())
				ev.Body = bytes.Replace(ev.Body, []byte(`"livemode":false`), []byte(`"livemode":true`), 1)
				return ev, sig
			}},
			{"the wrong secret", func(t *testing.T) (apitest.StripeEvent, string) {
				ev := apitest.NewStripeEvent(t, o, "payment_intent.succeeded", nil)
				return ev, payment.SignEvent(ev.Body, "whsec_not_ours", time.Now())
			}},
			{"a stale timestamp", func(t *testing.T) (apitest.StripeEvent, string) {
				ev := apitest.NewStripeEvent(t, o, "payment_intent.succeeded", nil)
				return ev, payment.SignEvent(ev.Body, secret, time.Now().Add(-6*time.Minute))
			}},
			{"a timestamp far in the future", func(t *testing.T) (apitest.StripeEvent, string) {
				ev := apitest.NewStripeEvent(t, o, "payment_intent.succeeded", nil)
				return ev, payment.SignEvent(ev.Body, secret, time.Now().Add(2*time.Hour))
			}},
			{"another API version", func(t *testing.T) (apitest.StripeEvent, string) {
				ev := apitest.NewStripeEvent(t, o, "payment_intent.succeeded", func(s *payment.EventSpec) { s.APIVersion = "2022-11-15" })
				return ev, payment.SignEvent(ev.Body, secret, time.Now())
			}},
			{"an oversized body", func(t *testing.T) (apitest.StripeEvent, string) {
				ev := apitest.NewStripeEvent(t, o, "payment_intent.succeeded", nil)
				var m map[string]any
				require.NoError(t, json.Unmarshal(ev.Body, &m))
				m["padding"] = strings.Repeat("x", 300<<10)
				body, err := json.Marshal(m)
				require.NoError(t, err)
				ev.Body = body
				return ev, payment.SignEvent(ev.Body, secret, time.Now())
			}},
		} {
			t.Run(tc.name+" gets 400", func(t *testing.T) {
				ev, sig := tc.make(t)
				status, err := apitest.PostWebhook(e.Server, ev.Body, sig)
				require.NoError(t, err)
				require.Equal(t, http.StatusBadRequest, status)
				n, _ := eventRows(t, e, ev.ID)
				require.Zero(t, n, "a refused event is not recorded")
			})
		}
		t.Cleanup(func() {
			require.Equal(t, before, readPayState(t, e, o), "nothing changed")
		})
	})

	t.Run("payment_intent.succeeded pays the order once", func(t *testing.T) {
		o := newPayOrder(t, e, 2500, 10, 2)
		ev := apitest.SendStripe(t, e, o, "payment_intent.succeeded", nil)

		s := readPayState(t, e, o)
		require.Equal(t, "PAID", s.OrderStatus)
		require.Equal(t, "SUCCEEDED", s.PaymentStatus)
		require.Equal(t, o.Total, s.Received)
		require.Equal(t, []string{"PENDING", "PAID"}, orderStatuses(t, e, o.ID), "one new order event")
		n, outcome := eventRows(t, e, ev.ID)
		require.Equal(t, 1, n)
		require.Equal(t, "applied", outcome)
		var actor *int64
		require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(),
			`SELECT actor_id FROM order_events WHERE order_id = $1 AND status = 'PAID'`, o.ID).Scan(&actor))
		require.Nil(t, actor, "the system paid it")

		got := payOrderAs(t, o.Owner, o.GID)
		require.Equal(t, "PAID", got.Status)
		require.Equal(t, "SUCCEEDED", got.Payment.Status)
		require.Equal(t, moneyJSON{5000, "USD"}, got.Payment.AmountReceived)

		t.Run("a duplicate delivery answers 200 and changes nothing", func(t *testing.T) {
			for range 3 {
				require.Equal(t, http.StatusOK, apitest.DeliverStripe(t, e, ev))
			}
			require.Equal(t, s, readPayState(t, e, o))
			n, _ := eventRows(t, e, ev.ID)
			require.Equal(t, 1, n, "one payment_events row")
		})

		t.Run("another succeeded event for the paid order changes nothing", func(t *testing.T) {
			apitest.SendStripe(t, e, o, "payment_intent.succeeded", nil)
			require.Equal(t, s, readPayState(t, e, o))
		})
	})

	t.Run("100 concurrent deliveries of one event make one transition", func(t *testing.T) {
		o := newPayOrder(t, e, 1999, 10, 1)
		ev := apitest.NewStripeEvent(t, o, "payment_intent.succeeded", nil)
		sig := payment.SignEvent(ev.Body, secret, time.Now())
		var (
			mu       sync.Mutex
			statuses = map[int]int{}
			errs     []error
		)
		together(100, func(int) {
			status, err := apitest.PostWebhook(e.Server, ev.Body, sig)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			statuses[status]++
		})
		require.Empty(t, errs)
		require.Equal(t, map[int]int{http.StatusOK: 100}, statuses)
		require.Equal(t, []string{"PENDING", "PAID"}, orderStatuses(t, e, o.ID), "one transition, one order event")
		n, outcome := eventRows(t, e, ev.ID)
		require.Equal(t, 1, n, "one payment_events row")
		require.Equal(t, "applied", outcome)
		s := readPayState(t, e, o)
		require.Equal(t, "SUCCEEDED", s.PaymentStatus)
		require.Equal(t, o.Total, s.Received)
	})

	t.Run("20 concurrent distinct succeeded events make one transition", func(t *testing.T) {
		o := newPayOrder(t, e, 1999, 10, 1)
		evs := make([]apitest.StripeEvent, 20)
		for i := range evs {
			evs[i] = apitest.NewStripeEvent(t, o, "payment_intent.succeeded", nil)
		}
		var failures sync.Map
		together(len(evs), func(i int) {
			status, err := apitest.PostWebhook(e.Server, evs[i].Body, payment.SignEvent(evs[i].Body, secret, time.Now()))
			if err != nil || status != http.StatusOK {
				failures.Store(i, fmt.Sprint(status, err))
			}
		})
		failures.Range(func(k, v any) bool { t.Errorf("delivery %v: %v", k, v); return true })
		require.Equal(t, []string{"PENDING", "PAID"}, orderStatuses(t, e, o.ID))
		require.Equal(t, 20, e.Count(t, `SELECT count(*) FROM payment_events WHERE event_id = ANY($1)`, eventIDs(evs)))
	})

	t.Run("late payment_failed, processing or canceled never move a PAID order back", func(t *testing.T) {
		o := newPayOrder(t, e, 1000, 10, 3)
		apitest.SendStripe(t, e, o, "payment_intent.succeeded", nil)
		paid := readPayState(t, e, o)
		require.Equal(t, "PAID", paid.OrderStatus)

		for _, typ := range []string{"payment_intent.payment_failed", "payment_intent.processing", "payment_intent.canceled"} {
			ev := apitest.SendStripe(t, e, o, typ, nil)
			s := readPayState(t, e, o)
			require.Equal(t, "PAID", s.OrderStatus, "after %s", typ)
			require.Equal(t, "SUCCEEDED", s.PaymentStatus, "after %s", typ)
			require.Nil(t, s.LastError, "after %s", typ)
			require.Equal(t, paid, s, "after %s", typ)
			n, _ := eventRows(t, e, ev.ID)
			require.Equal(t, 1, n, "the stale event is recorded as processed")
		}
		require.Equal(t, []string{"PENDING", "PAID"}, orderStatuses(t, e, o.ID))
		require.Equal(t, 7, readPayState(t, e, o).Stock, "stock stays sold")
	})

	t.Run("payment_failed records the error and the order stays PENDING until a later success", func(t *testing.T) {
		o := newPayOrder(t, e, 1000, 10, 1)
		apitest.SendStripe(t, e, o, "payment_intent.payment_failed", func(s *payment.EventSpec) { s.FailureMessage = "Your card has insufficient funds." })

		s := readPayState(t, e, o)
		require.Equal(t, "PENDING", s.OrderStatus, "the customer can pay again")
		require.Equal(t, "FAILED", s.PaymentStatus)
		require.NotNil(t, s.LastError)
		require.Equal(t, "Your card has insufficient funds.", *s.LastError)
		require.Equal(t, []string{"PENDING"}, orderStatuses(t, e, o.ID))
		got := payOrderAs(t, o.Owner, o.GID)
		require.Equal(t, "FAILED", got.Payment.Status)
		require.Equal(t, ptrTo("Your card has insufficient funds."), got.Payment.LastError)

		apitest.SendStripe(t, e, o, "payment_intent.processing", nil)
		require.Equal(t, "PROCESSING", readPayState(t, e, o).PaymentStatus)

		apitest.SendStripe(t, e, o, "payment_intent.succeeded", nil)
		s = readPayState(t, e, o)
		require.Equal(t, "PAID", s.OrderStatus)
		require.Equal(t, "SUCCEEDED", s.PaymentStatus)
		require.Equal(t, []string{"PENDING", "PAID"}, orderStatuses(t, e, o.ID))
	})

	for _, tc := range []struct {
		name string
		edit func(s *payment.EventSpec)
	}{
		{"another amount", func(s *payment.EventSpec) { s.Amount-- }},
		{"another currency", func(s *payment.EventSpec) { s.Currency = "EUR" }},
	} {
		t.Run("a success for "+tc.name+" does not pay the order", func(t *testing.T) {
			o := newPayOrder(t, e, 4200, 10, 1)
			ev := apitest.SendStripe(t, e, o, "payment_intent.succeeded", tc.edit)

			s := readPayState(t, e, o)
			require.Equal(t, "PENDING", s.OrderStatus)
			require.Equal(t, "AMOUNT_MISMATCH", s.PaymentStatus)
			require.NotNil(t, s.LastError)
			require.NotEmpty(t, *s.LastError)
			require.Equal(t, []string{"PENDING"}, orderStatuses(t, e, o.ID))
			_, outcome := eventRows(t, e, ev.ID)
			require.Equal(t, "amount_mismatch", outcome)
			got := payOrderAs(t, e.Admin, o.GID)
			require.Equal(t, "AMOUNT_MISMATCH", got.Payment.Status)
			require.NotNil(t, got.Payment.LastError)
			require.Contains(t, e.Server.Logs.String(), "payment amount mismatch", "the mismatch is logged")
		})
	}

	t.Run("an unknown event type answers 200 and is ignored", func(t *testing.T) {
		o := newPayOrder(t, e, 1000, 10, 1)
		before := readPayState(t, e, o)
		ev := apitest.SendStripe(t, e, o, "customer.created", nil)
		require.Equal(t, before, readPayState(t, e, o))
		n, outcome := eventRows(t, e, ev.ID)
		require.Equal(t, 1, n)
		require.Equal(t, "ignored", outcome)
	})

	t.Run("an event about an unknown intent answers 200", func(t *testing.T) {
		o := newPayOrder(t, e, 1000, 10, 1)
		before := readPayState(t, e, o)
		ev := apitest.SendStripe(t, e, o, "payment_intent.succeeded", func(s *payment.EventSpec) { s.IntentID = "pi_not_ours_" + uuid.NewString()[:8] })
		require.Equal(t, before, readPayState(t, e, o))
		_, outcome := eventRows(t, e, ev.ID)
		require.Equal(t, "unknown_intent", outcome)
	})

	t.Run("payment_intent.canceled cancels the order and restores its stock once", func(t *testing.T) {
		o := newPayOrder(t, e, 1000, 10, 3)
		require.Equal(t, 7, readPayState(t, e, o).Stock)
		ev := apitest.SendStripe(t, e, o, "payment_intent.canceled", nil)

		s := readPayState(t, e, o)
		require.Equal(t, "CANCELLED", s.OrderStatus)
		require.Equal(t, "CANCELED", s.PaymentStatus)
		require.Equal(t, 10, s.Stock)
		require.Equal(t, []string{"PENDING", "CANCELLED"}, orderStatuses(t, e, o.ID))

		require.Equal(t, http.StatusOK, apitest.DeliverStripe(t, e, ev))
		apitest.SendStripe(t, e, o, "payment_intent.canceled", nil)
		require.Equal(t, s, readPayState(t, e, o), "a second cancel changes nothing")
	})

	t.Run("charge.refunded moves the order to PARTIALLY_REFUNDED, then REFUNDED", func(t *testing.T) {
		o := newPayOrder(t, e, 2599, 10, 1)
		apitest.SendStripe(t, e, o, "payment_intent.succeeded", nil)

		apitest.SendStripe(t, e, o, "charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = 1000 })
		s := readPayState(t, e, o)
		require.Equal(t, "PARTIALLY_REFUNDED", s.OrderStatus)
		require.Equal(t, int64(1000), s.Refunded)
		require.Equal(t, "SUCCEEDED", s.PaymentStatus)
		got := payOrderAs(t, o.Owner, o.GID)
		require.Equal(t, moneyJSON{1000, "USD"}, got.Payment.AmountRefunded)

		apitest.SendStripe(t, e, o, "charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = 2599 })
		s = readPayState(t, e, o)
		require.Equal(t, "REFUNDED", s.OrderStatus)
		require.Equal(t, int64(2599), s.Refunded)
		require.Equal(t, []string{"PENDING", "PAID", "PARTIALLY_REFUNDED", "REFUNDED"}, orderStatuses(t, e, o.ID))
	})

	t.Run("charge.refunded of an unpaid order moves nothing", func(t *testing.T) {
		o := newPayOrder(t, e, 1000, 10, 1)
		before := readPayState(t, e, o)
		apitest.SendStripe(t, e, o, "charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = 1000 })
		require.Equal(t, before, readPayState(t, e, o))
	})
}

func eventIDs(evs []apitest.StripeEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

func TestRefund(t *testing.T) {
	t.Parallel()
	fake := paymenttest.New()
	e := newPaymentEnv(t, nil, fake)

	paidOrder := func(t *testing.T, price int64, quantity int) apitest.Order {
		t.Helper()
		o := newPayOrder(t, e, price, 10, quantity)
		apitest.PayWithFake(t, e, fake, o)
		return o
	}

	t.Run("customers cannot refund", func(t *testing.T) {
		o := paidOrder(t, 2500, 2)
		resp := o.Owner.As(t).Do(payRefundMutation, map[string]any{"input": map[string]any{"id": o.GID}})
		require.Equal(t, "FORBIDDEN", resp.Code())
		s := readPayState(t, e, o)
		require.Equal(t, "PAID", s.OrderStatus)
		require.Zero(t, s.Refunded)
		require.Zero(t, fake.Refunded(o.Intent))
	})

	t.Run("partial refunds accumulate and never exceed the payment", func(t *testing.T) {
		o := paidOrder(t, 2500, 2) // 5000

		r := payRefund(t, e.Admin, o.GID, int64p(1000))
		require.Empty(t, r.UserErrors)
		require.Equal(t, "PARTIALLY_REFUNDED", r.Order.Status)
		require.Equal(t, moneyJSON{1000, "USD"}, r.Order.Payment.AmountRefunded)

		r = payRefund(t, e.Admin, o.GID, int64p(1500))
		require.Empty(t, r.UserErrors)
		require.Equal(t, "PARTIALLY_REFUNDED", r.Order.Status)
		require.Equal(t, moneyJSON{2500, "USD"}, r.Order.Payment.AmountRefunded)
		require.Equal(t, int64(2500), fake.Refunded(o.Intent))

		before := readPayState(t, e, o)
		require.Equal(t, int64(2500), before.RefundedOK)
		r = payRefund(t, e.Admin, o.GID, int64p(2501))
		require.Equal(t, []string{"REFUND_EXCEEDS_PAYMENT:input.amount"}, errorCodesOf(r.UserErrors))
		require.Nil(t, r.Order)
		require.Equal(t, before, readPayState(t, e, o), "nothing changes")
		require.Equal(t, int64(2500), fake.Refunded(o.Intent))

		r = payRefund(t, e.Admin, o.GID, nil)
		require.Empty(t, r.UserErrors)
		require.Equal(t, "REFUNDED", r.Order.Status)
		require.Equal(t, moneyJSON{5000, "USD"}, r.Order.Payment.AmountRefunded)
		require.Equal(t, int64(5000), fake.Refunded(o.Intent))

		for _, amount := range []*int64{nil, int64p(1)} {
			r = payRefund(t, e.Admin, o.GID, amount)
			require.Equal(t, []string{"REFUND_EXCEEDS_PAYMENT:input.amount"}, errorCodesOf(r.UserErrors))
		}
		s := readPayState(t, e, o)
		require.Equal(t, int64(5000), s.Refunded)
		require.Equal(t, int64(5000), s.RefundedOK)
		require.Equal(t, 3, s.RefundRows)
		require.Equal(t, []string{"PENDING", "PAID", "PARTIALLY_REFUNDED", "PARTIALLY_REFUNDED", "REFUNDED"}, orderStatuses(t, e, o.ID))
		require.Equal(t, []string{
			fmt.Sprintf("shopgraph-order-%d-refund-1", o.ID), fmt.Sprintf("shopgraph-order-%d-refund-2", o.ID), fmt.Sprintf("shopgraph-order-%d-refund-3", o.ID),
		}, refundKeys(t, e, o.ID), "refund keys derive from the order")
	})

	t.Run("refund amounts must be positive", func(t *testing.T) {
		o := paidOrder(t, 1000, 1)
		for _, amount := range []int64{0, -5} {
			r := payRefund(t, e.Admin, o.GID, int64p(amount))
			require.Equal(t, []string{"INVALID:input.amount"}, errorCodesOf(r.UserErrors))
		}
		require.Zero(t, readPayState(t, e, o).Refunded)
	})

	t.Run("an unpaid order cannot be refunded", func(t *testing.T) {
		o := newPayOrder(t, e, 1000, 10, 1)
		r := payRefund(t, e.Admin, o.GID, nil)
		require.Equal(t, []string{"REFUND_EXCEEDS_PAYMENT"}, codesOnly(r.UserErrors))
		s := readPayState(t, e, o)
		require.Equal(t, "PENDING", s.OrderStatus)
		require.Zero(t, s.RefundRows)
	})

	t.Run("concurrent refunds of the remainder refund it once", func(t *testing.T) {
		o := paidOrder(t, 2500, 2) // 5000
		require.Empty(t, payRefund(t, e.Admin, o.GID, int64p(1000)).UserErrors)

		codes := concurrentRefunds(t, e, o, 10, int64p(4000))
		requireRefundCodes(t, codes, 1, 10)
		s := readPayState(t, e, o)
		require.Equal(t, int64(5000), s.Refunded)
		require.Equal(t, int64(5000), s.RefundedOK)
		require.Equal(t, int64(5000), fake.Refunded(o.Intent))
		require.Equal(t, "REFUNDED", s.OrderStatus)
	})

	t.Run("concurrent partial refunds stop at the payment", func(t *testing.T) {
		o := paidOrder(t, 2500, 2) // 5000
		// Refunds of one payment go one at a time (a refund is refused while another awaits
		// its answer), so rounds of concurrent requests run until the payment is spent.
		succeeded := 0
		for round := 0; ; round++ {
			require.Less(t, round, 10, "the payment is never spent")
			codes := concurrentRefunds(t, e, o, 10, int64p(1500))
			requireRefundCodes(t, codes, codes[""], 10)
			succeeded += codes[""]
			if codes["REFUND_EXCEEDS_PAYMENT"] == 10 {
				break
			}
		}
		require.Equal(t, 3, succeeded)
		s := readPayState(t, e, o)
		require.Equal(t, int64(4500), s.Refunded)
		require.Equal(t, int64(4500), s.RefundedOK)
		require.Equal(t, int64(4500), fake.Refunded(o.Intent))
		require.Zero(t, s.PendingRefunds)
		require.Equal(t, "PARTIALLY_REFUNDED", s.OrderStatus)
	})

	t.Run("concurrent full refunds refund once", func(t *testing.T) {
		o := paidOrder(t, 2500, 2) // 5000
		codes := concurrentRefunds(t, e, o, 10, nil)
		requireRefundCodes(t, codes, 1, 10)
		require.Equal(t, int64(5000), fake.Refunded(o.Intent))
		require.Equal(t, []string{"PENDING", "PAID", "REFUNDED"}, orderStatuses(t, e, o.ID))
	})

	t.Run("admin cancel of a PAID order refunds it in full and restores stock once", func(t *testing.T) {
		o := paidOrder(t, 1500, 4) // 6000; stock 10 → 6
		require.Equal(t, 6, readPayState(t, e, o).Stock)

		r := payMutation(t, e.Admin, payCancelMutation, "orderCancel", map[string]any{"id": o.GID})
		require.Empty(t, r.UserErrors)
		require.NotNil(t, r.Order)
		require.Equal(t, "REFUNDED", r.Order.Status)
		require.Equal(t, moneyJSON{6000, "USD"}, r.Order.Payment.AmountRefunded)

		s := readPayState(t, e, o)
		require.Equal(t, "REFUNDED", s.OrderStatus)
		require.Equal(t, int64(6000), s.Refunded)
		require.Equal(t, int64(6000), s.RefundedOK)
		require.Equal(t, 10, s.Stock, "stock restored once")
		require.Equal(t, int64(6000), fake.Refunded(o.Intent))
		require.Equal(t, []string{"PENDING", "PAID", "CANCELLED", "REFUNDED"}, orderStatuses(t, e, o.ID))

		// Stripe then reports the refund; nothing more happens.
		apitest.SendStripe(t, e, o, "charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = 6000 })
		require.Equal(t, s, readPayState(t, e, o))

		r = payMutation(t, e.Admin, payCancelMutation, "orderCancel", map[string]any{"id": o.GID})
		require.NotEmpty(t, r.UserErrors, "a refunded order cannot be cancelled again")
		require.Equal(t, 10, readPayState(t, e, o).Stock)
	})

	t.Run("a charge.refunded echo of our own partial refund adds no order event", func(t *testing.T) {
		o := paidOrder(t, 2000, 1)
		require.Empty(t, payRefund(t, e.Admin, o.GID, int64p(500)).UserErrors)
		before := orderStatuses(t, e, o.ID)
		require.Equal(t, []string{"PENDING", "PAID", "PARTIALLY_REFUNDED"}, before)

		// Stripe sends charge.refunded for every refund, including those we created.
		apitest.SendStripe(t, e, o, "charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = 500 })
		require.Equal(t, int64(500), readPayState(t, e, o).Refunded)
		require.Equal(t, before, orderStatuses(t, e, o.ID), "nothing was refunded: no status change, no order event")
	})
}

// concurrentRefunds runs n orderRefund mutations of amount at once and counts their first
// user error codes ("" for success).
func concurrentRefunds(t *testing.T, e *apitest.Env, o apitest.Order, n int, amount *int64) map[string]int {
	t.Helper()
	in := map[string]any{"id": o.GID}
	if amount != nil {
		in["amount"] = *amount
	}
	var (
		mu    sync.Mutex
		codes = map[string]int{}
		errs  []error
	)
	together(n, func(int) {
		var out payPayloadView
		err := e.Admin.TryPayload(payRefundMutation, map[string]any{"input": in}, "orderRefund", &out)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			return
		}
		code := ""
		if len(out.UserErrors) > 0 {
			code = out.UserErrors[0].Code
		}
		codes[code]++
	})
	require.Empty(t, errs)
	return codes
}

// requireRefundCodes checks the codes of n concurrent refunds: ok went through, and each of
// the others was refused, because the payment was spent or because another refund was still
// awaiting its answer.
func requireRefundCodes(t *testing.T, codes map[string]int, ok, n int) {
	t.Helper()
	require.Equal(t, ok, codes[""], "%v", codes)
	require.Equal(t, n-ok, codes["REFUND_EXCEEDS_PAYMENT"]+codes["REFUND_PENDING"], "%v", codes)
}

// refundKeys lists the idempotency keys of an order's refunds, oldest first.
func refundKeys(t *testing.T, e *apitest.Env, orderID int64) []string {
	t.Helper()
	rows, err := e.Server.App.DB.Pool.Query(context.Background(),
		`SELECT r.idempotency_key FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.order_id = $1 ORDER BY r.id`, orderID)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		out = append(out, k)
	}
	require.NoError(t, rows.Err())
	return out
}

func codesOnly(errs []commerceError) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Code
	}
	return out
}

func TestRefundProviderDown(t *testing.T) {
	t.Parallel()
	gw := &refundHook{Gateway: paymenttest.New()}
	fake := gw.Gateway
	e := newPaymentEnv(t, nil, gw)
	ctx := context.Background()

	t.Run("a refund the provider declines releases the reserved amount", func(t *testing.T) {
		o := newPayOrder(t, e, 2500, 10, 2) // 5000
		apitest.PayWithFake(t, e, fake, o)
		before := readPayState(t, e, o)

		fake.RefuseRefunds.Store(true)
		r := payRefund(t, e.Admin, o.GID, int64p(1000))
		fake.RefuseRefunds.Store(false)
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, codesOnly(r.UserErrors))
		s := readPayState(t, e, o)
		require.Equal(t, "PAID", s.OrderStatus)
		require.Zero(t, s.Refunded, "the reservation is released")
		require.Zero(t, s.PendingRefunds)
		require.Equal(t, before.OrderEvents, s.OrderEvents)
		require.Zero(t, fake.Refunded(o.Intent))

		r = payRefund(t, e.Admin, o.GID, int64p(1000))
		require.Empty(t, r.UserErrors)
		require.Equal(t, "PARTIALLY_REFUNDED", r.Order.Status)
		r = payRefund(t, e.Admin, o.GID, nil)
		require.Empty(t, r.UserErrors)
		require.Equal(t, "REFUNDED", r.Order.Status)
		require.Equal(t, int64(5000), fake.Refunded(o.Intent))
		require.Equal(t, int64(5000), readPayState(t, e, o).Refunded)
	})

	t.Run("a refund the provider did not answer is asked again, under the same key, until it answers", func(t *testing.T) {
		o := newPayOrder(t, e, 2500, 10, 2) // 5000
		apitest.PayWithFake(t, e, fake, o)

		fake.Down.Store(true)
		r := payRefund(t, e.Admin, o.GID, int64p(1000))
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, codesOnly(r.UserErrors))
		s := readPayState(t, e, o)
		require.Equal(t, "PAID", s.OrderStatus)
		require.Equal(t, int64(1000), s.Refunded, "the amount stays reserved")
		require.Zero(t, s.RefundedOK)
		require.Equal(t, 1, s.PendingRefunds)
		calls := fake.CallCount("Refund")
		fake.Down.Store(false)

		payEventually(t, "the refund is settled", 30*time.Second, func() bool { return fake.Refunded(o.Intent) == 1000 })
		payEventually(t, "the order follows", 10*time.Second, func() bool {
			s := readPayState(t, e, o)
			return s.OrderStatus == "PARTIALLY_REFUNDED" && s.PendingRefunds == 0
		})
		require.Greater(t, fake.CallCount("Refund"), calls)
		s = readPayState(t, e, o)
		require.Equal(t, int64(1000), s.Refunded)
		require.Equal(t, int64(1000), s.RefundedOK)
	})

	t.Run("a refund's settlement job is committed with it, before the provider is asked", func(t *testing.T) {
		o := newPayOrder(t, e, 2500, 10, 2) // 5000
		apitest.PayWithFake(t, e, fake, o)

		answer := gw.holdRefund(t, e, o, 1000)
		// Were the process to stop now, the PENDING refund would still have its job.
		var state string
		require.NoError(t, e.Server.App.DB.Pool.QueryRow(ctx, `
			SELECT j.state::text FROM river_job j
			JOIN refunds r ON r.id = (j.args->>'refund_id')::bigint
			JOIN payments p ON p.id = r.payment_id
			WHERE j.kind = 'settle_refund' AND p.order_id = $1 AND r.status = 'PENDING'`, o.ID).Scan(&state))
		require.Equal(t, "scheduled", state)

		r := answer()
		require.Empty(t, r.UserErrors)
		require.Equal(t, "PARTIALLY_REFUNDED", r.Order.Status)
		require.Equal(t, int64(1000), fake.Refunded(o.Intent))
	})

	t.Run("a refund made although its answer was lost is not made twice", func(t *testing.T) {
		o := newPayOrder(t, e, 2500, 10, 2) // 5000
		apitest.PayWithFake(t, e, fake, o)

		// Answers stay lost until the admin has retried: the settlement job may ask again at
		// any moment, and must not settle the refund before the retry it is meant to refuse.
		fake.LoseRefundAnswers.Store(true)
		r := payRefund(t, e.Admin, o.GID, int64p(1000))
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, codesOnly(r.UserErrors))
		require.Equal(t, int64(1000), fake.Refunded(o.Intent), "the provider did refund")
		require.Equal(t, int64(1000), readPayState(t, e, o).Refunded, "and the amount stays reserved")

		// The admin retries: refused while the 1000 awaits its answer, which its job asks for
		// again under its own key.
		r = payRefund(t, e.Admin, o.GID, int64p(1000))
		fake.LoseRefundAnswers.Store(false)
		require.Equal(t, []string{"REFUND_PENDING"}, codesOnly(r.UserErrors))
		require.Equal(t, int64(1000), fake.Refunded(o.Intent))
		payEventually(t, "the lost answer is asked for again", 30*time.Second, func() bool {
			s := readPayState(t, e, o)
			return s.OrderStatus == "PARTIALLY_REFUNDED" && s.PendingRefunds == 0
		})
		// Then the rest: 4000.
		r = payRefund(t, e.Admin, o.GID, nil)
		require.Empty(t, r.UserErrors)
		require.Equal(t, "REFUNDED", r.Order.Status)
		s := readPayState(t, e, o)
		require.Equal(t, int64(5000), s.Refunded)
		require.Equal(t, int64(5000), s.RefundedOK)
		require.Equal(t, int64(5000), fake.Refunded(o.Intent), "nothing was refunded twice")
	})

	t.Run("a cancelled PAID order whose refund got no answer is refunded once the provider is back", func(t *testing.T) {
		o := newPayOrder(t, e, 1000, 10, 2)
		apitest.PayWithFake(t, e, fake, o)

		fake.Down.Store(true)
		r := payMutation(t, e.Admin, payCancelMutation, "orderCancel", map[string]any{"id": o.GID})
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, codesOnly(r.UserErrors))
		s := readPayState(t, e, o)
		require.Equal(t, "CANCELLED", s.OrderStatus)
		require.Equal(t, int64(2000), s.Refunded, "reserved")
		require.Zero(t, s.RefundedOK)
		require.Equal(t, 10, s.Stock)
		fake.Down.Store(false)

		payEventually(t, "the refund is settled", 30*time.Second, func() bool { return orderStatusNow(e, o.ID) == "REFUNDED" })
		require.Equal(t, int64(2000), fake.Refunded(o.Intent))
		require.Equal(t, 10, readPayState(t, e, o).Stock, "stock restored once")
	})

	t.Run("the order status follows refunds that went through, not those reserved", func(t *testing.T) {
		o := newPayOrder(t, e, 2500, 10, 2) // 5000
		apitest.PayWithFake(t, e, fake, o)

		// A refund of 1000 reaches the provider first and hangs, then gets no answer;
		// meanwhile 4000 is refunded in Stripe's dashboard. (A second refund of ours is
		// refused while the first awaits its answer: REFUND_PENDING.)
		started, release := make(chan struct{}), make(chan struct{})
		closeStarted, closeRelease := sync.OnceFunc(func() { close(started) }), sync.OnceFunc(func() { close(release) })
		gw.setHook(func(p payment.RefundParams) error {
			if p.Amount != 1000 {
				return nil
			}
			closeStarted()
			<-release
			return fmt.Errorf("fake timeout: %w", payment.ErrUnavailable)
		})
		defer gw.setHook(nil)
		defer closeRelease() // never leave a request hanging, even when the test fails
		slow := make(chan payPayloadView, 1)
		go func() {
			var out payPayloadView
			err := e.Admin.TryPayload(payRefundMutation, map[string]any{"input": map[string]any{"id": o.GID, "amount": 1000}}, "orderRefund", &out)
			if err != nil {
				out.UserErrors = []commerceError{{Code: err.Error()}}
			}
			slow <- out
		}()
		<-started
		require.Equal(t, []string{"REFUND_PENDING"}, codesOnly(payRefund(t, e.Admin, o.GID, int64p(4000)).UserErrors))
		apitest.SendStripe(t, e, o, "charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = 4000 })
		closeRelease()
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, codesOnly((<-slow).UserErrors))

		s := readPayState(t, e, o)
		require.Zero(t, fake.Refunded(o.Intent))
		require.Equal(t, int64(4000), s.Refunded, "what Stripe reported; the unanswered 1000 is reserved within it")
		require.Zero(t, s.RefundedOK)
		require.Equal(t, 1, s.PendingRefunds)
		require.Equal(t, "PARTIALLY_REFUNDED", s.OrderStatus, "1000 of 5000 is not refunded yet")

		gw.setHook(nil) // the provider is back: the pending 1000 goes through, asked again
		payEventually(t, "the pending refund is settled", 30*time.Second, func() bool { return readPayState(t, e, o).PendingRefunds == 0 })
		require.Equal(t, int64(1000), fake.Refunded(o.Intent))
		// Stripe's 4000 may have included ours: only its next report tells.
		require.Equal(t, "PARTIALLY_REFUNDED", orderStatusNow(e, o.ID))
		apitest.SendStripe(t, e, o, "charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = 5000 })
		require.Equal(t, "REFUNDED", orderStatusNow(e, o.ID))
	})

	t.Run("a payment after cancellation is refunded once the provider is back", func(t *testing.T) {
		o := newPayOrder(t, e, 1500, 10, 2)
		fake.Succeed(o.Intent) // the customer pays; Stripe's event is late
		require.NoError(t, e.Server.App.Payments.Expire(ctx, o.ID))
		require.Equal(t, "CANCELLED", readPayState(t, e, o).OrderStatus)

		ev := apitest.NewStripeEvent(t, o, "payment_intent.succeeded", nil)
		fake.Down.Store(true)
		first := apitest.DeliverStripe(t, e, ev)
		// The refund is a durable job: its first attempt may fail while the provider is down,
		// and river retries it.
		time.Sleep(300 * time.Millisecond)
		fake.Down.Store(false)

		// Stripe redelivers what it was not acknowledged with a 2xx; either way the money must
		// go back once the provider answers again.
		if first != http.StatusOK {
			require.Equal(t, http.StatusOK, apitest.DeliverStripe(t, e, ev))
		}
		payEventually(t, "the automatic refund is retried", 30*time.Second, func() bool { return orderStatusNow(e, o.ID) == "REFUNDED" })
		require.Equal(t, o.Total, fake.Refunded(o.Intent))
		s := readPayState(t, e, o)
		require.Equal(t, o.Total, s.Refunded)
		require.Equal(t, "REFUNDED", s.OrderStatus)
	})
}

func TestPaymentExpiry(t *testing.T) {
	t.Parallel()
	fake := paymenttest.New()
	e := newPaymentEnv(t, map[string]string{"ORDER_PAYMENT_TTL": "1s"}, fake)
	require.Equal(t, time.Second, e.Server.App.Payments.ExpireAfter)
	ctx := context.Background()

	t.Run("an unpaid order is cancelled by its job, its stock restored once and its intent cancelled", func(t *testing.T) {
		o := newPayOrder(t, e, 1000, 10, 2)
		require.Equal(t, 8, readPayState(t, e, o).Stock)
		payEventually(t, "the order expires", 20*time.Second, func() bool { return orderStatusNow(e, o.ID) == "CANCELLED" })
		// The job cancels the intent at the provider, then records it in a transaction of its
		// own: wait for both, not only the provider's side.
		payEventually(t, "the intent is cancelled and recorded", 5*time.Second, func() bool {
			in, err := fake.RetrieveIntent(ctx, o.Intent)
			return err == nil && in.Status == payment.IntentCanceled && readPayState(t, e, o).PaymentStatus == "CANCELED"
		})

		s := readPayState(t, e, o)
		require.Equal(t, 10, s.Stock)
		require.Equal(t, "CANCELED", s.PaymentStatus)
		require.Equal(t, []string{"PENDING", "CANCELLED"}, orderStatuses(t, e, o.ID))
		payEventually(t, "the job completes", 5*time.Second, func() bool { return expiryJobState(t, e, o.ID) == "completed" })

		// Running it again (a retried job) changes nothing.
		require.NoError(t, e.Server.App.Payments.Expire(ctx, o.ID))
		require.Equal(t, s, readPayState(t, e, o))
	})

	t.Run("a paid order is not touched by its expiry job", func(t *testing.T) {
		o := newPayOrder(t, e, 1000, 10, 2)
		holdExpiry(t, e, o.ID)
		apitest.PayWithFake(t, e, fake, o)
		paid := readPayState(t, e, o)

		releaseExpiry(t, e, o.ID)
		payEventually(t, "the expiry job runs", 20*time.Second, func() bool {
			st := expiryJobState(t, e, o.ID)
			return st == "completed" || st == "discarded" || st == "cancelled"
		})
		require.Equal(t, paid, readPayState(t, e, o), "the paid order keeps its status and stock")
		require.Equal(t, []string{"PENDING", "PAID"}, orderStatuses(t, e, o.ID))
	})

	t.Run("Expire of a paid order does nothing", func(t *testing.T) {
		o := newPayOrder(t, e, 1000, 10, 2)
		holdExpiry(t, e, o.ID)
		apitest.PayWithFake(t, e, fake, o)
		paid := readPayState(t, e, o)

		require.NoError(t, e.Server.App.Payments.Expire(ctx, o.ID))
		require.Equal(t, paid, readPayState(t, e, o))
		require.Equal(t, "PAID", paid.OrderStatus)
	})

	t.Run("two workers expiring one order at once restore its stock once", func(t *testing.T) {
		for range 3 {
			o := newPayOrder(t, e, 1000, 10, 3)
			holdExpiry(t, e, o.ID)
			var errs [2]error
			together(2, func(i int) { errs[i] = e.Server.App.Payments.Expire(ctx, o.ID) })
			require.NoError(t, errs[0])
			require.NoError(t, errs[1])

			s := readPayState(t, e, o)
			require.Equal(t, "CANCELLED", s.OrderStatus)
			require.Equal(t, 10, s.Stock, "stock restored exactly once")
			require.Equal(t, []string{"PENDING", "CANCELLED"}, orderStatuses(t, e, o.ID))

			// The queued job then runs too, and changes nothing.
			releaseExpiry(t, e, o.ID)
			payEventually(t, "the expiry job runs", 20*time.Second, func() bool { return expiryJobState(t, e, o.ID) == "completed" })
			require.Equal(t, 10, readPayState(t, e, o).Stock)
			require.Equal(t, []string{"PENDING", "CANCELLED"}, orderStatuses(t, e, o.ID))
		}
	})

	t.Run("a payment that succeeds after expiry is refunded automatically", func(t *testing.T) {
		o := newPayOrder(t, e, 1250, 10, 2)
		fake.Succeed(o.Intent) // the customer pays; Stripe's event is late
		payEventually(t, "the order expires", 20*time.Second, func() bool { return orderStatusNow(e, o.ID) == "CANCELLED" })
		require.Equal(t, 10, readPayState(t, e, o).Stock)

		ev := apitest.SendStripe(t, e, o, "payment_intent.succeeded", nil)
		// The refund runs as a durable job right after the webhook's transaction commits. Wait
		// for it to be recorded, not only made: the provider refunds before our commit.
		payEventually(t, "the money goes back", 20*time.Second, func() bool { return orderStatusNow(e, o.ID) == "REFUNDED" })
		require.Equal(t, o.Total, fake.Refunded(o.Intent))

		s := readPayState(t, e, o)
		require.Equal(t, "SUCCEEDED", s.PaymentStatus, "the payment is recorded")
		require.Equal(t, o.Total, s.Received)
		require.Equal(t, o.Total, s.Refunded)
		require.Equal(t, o.Total, s.RefundedOK)
		require.Equal(t, 1, s.RefundRows)
		require.Equal(t, "REFUNDED", s.OrderStatus)
		require.Equal(t, 10, s.Stock, "the stock was restored once, at expiry")
		require.Equal(t, []string{"PENDING", "CANCELLED", "REFUNDED"}, orderStatuses(t, e, o.ID))
		_, outcome := eventRows(t, e, ev.ID)
		require.Equal(t, "paid_after_cancel", outcome)

		// A duplicate delivery refunds nothing more.
		require.Equal(t, http.StatusOK, apitest.DeliverStripe(t, e, ev))
		require.Equal(t, o.Total, fake.Refunded(o.Intent))
		require.Equal(t, s, readPayState(t, e, o))
	})
}

func TestStripeEventCommand(t *testing.T) {
	t.Parallel()
	e := newPaymentEnv(t, nil, nil) // stripe-mock
	getenv := func(k string) string {
		return map[string]string{
			"APP_ENV":      "test",
			"DATABASE_URL": e.Server.App.Config.DatabaseURL,
			"LOG_LEVEL":    "warn",
		}[k]
	}
	url := e.Server.URL + "/webhooks/stripe"
	ctx := context.Background()

	t.Run("payment_intent.succeeded pays the order given by its ID", func(t *testing.T) {
		o := newPayOrder(t, e, 3100, 10, 1)
		var out bytes.Buffer
		err := app.Run(ctx, []string{"stripe-event", "payment_intent.succeeded", "--order", o.GID, "--url", url}, getenv, strings.NewReader(""), &out)
		require.NoError(t, err, out.String())
		require.Contains(t, out.String(), "HTTP 200")
		s := readPayState(t, e, o)
		require.Equal(t, "PAID", s.OrderStatus)
		require.Equal(t, "SUCCEEDED", s.PaymentStatus)
		require.Equal(t, o.Total, s.Received)

		out.Reset()
		err = app.Run(ctx, []string{"stripe-event", "charge.refunded", "--order", strconv.FormatInt(o.ID, 10), "--url", url, "--amount", "100"},
			getenv, strings.NewReader(""), &out)
		require.NoError(t, err, out.String())
		s = readPayState(t, e, o)
		require.Equal(t, "PARTIALLY_REFUNDED", s.OrderStatus)
		require.Equal(t, int64(100), s.Refunded)
	})

	t.Run("an order without a payment is an error", func(t *testing.T) {
		var out bytes.Buffer
		err := app.Run(ctx, []string{"stripe-event", "payment_intent.succeeded", "--order", "999999", "--url", url}, getenv, strings.NewReader(""), &out)
		require.Error(t, err)
		require.Contains(t, err.Error(), "no payment intent")
	})

	t.Run("a missing --order is a usage error", func(t *testing.T) {
		var out bytes.Buffer
		err := app.Run(ctx, []string{"stripe-event", "payment_intent.succeeded", "--url", url}, getenv, strings.NewReader(""), &out)
		require.Error(t, err)
		require.Contains(t, err.Error(), "--order is required")
	})
}
