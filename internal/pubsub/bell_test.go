package pubsub_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/pubsub"
)

func requireRing(t *testing.T, c <-chan struct{}, want bool) {
	t.Helper()
	d := wait
	if !want {
		d = 100 * time.Millisecond
	}
	select {
	case <-c:
		require.True(t, want, "rang")
	case <-time.After(d):
		require.False(t, want, "did not ring")
	}
}

func TestBellWithoutRedis(t *testing.T) {
	t.Parallel()
	b := pubsub.NewBell(nil, "bell", quiet)
	c, stop := b.Listen("a")
	other, stopOther := b.Listen("b")
	defer stopOther()
	b.Ring(context.Background(), "a")
	b.Ring(context.Background(), "a")
	requireRing(t, c, true)
	requireRing(t, c, false) // two rings before a read make one
	requireRing(t, other, false)
	stop()
	b.Ring(context.Background(), "a")
	requireRing(t, c, false)
}

// A ring on one instance reaches the listeners of every instance on the same Redis.
func TestBellWithRedis(t *testing.T) {
	t.Parallel()
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		t.Skip("TEST_REDIS_URL is not set")
	}
	channel := "sgtest:" + uuid.NewString() + ":bell"
	start := func() *pubsub.Bell {
		client := redisClient(t, url)
		b := pubsub.NewBell(client, channel, quiet)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); b.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return b
	}
	a, b := start(), start()
	waitSubscribed(t, redisClient(t, url), channel, 2)
	onA, stopA := a.Listen("inventory-import:1")
	defer stopA()
	onB, stopB := b.Listen("inventory-import:1")
	defer stopB()
	a.Ring(context.Background(), "inventory-import:1")
	requireRing(t, onA, true)
	requireRing(t, onB, true)
	b.Ring(context.Background(), "inventory-import:2")
	requireRing(t, onA, false)
}
