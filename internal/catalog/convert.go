package catalog

import (
	"encoding/json"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/money"
)

// productRow is the column set every product query selects (all but the search vector); the
// per-query row types sqlc generates convert to it.
type productRow = db.ProductGetByIDRow

func productFromRow(r productRow) Product {
	return Product{
		ID: r.ID, Name: r.Name, Slug: r.Slug, Description: r.Description,
		CategoryID: r.CategoryID, VendorID: r.VendorID,
		Attributes: kvsFromJSON(r.Attributes), ImageURLs: r.ImageURLs,
		Status: Status(r.Status), Currency: r.Currency, MinPrice: r.MinPrice, MaxPrice: r.MaxPrice,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, VendorActive: r.VendorActive,
	}
}

// VariantOf converts a variant row read elsewhere (a cart's lines, say).
func VariantOf(r db.ProductVariant) Variant { return variantFromRow(r) }

func variantFromRow(r db.ProductVariant) Variant {
	return Variant{
		ID: r.ID, ProductID: r.ProductID, SKU: r.SKU, Name: r.Name, Options: kvsFromJSON(r.Options),
		Price: money.New(r.PriceAmount, r.Currency), Stock: r.Stock, Position: r.Position, DeletedAt: r.DeletedAt,
	}
}

func categoryFromRow(r db.Category) Category {
	return Category{ID: r.ID, Name: r.Name, Slug: r.Slug, ParentID: r.ParentID}
}

func kvsFromJSON(raw []byte) []KV {
	m := map[string]string{}
	_ = json.Unmarshal(raw, &m) // the column is a JSON object of strings by construction
	out := make([]KV, 0, len(m))
	for k, v := range m {
		out = append(out, KV{Key: k, Value: v})
	}
	return sortedKVs(out)
}

func kvsToJSON(kvs []KV) []byte {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	b, _ := json.Marshal(m)
	return b
}
