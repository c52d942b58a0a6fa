package cache

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := New(NewMemory(100))
	old := product{ID: 1, Name: "Mug"}
	now := product{ID: 1, Name: "Big Mug"}
	_, err := GetOrLoad(ctx, c, "product:1", time.Minute, func(context.Context) (product, error) { return old, nil })
	require.NoError(t, err)

	got, err := GetOrLoad(Fresh(ctx), c, "product:1", time.Minute, func(context.Context) (product, error) { return now, nil })
	require.NoError(t, err)
	require.Equal(t, now, got, "a fresh read skips the stored value")
	got, err = GetOrLoad(ctx, c, "product:1", time.Minute, func(context.Context) (product, error) { return old, nil })
	require.NoError(t, err)
	require.Equal(t, now, got, "and writes back what it loaded")

	many, err := GetOrLoadMany(Fresh(ctx), c, []int64{1}, func(int64) string { return "product:1" }, time.Minute,
		func(context.Context, []int64) (map[int64]product, error) { return map[int64]product{1: old}, nil })
	require.NoError(t, err)
	require.Equal(t, old, many[1], "GetOrLoadMany too")

	_, err = GetOrLoadVersioned(ctx, c, "lists", "page", time.Minute, func(context.Context) (product, error) { return old, nil })
	require.NoError(t, err)
	got, err = GetOrLoadVersioned(Fresh(ctx), c, "lists", "page", time.Minute, func(context.Context) (product, error) { return now, nil })
	require.NoError(t, err)
	require.Equal(t, now, got, "GetOrLoadVersioned too")
}

func TestRepeatInvalidations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := New(NewMemory(100))
	var repeats []func()
	c.RepeatInvalidations(func(again func()) { repeats = append(repeats, again) })
	load := func(p product) func(context.Context) (product, error) {
		return func(context.Context) (product, error) { return p, nil }
	}
	old := product{ID: 1, Name: "Mug"}
	now := product{ID: 1, Name: "Big Mug"}

	c.Delete(ctx, "product:1")
	c.Bump(ctx, "lists")
	require.Len(t, repeats, 2)
	// A replica that had not replayed the write yet: its old row goes back in the cache.
	_, err := GetOrLoad(ctx, c, "product:1", time.Minute, load(old))
	require.NoError(t, err)
	_, err = GetOrLoadVersioned(ctx, c, "lists", "page", time.Minute, load(old))
	require.NoError(t, err)

	for _, again := range repeats {
		again()
	}
	got, err := GetOrLoad(ctx, c, "product:1", time.Minute, load(now))
	require.NoError(t, err)
	require.Equal(t, now, got, "the repeated Delete removed the row read before the replay")
	got, err = GetOrLoadVersioned(ctx, c, "lists", "page", time.Minute, load(now))
	require.NoError(t, err)
	require.Equal(t, now, got, "the repeated Bump retired the page read before the replay")
	require.Len(t, repeats, 2, "a repeat is not repeated again")
}
