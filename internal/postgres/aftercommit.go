package postgres

import "context"

// afterCommitKey marks the context of a running transaction (InTx, InTxWithTx).
type afterCommitKey struct{}

// afterCommit is what one attempt of a transaction registered to run once it commits.
type afterCommit struct{ fns []func(context.Context) }

// AfterCommit registers fn to run once the transaction whose context ctx is (the one InTx
// gives its function) has committed: publishing a change, invalidating a cache, priming a
// loader. A transaction that rolls back drops its callbacks; so does an attempt that runs
// again (InTxWithTx), whose callbacks are those of the attempt that commits. They run in the
// order they were registered, after COMMIT succeeded and before InTx returns, with the
// context given to InTx. What must never be lost (expiry, refunds) is not a callback: it is
// a job inserted in the transaction itself (jobs.Queue).
//
// Outside a transaction, a change is committed as it is made: fn runs at once.
func AfterCommit(ctx context.Context, fn func(ctx context.Context)) {
	if h, ok := ctx.Value(afterCommitKey{}).(*afterCommit); ok {
		h.fns = append(h.fns, fn)
		return
	}
	fn(ctx)
}

// run runs the callbacks in order; ctx is the transaction's caller's, so a callback that
// registers another runs it at once.
func (h *afterCommit) run(ctx context.Context) {
	for _, fn := range h.fns {
		fn(ctx)
	}
}
