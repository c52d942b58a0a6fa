package graph

import (
	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/analytics"
	"github.com/shopgraph/shopgraph/internal/money"
)

// analyticsToModel converts a sales report (its vendor is filled in by the resolver).
func analyticsToModel(r analytics.Report) (*model.VendorAnalytics, error) {
	out := &model.VendorAnalytics{From: r.From, To: r.To, Interval: r.Interval, TimeZone: r.TimeZone,
		StartsAt: r.Start, EndsAt: r.End, Currencies: make([]*model.CurrencyAnalytics, 0, len(r.Currencies))}
	for _, c := range r.Currencies {
		mc := &model.CurrencyAnalytics{Currency: c.Currency, Totals: figuresToModel(c.Currency, c.Totals),
			Series:               make([]*model.AnalyticsPoint, len(c.Series)),
			TopProductsByRevenue: productsToModel(c.Currency, c.TopByRevenue),
			TopProductsByUnits:   productsToModel(c.Currency, c.TopByUnits)}
		for i, p := range c.Series {
			mc.Series[i] = &model.AnalyticsPoint{StartsAt: p.Start, EndsAt: p.End, Figures: figuresToModel(c.Currency, p.Figures)}
		}
		out.Currencies = append(out.Currencies, mc)
	}
	return out, nil
}

func figuresToModel(currency string, f analytics.Figures) *model.AnalyticsFigures {
	m := func(n int64) *money.Money { v := money.New(n, currency); return &v }
	return &model.AnalyticsFigures{GrossSales: m(f.Gross), Refunds: m(f.Refunds), NetSales: m(f.Net()),
		OrderCount: int(f.Orders), Units: int(f.Units), AverageOrderValue: m(f.AverageOrderValue())}
}

func productsToModel(currency string, ps []analytics.Product) []*model.AnalyticsProduct {
	out := make([]*model.AnalyticsProduct, len(ps))
	for i, p := range ps {
		out[i] = &model.AnalyticsProduct{ProductID: globalID(typeProduct, p.ProductID), Name: p.Name,
			Revenue: &money.Money{Amount: p.Revenue, Currency: currency}, Units: int(p.Units)}
	}
	return out
}
