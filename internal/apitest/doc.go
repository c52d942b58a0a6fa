// Package apitest is the one harness of the API tests: a server built by the same constructor
// as `shopgraph serve` (app.Open and App.Handler) on its own test database, a GraphQL client,
// signed Stripe webhooks, and factories with option structs for the fixtures most tests need
// (users of each role, products, categories, carts, placed and paid orders).
//
// Tests of any package import it; the GraphQL documents and result shapes a domain's tests
// assert on stay beside those tests. Every test server polls its job queue and keeps a small
// pool (DB_MAX_CONNS=4), so that the suite stays under its cap of PostgreSQL connections
// (README, `make test`).
package apitest
