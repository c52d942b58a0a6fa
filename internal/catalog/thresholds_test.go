package catalog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/catalog"
)

func TestStockStatusOf(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		stock, threshold int
		deleted          bool
		want             catalog.StockStatus
	}{
		{0, 5, false, catalog.OutOfStock},
		{3, 5, true, catalog.OutOfStock},
		{5, 5, false, catalog.LowStock},
		{6, 5, false, catalog.InStock},
		{8, 10, false, catalog.LowStock},
		{4, 2, false, catalog.InStock},
		{1, 0, false, catalog.InStock},
	} {
		require.Equal(t, c.want, catalog.StockStatusOf(c.stock, c.deleted, c.threshold), "%+v", c)
	}
}
