// Package paymenttest is a stateful fake payment Gateway for tests of behaviour that needs
// state (one intent per order under retries, refund totals, retrieving an intent), which
// stripe-mock, being stateless, cannot show. It honours idempotency keys like Stripe does.
package paymenttest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/shopgraph/shopgraph/internal/payment"
)

// Gateway is the fake. Set Down to make every call fail as unreachable, RefuseRefunds to
// have refunds declined, and LoseRefundAnswers to have refunds made but their answers lost
// (a timeout after the provider acted).
type Gateway struct {
	Down              atomic.Bool
	RefuseRefunds     atomic.Bool
	LoseRefundAnswers atomic.Bool

	mu       sync.Mutex
	seq      int
	intents  map[string]*payment.Intent
	byKey    map[string]any
	refunded map[string]int64
	// Calls counts calls per method, including those answered from an idempotency key.
	Calls map[string]int
}

// New returns an empty fake.
func New() *Gateway {
	return &Gateway{intents: map[string]*payment.Intent{}, byKey: map[string]any{}, refunded: map[string]int64{}, Calls: map[string]int{}}
}

// Provider is "stripe": the fake stands in for Stripe, so events and rows look the same.
func (g *Gateway) Provider() string { return "stripe" }

func (g *Gateway) begin(method string) error {
	g.Calls[method]++
	if g.Down.Load() {
		return fmt.Errorf("fake %s: %w", method, payment.ErrUnavailable)
	}
	return nil
}

// CreateIntent implements payment.Gateway.
func (g *Gateway) CreateIntent(_ context.Context, p payment.IntentParams) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.begin("CreateIntent"); err != nil {
		return payment.Intent{}, err
	}
	if prior, ok := g.byKey[p.IdempotencyKey].(payment.Intent); ok {
		return prior, nil
	}
	g.seq++
	in := payment.Intent{ID: fmt.Sprintf("pi_fake_%d", g.seq), ClientSecret: fmt.Sprintf("pi_fake_%d_secret", g.seq),
		Status: payment.IntentRequiresPayment, Amount: p.Amount, Currency: p.Currency}
	g.intents[in.ID] = &in
	g.byKey[p.IdempotencyKey] = in
	return in, nil
}

// Succeed marks an intent paid, as a customer completing payment would.
func (g *Gateway) Succeed(id string) payment.Intent {
	g.mu.Lock()
	defer g.mu.Unlock()
	in := g.intents[id]
	in.Status, in.AmountReceived = payment.IntentSucceeded, in.Amount
	return *in
}

// RetrieveIntent implements payment.Gateway.
func (g *Gateway) RetrieveIntent(_ context.Context, id string) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.begin("RetrieveIntent"); err != nil {
		return payment.Intent{}, err
	}
	in, ok := g.intents[id]
	if !ok {
		return payment.Intent{}, fmt.Errorf("no intent %s", id)
	}
	return *in, nil
}

// CancelIntent implements payment.Gateway.
func (g *Gateway) CancelIntent(_ context.Context, id, key string) (payment.Intent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.begin("CancelIntent"); err != nil {
		return payment.Intent{}, err
	}
	in, ok := g.intents[id]
	if !ok {
		return payment.Intent{}, fmt.Errorf("no intent %s", id)
	}
	if in.Status == payment.IntentSucceeded {
		return payment.Intent{}, fmt.Errorf("intent %s already succeeded", id)
	}
	in.Status = payment.IntentCanceled
	return *in, nil
}

// Refund implements payment.Gateway.
func (g *Gateway) Refund(_ context.Context, p payment.RefundParams) (payment.RefundResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.begin("Refund"); err != nil {
		return payment.RefundResult{}, err
	}
	if prior, ok := g.byKey[p.IdempotencyKey].(payment.RefundResult); ok {
		return prior, nil
	}
	if g.RefuseRefunds.Load() {
		return payment.RefundResult{}, fmt.Errorf("fake refund of %s declined", p.IntentID)
	}
	in, ok := g.intents[p.IntentID]
	if !ok || in.Status != payment.IntentSucceeded {
		return payment.RefundResult{}, fmt.Errorf("intent %s has no charge to refund", p.IntentID)
	}
	if g.refunded[p.IntentID]+p.Amount > in.AmountReceived {
		return payment.RefundResult{}, fmt.Errorf("refund exceeds charge of %s", p.IntentID)
	}
	g.refunded[p.IntentID] += p.Amount
	g.seq++
	r := payment.RefundResult{ID: fmt.Sprintf("re_fake_%d", g.seq), Status: "succeeded"}
	g.byKey[p.IdempotencyKey] = r
	if g.LoseRefundAnswers.Load() {
		return payment.RefundResult{}, fmt.Errorf("fake refund %s: timeout: %w", r.ID, payment.ErrUnavailable)
	}
	return r, nil
}

// Refunded is the total refunded for an intent.
func (g *Gateway) Refunded(id string) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.refunded[id]
}

// CallCount returns how often method was called.
func (g *Gateway) CallCount(method string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.Calls[method]
}
