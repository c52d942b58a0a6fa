package notify_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/notify"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/ratelimit"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

// sendAll works the confirmation job of each order at once, as a queue's workers would, and
// returns how long it took for all of them.
func sendAll(t *testing.T, b *bundle, orderIDs []int64) time.Duration {
	t.Helper()
	took, errs := trySendAll(b, orderIDs)
	for _, err := range errs {
		require.NoError(t, err)
	}
	return took
}

// trySendAll is sendAll for another goroutine than the test's: it returns the jobs' errors.
func trySendAll(b *bundle, orderIDs []int64) (time.Duration, []error) {
	start := time.Now()
	errs := make([]error, len(orderIDs))
	var wg sync.WaitGroup
	for i, id := range orderIDs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.work(id)
		}()
	}
	wg.Wait()
	return time.Since(start), errs
}

func newOrders(t *testing.T, b *bundle, n int) []int64 {
	t.Helper()
	user := tf.NewUser(t, b.d, tf.UserOpts{})
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = tf.NewOrder(t, b.d, tf.OrderOpts{UserID: user.ID}).ID
	}
	return ids
}

// TestSendRateLimit: at 2 emails a second, six sent at once take two seconds (two at once,
// then one every half second); every one is sent, once.
func TestSendRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.svc.Configure(notify.Options{Rate: notify.RateLimit{Buckets: ratelimit.NewMemoryBuckets(), PerSecond: 2}})
	ids := newOrders(t, b, 6)

	took := sendAll(t, b, ids)
	require.GreaterOrEqual(t, took, 1800*time.Millisecond, "six emails at 2/s")
	require.Less(t, took, 10*time.Second)
	require.Len(t, b.smtp.Messages(), 6, "none dropped")
	for _, id := range ids {
		require.Equal(t, "sent", b.delivery(t, id).Status)
	}

	t.Run("without a limit they go at once", func(t *testing.T) {
		b := setup(t)
		b.svc.Configure(notify.Options{Rate: notify.RateLimit{Buckets: ratelimit.NewMemoryBuckets(), PerSecond: 0}})
		require.Less(t, sendAll(t, b, newOrders(t, b, 6)), 1500*time.Millisecond)
		require.Len(t, b.smtp.Messages(), 6)
	})
}

// TestSendRateLimitSharedAcrossInstances: two instances sharing the buckets in Redis share
// the budget: at 2/s, three emails each, at once, take a second and a half or more.
func TestSendRateLimitSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	buckets := ratelimit.NewRedisBuckets(rdb, "notify-test:"+uuid.NewString()+":")
	d := pgtest.New(t, postgres.Options{MaxConns: 4})
	one, two := setupOn(t, d), setupOn(t, d)
	for _, b := range []*bundle{one, two} {
		b.svc.Configure(notify.Options{Rate: notify.RateLimit{Buckets: buckets, PerSecond: 2}})
	}
	idsOne, idsTwo := newOrders(t, one, 3), newOrders(t, two, 3)

	start := time.Now()
	var wg sync.WaitGroup
	var errsOne, errsTwo []error
	wg.Add(2)
	go func() { defer wg.Done(); _, errsOne = trySendAll(one, idsOne) }()
	go func() { defer wg.Done(); _, errsTwo = trySendAll(two, idsTwo) }()
	wg.Wait()
	for _, err := range append(errsOne, errsTwo...) {
		require.NoError(t, err)
	}
	require.GreaterOrEqual(t, time.Since(start), 1800*time.Millisecond, "six emails at 2/s across both")
	require.Len(t, one.smtp.Messages(), 3)
	require.Len(t, two.smtp.Messages(), 3)
}

// TestSendRateLimitSnoozes: a send whose turn is further off than MaxWait snoozes its job
// (River tries it again later, without using up an attempt) and sends nothing, records nothing;
// tried again once its turn has come, it is sent.
func TestSendRateLimitSnoozes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.svc.Configure(notify.Options{Rate: notify.RateLimit{Buckets: ratelimit.NewMemoryBuckets(), PerSecond: 1, MaxWait: time.Millisecond}})
	ids := newOrders(t, b, 2)

	require.NoError(t, b.work(ids[0]))
	err := b.work(ids[1])
	var snooze *river.JobSnoozeError
	require.ErrorAs(t, err, &snooze)
	require.Positive(t, snooze.Duration)
	require.LessOrEqual(t, snooze.Duration, time.Second)
	require.Len(t, b.smtp.Messages(), 1)
	var n int
	require.NoError(t, b.d.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM email_deliveries WHERE event_key = 'order_placed:' || $1::bigint`, ids[1]).Scan(&n))
	require.Zero(t, n, "a snoozed send claims nothing")

	time.Sleep(snooze.Duration)
	require.NoError(t, b.work(ids[1]))
	require.Len(t, b.smtp.Messages(), 2)
	require.Equal(t, 1, b.delivery(t, ids[1]).Attempts)
}

// redisClient connects to TEST_REDIS_URL (default redis://127.0.0.1:6379/0), skipping the test
// when no Redis answers.
func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	raw := os.Getenv("TEST_REDIS_URL")
	if raw == "" {
		raw = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(raw)
	require.NoError(t, err, "TEST_REDIS_URL")
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Skipf("no Redis answers at %s (set TEST_REDIS_URL, or run `make test`): %v", raw, err)
	}
	return c
}
