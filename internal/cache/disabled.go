package cache

import (
	"context"
	"time"
)

// Disabled is a Store that holds nothing: every read misses. It exists to measure and run the
// server without caching (CACHE=off), e.g. the uncached configuration of the benchmarks.
type Disabled struct{}

// Get implements Store: nothing is ever found.
func (Disabled) Get(context.Context, ...string) (map[string][]byte, error) {
	return map[string][]byte{}, nil
}

// Set implements Store: nothing is kept.
func (Disabled) Set(context.Context, map[string][]byte, time.Duration) error { return nil }

// Delete implements Store.
func (Disabled) Delete(context.Context, ...string) error { return nil }

// Generation implements Store: always 0, which nothing is stored under.
func (Disabled) Generation(context.Context, string) (int64, error) { return 0, nil }

// Bump implements Store.
func (Disabled) Bump(context.Context, string) error { return nil }
