package cache

import (
	"container/list"
	"context"
	"strconv"
	"sync"
	"time"
)

// DefaultMemoryEntries bounds a Memory store when NewMemory is given no positive size.
const DefaultMemoryEntries = 10_000

// Memory is an in-process Store for a single instance (development, tests, or a deployment
// without Redis). It is a bounded LRU so that caching product pages cannot grow the heap
// without limit, and it honours TTLs so that data from other writers still ages out.
// It is safe for concurrent use.
type Memory struct {
	// mu guards everything below. One lock is enough: every operation is a few map and list
	// steps, far cheaper than the Postgres query it saves, and a read must take the write lock
	// anyway because it moves the entry to the front of the LRU list.
	mu  sync.Mutex
	max int
	// maxBytes bounds the sum of the values' lengths (0: no bound); size is that sum.
	maxBytes, size int64
	now            func() time.Time
	lru            *list.List // of *memEntry, most recently used first
	items          map[string]*list.Element
	// gens is not subject to the LRU bound: namespaces are few, and evicting a generation
	// would let a later Bump reuse a number that stale pages are still stored under.
	gens map[string]int64
}

type memEntry struct {
	key     string
	val     []byte
	expires time.Time
}

// NewMemory returns an empty in-process store holding at most maxEntries entries
// (DefaultMemoryEntries if maxEntries is not positive), evicting the least recently used first.
func NewMemory(maxEntries int) *Memory {
	return NewMemoryBytes(maxEntries, 0)
}

// NewMemoryBytes is NewMemory also bounded by maxBytes, the summed length of the values held
// (0: no bound), evicting the least recently used entries until both bounds hold. A value
// longer than maxBytes by itself is not kept.
func NewMemoryBytes(maxEntries int, maxBytes int64) *Memory {
	if maxEntries <= 0 {
		maxEntries = DefaultMemoryEntries
	}
	return &Memory{
		max:      maxEntries,
		maxBytes: max(maxBytes, 0),
		now:      time.Now,
		lru:      list.New(),
		items:    make(map[string]*list.Element),
		gens:     make(map[string]int64),
	}
}

// Get implements Store. The returned slices are copies, so a caller cannot corrupt the cache.
func (m *Memory) Get(_ context.Context, keys ...string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(keys))
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for _, k := range keys {
		el, ok := m.items[k]
		if !ok {
			continue
		}
		e := el.Value.(*memEntry)
		if !now.Before(e.expires) {
			m.remove(el)
			continue
		}
		m.lru.MoveToFront(el)
		out[k] = append([]byte(nil), e.val...)
	}
	return out, nil
}

// getShared is Get of one key without the copy: the slice is the store's own, which Set never
// writes into (it replaces it), so the caller must only read it.
func (m *Memory) getShared(key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*memEntry)
	if !m.now().Before(e.expires) {
		m.remove(el)
		return nil, false
	}
	m.lru.MoveToFront(el)
	return e.val, true
}

// Set implements Store. Values are copied, so the caller may reuse its buffers.
func (m *Memory) Set(_ context.Context, entries map[string][]byte, ttl time.Duration) error {
	if ttl <= 0 {
		return errInvalidTTL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	expires := m.now().Add(ttl)
	for k, v := range entries {
		m.put(k, append([]byte(nil), v...), expires)
	}
	// Evict after inserting so that one oversized batch keeps its most recent entries.
	m.evict()
	return nil
}

// Raise stores value under key unless the key holds a greater integer, and either way keeps
// the key ttl longer, as Redis.Raise does (the replica's read-your-writes marks when there is
// no Redis).
func (m *Memory) Raise(_ context.Context, key string, value int64, ttl time.Duration) error {
	if ttl <= 0 {
		return errInvalidTTL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if el, ok := m.items[key]; ok {
		e := el.Value.(*memEntry)
		if old, err := strconv.ParseInt(string(e.val), 10, 64); err == nil && old > value && now.Before(e.expires) {
			value = old
		}
	}
	m.put(key, strconv.AppendInt(nil, value, 10), now.Add(ttl))
	m.evict()
	return nil
}

// put stores v (the store's own from now on) under k; m.mu is held.
func (m *Memory) put(k string, v []byte, expires time.Time) {
	if m.maxBytes > 0 && int64(len(v)) > m.maxBytes {
		// Keeping it would evict everything else, itself included.
		if el, ok := m.items[k]; ok {
			m.remove(el)
		}
		return
	}
	if el, ok := m.items[k]; ok {
		e := el.Value.(*memEntry)
		m.size += int64(len(v) - len(e.val))
		e.val, e.expires = v, expires
		m.lru.MoveToFront(el)
		return
	}
	m.items[k] = m.lru.PushFront(&memEntry{key: k, val: v, expires: expires})
	m.size += int64(len(v))
}

// evict drops the least recently used entries beyond the bounds; m.mu is held.
func (m *Memory) evict() {
	for m.lru.Len() > m.max || (m.maxBytes > 0 && m.size > m.maxBytes) {
		m.remove(m.lru.Back())
	}
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		if el, ok := m.items[k]; ok {
			m.remove(el)
		}
	}
	return nil
}

// Generation implements Store. Counting from zero is safe here, unlike in Redis, because the
// counters and the entries built from them live and die together with the process.
func (m *Memory) Generation(_ context.Context, namespace string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gens[namespace], nil
}

// Bump implements Store.
func (m *Memory) Bump(_ context.Context, namespace string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gens[namespace]++
	return nil
}

// Len reports how many entries are held, expired ones included until they are next touched or
// evicted. It exists for tests and diagnostics.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

// Bytes reports the summed length of the values held, for tests and diagnostics.
func (m *Memory) Bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.size
}

// remove drops el; m.mu must be held.
func (m *Memory) remove(el *list.Element) {
	m.lru.Remove(el)
	e := el.Value.(*memEntry)
	m.size -= int64(len(e.val))
	delete(m.items, e.key)
}
