// Package uses_test calls the harness of package helper from goroutines. A line that ends with
// "// want" is one the check must report, and no other line.
package uses_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/shopgraph/shopgraph/internal/archtest/testdata/goroutine/helper"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

func TestAcrossPackages(t *testing.T) {
	c := helper.New(t)
	errc := make(chan error, 10)

	// (a) require through a helper of another package, directly and transitively.
	go func() {
		c.Do("q") // want
	}()
	go func() {
		helper.Customer(t) // want
	}()
	go c.Do("q") // want
	helper.Together(2, func(int) {
		helper.Must(t, nil) // want
	})
	helper.Each(2, func(int) {
		require.True(t, true) // want
	})

	// (b) a method of the same name that does not end the test.
	go func() {
		req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:1", nil)
		if err == nil {
			var resp *http.Response
			resp, err = http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
		}
		errc <- err
	}()
	go func() {
		_, err := c.TryDo("q")
		errc <- err
	}()

	// .Go methods.
	var wg sync.WaitGroup
	wg.Go(func() {
		require.NoError(t, nil) // want
	})
	var g errgroup.Group
	g.Go(func() error {
		_, err := c.TryDo("q")
		return err
	})
	g.Go(func() error {
		t.Skip("no") // want
		return nil
	})

	// (c) method values and interfaces: a variable holding a method value or a function
	// literal is followed to what was assigned to it; an interface method call is followed to
	// every type of the program that implements the interface.
	do := c.Do
	try := c.TryDo
	check := func() { require.True(t, true) }
	go func() {
		do("q") // want
	}()
	go func() {
		_, err := try("q")
		errc <- err
	}()
	go func() {
		check() // want
	}()
	go check()   // want
	wg.Go(check) // want
	var d helper.Doer = c
	go func() {
		d.Do("q") // want
	}()
	var td helper.TryDoer = c
	go func() {
		_, err := td.TryDo("q")
		errc <- err
	}()
	var hd helper.HTTPDoer = http.DefaultClient
	go func() {
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1", nil)
		resp, err := hd.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	expr := (*helper.Client).Do
	go func() {
		expr(c, "q") // want
	}()
	w := wrapped{c}
	go func() {
		w.Do("q") // want
	}()
	go func() {
		_, err := w.TryDo("q")
		errc <- err
	}()
	go func() {
		requireGeneric(t, 1) // want
	}()
	go func() {
		box[int]{t}.check() // want
	}()
	var tb interface{ Fatalf(string, ...any) } = t
	go func() {
		tb.Fatalf("no") // want
	}()
	go func() {
		var ttb testing.TB = t
		ttb.FailNow() // want
	}()

	// A subtest and a cleanup run on the test's goroutines, not on the one that registers them.
	go func() {
		t.Run("sub", func(t *testing.T) { require.True(t, true) })
		t.Cleanup(func() { require.True(t, true) })
		errc <- nil
	}()

	// A function that starts a goroutine does not end the test by doing so.
	go func() {
		startsOne(t)
		errc <- nil
	}()

	wg.Wait()
	_ = g.Wait()
}

func startsOne(t *testing.T) {
	go func() {
		require.True(t, true) // want
	}()
}

// wrapped has Client's methods by embedding.
type wrapped struct{ *helper.Client }

func requireGeneric[T comparable](t *testing.T, v T) { require.Equal(t, v, v) }

type box[T any] struct{ t *testing.T }

func (b box[T]) check() { require.True(b.t, true) }
