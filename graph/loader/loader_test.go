package loader_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/graph/loader"
)

// TestWithLazyMakesNoLoaderUntilAsked is not parallel: testing.AllocsPerRun refuses to run in
// a parallel test.
func TestWithLazyMakesNoLoaderUntilAsked(t *testing.T) {
	s := &loader.Services{}
	ctx := context.Background()
	// A subscription makes one such context per event it waits for.
	allocs := testing.AllocsPerRun(100, func() { _ = loader.WithLazy(ctx, s) })
	require.LessOrEqual(t, allocs, 2.0, "WithLazy allocates only its context and its holder")
	require.Greater(t, testing.AllocsPerRun(10, func() { _ = loader.New(*s) }), 20.0,
		"what WithLazy puts off")
}

func TestWithLazy(t *testing.T) {
	t.Parallel()

	t.Run("gives every resolver of a response the same loaders, created once", func(t *testing.T) {
		ctx := loader.WithLazy(context.Background(), &loader.Services{})
		const resolvers = 16
		got := make([]*loader.Loaders, resolvers)
		var wg sync.WaitGroup
		for i := range got {
			wg.Go(func() { got[i] = loader.From(ctx) })
		}
		wg.Wait()
		require.NotNil(t, got[0])
		for _, l := range got {
			require.Same(t, got[0], l)
		}
		require.Same(t, got[0], loader.From(ctx))
		other := loader.From(loader.WithLazy(context.Background(), &loader.Services{}))
		require.NotSame(t, got[0], other, "another response gets its own")
	})

	t.Run("From without loaders is a wiring bug", func(t *testing.T) {
		require.Panics(t, func() { loader.From(context.Background()) })
	})
}
