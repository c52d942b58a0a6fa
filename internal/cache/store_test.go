package cache

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// storeFactory builds a fresh, isolated Store for one test, and a way to let time pass for its
// TTLs: a fake clock for memory, real sleeping for Redis.
type storeFactory struct {
	name string
	new  func(t *testing.T) (Store, func(time.Duration))
}

func storeFactories() []storeFactory {
	return []storeFactory{
		{"memory", func(t *testing.T) (Store, func(time.Duration)) {
			clock := newFakeClock()
			m := NewMemory(100)
			m.now = clock.Now
			return m, clock.Advance
		}},
		{"redis", func(t *testing.T) (Store, func(time.Duration)) {
			client := testRedisClient(t)
			logger, _ := newLogger()
			// A generous timeout: these tests are about semantics, and run under -race on
			// a busy machine.
			return NewRedis(client, uniquePrefix(t, client), RedisOptions{Timeout: 2 * time.Second, Logger: logger}), time.Sleep
		}},
	}
}

func TestStore(t *testing.T) {
	t.Parallel()
	for _, f := range storeFactories() {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()

			t.Run("missing keys are absent, not errors", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				got, err := s.Get(ctx, "nope", "nada")
				require.NoError(t, err)
				require.Empty(t, got)
				got, err = s.Get(ctx)
				require.NoError(t, err)
				require.Empty(t, got)
			})

			t.Run("set then get returns only what exists", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				require.NoError(t, s.Set(ctx, map[string][]byte{"a": []byte("1"), "b": []byte("2")}, time.Minute))
				got, err := s.Get(ctx, "a", "b", "c")
				require.NoError(t, err)
				require.Equal(t, map[string][]byte{"a": []byte("1"), "b": []byte("2")}, got)
			})

			t.Run("entries expire after their ttl", func(t *testing.T) {
				t.Parallel()
				s, advance := f.new(t)
				require.NoError(t, s.Set(ctx, map[string][]byte{"short": []byte("x")}, 200*time.Millisecond))
				require.NoError(t, s.Set(ctx, map[string][]byte{"long": []byte("y")}, time.Minute))
				got, err := s.Get(ctx, "short", "long")
				require.NoError(t, err)
				require.Len(t, got, 2)
				advance(400 * time.Millisecond)
				got, err = s.Get(ctx, "short", "long")
				require.NoError(t, err)
				require.Equal(t, map[string][]byte{"long": []byte("y")}, got)
			})

			t.Run("a non-positive ttl is rejected", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				require.ErrorIs(t, s.Set(ctx, map[string][]byte{"a": []byte("1")}, 0), errInvalidTTL)
				got, err := s.Get(ctx, "a")
				require.NoError(t, err)
				require.Empty(t, got)
			})

			t.Run("delete removes only the named keys", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				require.NoError(t, s.Set(ctx, map[string][]byte{"a": []byte("1"), "b": []byte("2"), "c": []byte("3")}, time.Minute))
				require.NoError(t, s.Delete(ctx, "a", "c", "absent"))
				got, err := s.Get(ctx, "a", "b", "c")
				require.NoError(t, err)
				require.Equal(t, map[string][]byte{"b": []byte("2")}, got)
			})

			t.Run("bump moves only its namespace to a new generation", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				g1, err := s.Generation(ctx, "products")
				require.NoError(t, err)
				again, err := s.Generation(ctx, "products")
				require.NoError(t, err)
				require.Equal(t, g1, again, "reading a generation must not change it")
				other, err := s.Generation(ctx, "orders")
				require.NoError(t, err)

				require.NoError(t, s.Bump(ctx, "products"))
				g2, err := s.Generation(ctx, "products")
				require.NoError(t, err)
				require.Greater(t, g2, g1)
				require.NoError(t, s.Bump(ctx, "products"))
				g3, err := s.Generation(ctx, "products")
				require.NoError(t, err)
				require.Greater(t, g3, g2)

				otherAfter, err := s.Generation(ctx, "orders")
				require.NoError(t, err)
				require.Equal(t, other, otherAfter)
			})
		})
	}
}

func TestMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("evicts the least recently used entry past its bound", func(t *testing.T) {
		t.Parallel()
		m := NewMemory(2)
		require.NoError(t, m.Set(ctx, map[string][]byte{"a": []byte("1")}, time.Minute))
		require.NoError(t, m.Set(ctx, map[string][]byte{"b": []byte("2")}, time.Minute))
		_, err := m.Get(ctx, "a") // a is now more recent than b
		require.NoError(t, err)
		require.NoError(t, m.Set(ctx, map[string][]byte{"c": []byte("3")}, time.Minute))
		got, err := m.Get(ctx, "a", "b", "c")
		require.NoError(t, err)
		require.Equal(t, map[string][]byte{"a": []byte("1"), "c": []byte("3")}, got)
		require.Equal(t, 2, m.Len())
	})

	t.Run("values are copied in and out", func(t *testing.T) {
		t.Parallel()
		m := NewMemory(0)
		v := []byte("abc")
		require.NoError(t, m.Set(ctx, map[string][]byte{"k": v}, time.Minute))
		v[0] = 'X'
		got, err := m.Get(ctx, "k")
		require.NoError(t, err)
		require.Equal(t, "abc", string(got["k"]))
		got["k"][0] = 'Y'
		again, err := m.Get(ctx, "k")
		require.NoError(t, err)
		require.Equal(t, "abc", string(again["k"]))
	})
}

func TestRedisGenerationIsNeverReused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := testRedisClient(t)
	prefix := uniquePrefix(t, client)
	s := NewRedis(client, prefix, RedisOptions{Timeout: 2 * time.Second})

	g1, err := s.Generation(ctx, "products")
	require.NoError(t, err)
	require.NoError(t, s.Bump(ctx, "products"))
	g2, err := s.Generation(ctx, "products")
	require.NoError(t, err)
	require.Greater(t, g2, g1)

	// Redis loses the counter (eviction, restart) while pages stored under g1 and g2 may
	// survive: the next generation must be one neither of them used.
	require.NoError(t, client.Del(ctx, prefix+"g:products").Err())
	g3, err := s.Generation(ctx, "products")
	require.NoError(t, err)
	require.Greater(t, g3, g2)

	// Same when the first thing to touch a lost counter is a Bump.
	require.NoError(t, client.Del(ctx, prefix+"g:products").Err())
	require.NoError(t, s.Bump(ctx, "products"))
	g4, err := s.Generation(ctx, "products")
	require.NoError(t, err)
	require.Greater(t, g4, g3)
}

// TestRedisRaise: a raised key keeps the greatest value, whatever order the raises arrive in
// (two instances noting one session's writes at once), and each raise renews its time to live.
func TestRedisRaise(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := testRedisClient(t)
	prefix := uniquePrefix(t, client)
	s := NewRedis(client, prefix, RedisOptions{Timeout: 2 * time.Second})
	value := func() string {
		got, err := s.Get(ctx, "mark")
		require.NoError(t, err)
		return string(got["mark"])
	}

	require.NoError(t, s.Raise(ctx, "mark", 10, time.Minute))
	require.Equal(t, "10", value())
	require.NoError(t, s.Raise(ctx, "mark", 5, time.Hour))
	require.Equal(t, "10", value(), "a lower value does not replace it")
	require.Greater(t, client.PTTL(ctx, prefix+"v:mark").Val(), 59*time.Minute, "but renews its time to live")
	require.Error(t, s.Raise(ctx, "mark", 20, 0))

	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() { assert.NoError(t, s.Raise(ctx, "race", int64(i), time.Minute)) })
	}
	wg.Wait()
	got, err := s.Get(ctx, "race")
	require.NoError(t, err)
	require.Equal(t, "199", string(got["race"]))
}

// TestMemoryRaise: without Redis (the replica's marks in one process), a raised key only
// rises too, and expires.
func TestMemoryRaise(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(0)
	get := func(key string) string {
		got, err := m.Get(ctx, key)
		require.NoError(t, err)
		return string(got[key])
	}
	require.NoError(t, m.Raise(ctx, "s", 10, time.Minute))
	require.NoError(t, m.Raise(ctx, "s", 5, time.Minute))
	require.Equal(t, "10", get("s"))
	require.NoError(t, m.Raise(ctx, "s", 12, time.Minute))
	require.Equal(t, "12", get("s"))

	require.NoError(t, m.Raise(ctx, "gone", 50, time.Nanosecond))
	time.Sleep(time.Millisecond)
	require.Empty(t, get("gone"), "expired")
	require.NoError(t, m.Raise(ctx, "gone", 7, time.Minute))
	require.Equal(t, "7", get("gone"), "an expired mark does not hold a later one down")
}
