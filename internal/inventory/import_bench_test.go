package inventory_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/inventory"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

// BenchmarkImport100k times an import of the largest file, 100,000 rows on as many variants:
// the upload's check and storage (Import, reported as import-s), then the job's all-or-nothing
// apply (Apply, apply-s). Figures: bench/README.md, "Inventory import".
//
//	go test -run '^$' -bench Import100k -benchtime 1x ./internal/inventory/
func BenchmarkImport100k(b *testing.B) {
	bb := setupImport(b)
	ctx := context.Background()
	p := tf.NewProduct(b, bb.d, tf.ProductOpts{})
	_, err := bb.d.Pool.Exec(ctx, `
		INSERT INTO product_variants (product_id, sku, price_amount, currency, stock, position)
		SELECT $1, 'BENCH-' || i, 1000, 'USD', 10, i FROM generate_series(1, $2) AS i`, p.ID, inventory.MaxImportRows)
	require.NoError(b, err)
	var sb strings.Builder
	sb.WriteString("sku,quantity,reason\n")
	for i := 1; i <= inventory.MaxImportRows; i++ {
		fmt.Fprintf(&sb, "BENCH-%d,%d,cycle count\n", i, i%500)
	}
	file := sb.String()
	b.ReportMetric(float64(len(file))/1e6, "file-MB")
	var importTime, applyTime time.Duration
	for b.Loop() {
		start := time.Now()
		imp, err := bb.svc.Import(ctx, bb.admin, strings.NewReader(file))
		require.NoError(b, err)
		importTime += time.Since(start)
		start = time.Now()
		require.NoError(b, bb.svc.Apply(ctx, imp.ID, false))
		applyTime += time.Since(start)
		got, err := bb.svc.Get(ctx, bb.admin, imp.ID)
		require.NoError(b, err)
		require.Equal(b, inventory.ImportSucceeded, got.Status)
	}
	b.ReportMetric(importTime.Seconds()/float64(b.N), "import-s")
	b.ReportMetric(applyTime.Seconds()/float64(b.N), "apply-s")
}
