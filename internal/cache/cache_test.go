package cache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCache(t *testing.T) {
	t.Parallel()
	for _, f := range storeFactories() {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			p1 := product{ID: 1, Name: "Mug", Price: 1299, Tags: []string{"kitchen"}}

			t.Run("a miss loads and caches, a hit does not load", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				c := New(s)
				var loads counter
				for range 3 {
					got, err := GetOrLoad(ctx, c, "product:1", time.Minute, loads.load(p1))
					require.NoError(t, err)
					require.Equal(t, p1, got)
				}
				require.EqualValues(t, 1, loads.n.Load())
				require.Equal(t, Stats{Hits: 2, Misses: 1, Loads: 1}, c.Stats())
			})

			t.Run("an expired entry is loaded again", func(t *testing.T) {
				t.Parallel()
				s, advance := f.new(t)
				c := New(s)
				var loads counter
				_, err := GetOrLoad(ctx, c, "product:1", 200*time.Millisecond, loads.load(p1))
				require.NoError(t, err)
				_, err = GetOrLoad(ctx, c, "product:1", 200*time.Millisecond, loads.load(p1))
				require.NoError(t, err)
				require.EqualValues(t, 1, loads.n.Load())
				advance(400 * time.Millisecond)
				_, err = GetOrLoad(ctx, c, "product:1", 200*time.Millisecond, loads.load(p1))
				require.NoError(t, err)
				require.EqualValues(t, 2, loads.n.Load())
			})

			t.Run("delete invalidates", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				c := New(s)
				var loads counter
				_, err := GetOrLoad(ctx, c, "product:1", time.Minute, loads.load(p1))
				require.NoError(t, err)
				renamed := p1
				renamed.Name = "Big mug"
				c.Delete(ctx, "product:1")
				got, err := GetOrLoad(ctx, c, "product:1", time.Minute, loads.load(renamed))
				require.NoError(t, err)
				require.Equal(t, renamed, got)
				require.EqualValues(t, 2, loads.n.Load())
				require.Zero(t, c.Stats().Errors)
			})

			t.Run("a load error is returned and not cached", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				c := New(s)
				errNotFound := errors.New("not found")
				calls := 0
				load := func(context.Context) (product, error) {
					calls++
					return product{}, fmt.Errorf("product 9: %w", errNotFound)
				}
				_, err := GetOrLoad(ctx, c, "product:9", time.Minute, load)
				require.ErrorIs(t, err, errNotFound)
				_, err = GetOrLoad(ctx, c, "product:9", time.Minute, load)
				require.ErrorIs(t, err, errNotFound)
				require.Equal(t, 2, calls)
			})

			t.Run("a panicking load becomes an error", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				c := New(s)
				_, err := GetOrLoad(ctx, c, "product:1", time.Minute, func(context.Context) (product, error) {
					panic("boom")
				})
				require.ErrorContains(t, err, "boom")
			})

			t.Run("an undecodable entry is a miss and is overwritten", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				c := New(s)
				require.NoError(t, s.Set(ctx, map[string][]byte{"product:1": []byte(`{"id":"not a number"`)}, time.Minute))
				var loads counter
				got, err := GetOrLoad(ctx, c, "product:1", time.Minute, loads.load(p1))
				require.NoError(t, err)
				require.Equal(t, p1, got)
				got, err = GetOrLoad(ctx, c, "product:1", time.Minute, loads.load(p1))
				require.NoError(t, err)
				require.Equal(t, p1, got)
				require.EqualValues(t, 1, loads.n.Load())
				require.Equal(t, Stats{Hits: 1, Misses: 1, Loads: 1, Errors: 1}, c.Stats())
			})

			t.Run("a delete during a load keeps its possibly stale result out of the cache", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				c := New(s)
				stale := p1
				got, err := GetOrLoad(ctx, c, "product:1", time.Minute, func(ctx context.Context) (product, error) {
					// The row is read, then another request commits a change and invalidates.
					c.Delete(ctx, "product:1")
					return stale, nil
				})
				require.NoError(t, err)
				require.Equal(t, stale, got)
				fresh := p1
				fresh.Price = 999
				var loads counter
				got, err = GetOrLoad(ctx, c, "product:1", time.Minute, loads.load(fresh))
				require.NoError(t, err)
				require.Equal(t, fresh, got)
				require.EqualValues(t, 1, loads.n.Load())
			})

			t.Run("bump invalidates every page of its namespace and no other", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				c := New(s)
				var loads counter
				pages := []string{"first=20", "first=20,after=abc", "first=50"}
				loadAll := func(ns, suffix string) {
					for _, page := range pages {
						got, err := GetOrLoadVersioned(ctx, c, ns, page, time.Minute, loads.load(product{Name: ns + page + suffix}))
						require.NoError(t, err)
						require.Equal(t, ns+page, got.Name[:len(ns+page)])
					}
				}
				loadAll("products", "")
				loadAll("categories", "")
				require.EqualValues(t, 6, loads.n.Load())
				loadAll("products", "")
				loadAll("categories", "")
				require.EqualValues(t, 6, loads.n.Load(), "second round must be all hits")

				c.Bump(ctx, "products")
				for _, page := range pages {
					got, err := GetOrLoadVersioned(ctx, c, "products", page, time.Minute, loads.load(product{Name: "products" + page + " v2"}))
					require.NoError(t, err)
					require.Equal(t, "products"+page+" v2", got.Name)
				}
				require.EqualValues(t, 9, loads.n.Load(), "every products page reloads")
				loadAll("categories", "")
				require.EqualValues(t, 9, loads.n.Load(), "categories pages are still cached")
			})

			t.Run("many loads only the misses, once, and returns every key", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				c := New(s)
				keyFn := func(id int64) string { return "product:" + strconv.FormatInt(id, 10) }
				var batches [][]int64
				load := func(_ context.Context, missing []int64) (map[int64]product, error) {
					batches = append(batches, slices.Clone(missing))
					out := make(map[int64]product, len(missing))
					for _, id := range missing {
						if id == 404 {
							continue // not found
						}
						out[id] = product{ID: id, Name: "p" + strconv.FormatInt(id, 10), Tags: []string{}}
					}
					return out, nil
				}

				got, err := GetOrLoadMany(ctx, c, []int64{1, 2}, keyFn, time.Minute, load)
				require.NoError(t, err)
				require.Len(t, got, 2)

				got, err = GetOrLoadMany(ctx, c, []int64{3, 1, 404, 2, 3, 4}, keyFn, time.Minute, load)
				require.NoError(t, err)
				require.Equal(t, [][]int64{{1, 2}, {3, 404, 4}}, batches, "only misses, deduplicated, in order")
				require.Len(t, got, 4)
				for _, id := range []int64{1, 2, 3, 4} {
					require.Equal(t, product{ID: id, Name: "p" + strconv.FormatInt(id, 10), Tags: []string{}}, got[id])
				}
				require.NotContains(t, got, int64(404))

				got, err = GetOrLoadMany(ctx, c, []int64{4, 3, 2, 1}, keyFn, time.Minute, load)
				require.NoError(t, err)
				require.Len(t, got, 4)
				require.Len(t, batches, 2, "all hits: no load")

				_, err = GetOrLoadMany(ctx, c, []int64{1, 404}, keyFn, time.Minute, load)
				require.NoError(t, err)
				require.Equal(t, []int64{404}, batches[2], "not-found keys are not cached")

				errDB := errors.New("db down")
				_, err = GetOrLoadMany(ctx, c, []int64{1, 5}, keyFn, time.Minute, func(context.Context, []int64) (map[int64]product, error) {
					return nil, errDB
				})
				require.ErrorIs(t, err, errDB)

				got, err = GetOrLoadMany(ctx, c, nil, keyFn, time.Minute, load)
				require.NoError(t, err)
				require.Empty(t, got)
			})

			t.Run("concurrent misses on one key share one load", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				c := New(s)
				const callers = 50
				release := make(chan struct{})
				var loads counter
				load := func(ctx context.Context) (product, error) {
					<-release
					fresh := p1
					fresh.Tags = slices.Clone(p1.Tags) // the load's result is the leader's to mutate
					return loads.load(fresh)(ctx)
				}
				var wg sync.WaitGroup
				results := make([]product, callers)
				errs := make([]error, callers)
				for i := range callers {
					wg.Go(func() {
						results[i], errs[i] = GetOrLoad(ctx, c, "product:hot", time.Minute, load)
						// Each caller owns its value: mutating it must not race with or
						// show up in any other caller's (the race detector checks the first).
						results[i].Tags[0] = "mine" + strconv.Itoa(i)
					})
				}
				// Hold the load until every caller has missed, and a little longer so the last
				// ones have joined the flight.
				require.Eventually(t, func() bool { return c.Stats().Misses == callers }, 10*time.Second, time.Millisecond)
				time.Sleep(100 * time.Millisecond)
				close(release)
				wg.Wait()

				require.EqualValues(t, 1, loads.n.Load())
				for i := range callers {
					require.NoError(t, errs[i])
					require.Equal(t, "mine"+strconv.Itoa(i), results[i].Tags[0])
					require.Equal(t, p1.Name, results[i].Name)
				}
			})

			t.Run("a caller giving up does not fail the others waiting on its load", func(t *testing.T) {
				t.Parallel()
				s, _ := f.new(t)
				c := New(s)
				started, release := make(chan struct{}), make(chan struct{})
				load := func(ctx context.Context) (product, error) {
					close(started)
					<-release
					if err := ctx.Err(); err != nil {
						return product{}, err
					}
					return p1, nil
				}
				leaderCtx, cancel := context.WithCancel(ctx)
				leaderErr := make(chan error, 1)
				go func() {
					_, err := GetOrLoad(leaderCtx, c, "product:1", time.Minute, load)
					leaderErr <- err
				}()
				<-started
				type result struct {
					p   product
					err error
				}
				follower := make(chan result, 1)
				go func() {
					p, err := GetOrLoad(ctx, c, "product:1", time.Minute, load)
					follower <- result{p, err}
				}()
				require.Eventually(t, func() bool { return c.Stats().Misses == 2 }, 10*time.Second, time.Millisecond)
				time.Sleep(50 * time.Millisecond) // let the follower join the flight
				cancel()
				require.ErrorIs(t, <-leaderErr, context.Canceled)
				close(release)
				res := <-follower
				require.NoError(t, res.err)
				require.Equal(t, p1, res.p)
			})
		})
	}
}
