# shopgraph — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SERVICES := scripts/services.sh
GO_TOOLS := go tool -modfile=tools/go.mod

.PHONY: help run build test generate check-generate schema-release lint migrate fmt seed storefront

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# Without Stripe settings, the server talks to a local stripe-mock; without SMTP_URL, it sends
# its emails to a local Mailpit, whose web inbox it prints; without PayPal settings, it takes
# PayPal payments through the local PayPal stand-in (cmd/paypal-standin). One already running is used and
# left running; one started for this run is stopped with the server.
# CORS_ORIGINS, when unset, lets `make storefront`'s dev server (another origin) call the API.
run: ## run the server with local services (starts a private PostgreSQL if none answers)
	@export DATABASE_URL="$${DATABASE_URL:-$$($(SERVICES) database-url shopgraph)}"; \
	export CORS_ORIGINS="$${CORS_ORIGINS-$(STOREFRONT_ORIGIN)}"; \
	export REDIS_URL="$${REDIS_URL-$$($(SERVICES) redis-url)}"; \
	mail=""; if [ -z "$${SMTP_URL:-}" ]; then mail="$(SERVICES) with-mailpit"; fi; \
	if [ -z "$${STRIPE_SECRET_KEY:-}" ] && [ -z "$${STRIPE_API_BASE:-}" ]; then \
		exec $$mail $(SERVICES) with-stripe-mock $(SERVICES) with-paypal-standin go run . serve; \
	fi; \
	exec $$mail $(SERVICES) with-paypal-standin go run . serve

build: ## build ./bin/shopgraph
	go build -o bin/shopgraph .

# The test suite's share of PostgreSQL: at most TEST_PG_CAP connections at any moment (the
# server's max_connections is often 100, shared with everyone else). TEST_P test binaries run
# at once, each with TEST_PARALLEL parallel tests; pgtest closes idle connections within
# seconds. `make test` samples the peak (scripts/pgconns.sh) and fails above the cap. Within
# a binary, the subtests of a parallel test run in turn (internal/archtest holds it), so that
# -parallel bounds the servers alive at once: when they did not, parallel parents waiting for
# their subtests kept some twenty servers (46-50 connections) alive; now the graph package
# peaks at 11.
TEST_PG_CAP   ?= 40
TEST_P        ?= 2
TEST_PARALLEL ?= 2

test: ## run every test with the race detector against real PostgreSQL and Redis (≤ TEST_PG_CAP connections)
	@export TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$$($(SERVICES) postgres-url)}"; \
	export TEST_REDIS_URL="$${TEST_REDIS_URL-$$($(SERVICES) redis-url)}"; \
	export TEST_STRIPE_URL="$${TEST_STRIPE_URL:-$$($(SERVICES) stripe-mock-url)}"; \
	echo "TEST_DATABASE_URL=$$TEST_DATABASE_URL TEST_REDIS_URL=$${TEST_REDIS_URL:-none} TEST_STRIPE_URL=$$TEST_STRIPE_URL"; \
	export PGAPPNAME="shopgraph-test-$$$$"; peakfile="$$(mktemp)"; \
	scripts/pgconns.sh "$$TEST_DATABASE_URL" "$$PGAPPNAME" "$$peakfile" & sampler=$$!; \
	go test -race -count=1 -p $(TEST_P) -parallel $(TEST_PARALLEL) -timeout 25m ./...; status=$$?; \
	kill $$sampler; wait $$sampler 2>/dev/null; read -r peak all <"$$peakfile"; rm -f "$$peakfile"; \
	echo "PostgreSQL connections: peak $$peak for this run (cap $(TEST_PG_CAP)), $$all to any test database; $$SECONDS s"; \
	if [ "$$status" -eq 0 ] && [ "$$peak" != unknown ] && [ "$$peak" -gt $(TEST_PG_CAP) ]; then \
		echo "the tests held more PostgreSQL connections than TEST_PG_CAP=$(TEST_PG_CAP)"; status=1; \
	fi; exit $$status

generate: ## regenerate sqlc and gqlgen code, the schema reference and the Postman collection
	$(GO_TOOLS) sqlc generate
	go tool gqlgen generate
	go run ./cmd/docgen

check-generate: generate ## fail when committed generated code is stale
	@status="$$(git status --porcelain --untracked-files=all -- db graph docs/reference docs/postman)"; \
	if [ -n "$$status" ]; then \
		echo "generated code is stale; run 'make generate' and commit:"; echo "$$status"; \
		git --no-pager diff --stat -- db graph docs/reference docs/postman; exit 1; \
	fi; echo "generated code is up to date"

schema-release: ## record the current schema as the released one, the breaking-change check's baseline
	go run ./cmd/docgen -release

lint: ## gofmt, go vet, staticcheck
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	$(GO_TOOLS) staticcheck ./...

migrate: ## apply migrations to DATABASE_URL
	go run . migrate

fmt: ## format the Go code
	gofmt -w $$(git ls-files '*.go')

# The reference storefront (examples/storefront) in Vite's dev server, against `make run`'s API
# by default; VITE_GRAPHQL_URL points it elsewhere. npm ci runs when package-lock.json changed.
STOREFRONT_ORIGIN ?= http://localhost:3000
storefront: ## serve the reference storefront on http://localhost:3000 (VITE_GRAPHQL_URL, default make run's)
	@cd examples/storefront && \
	if [ ! node_modules/.package-lock.json -nt package-lock.json ]; then npm ci --no-audit --no-fund; fi && \
	VITE_GRAPHQL_URL="$${VITE_GRAPHQL_URL:-http://127.0.0.1:8080/graphql}" exec npm run dev

seed: ## add generated products to the local database (N=100000 by default)
	@export DATABASE_URL="$${DATABASE_URL:-$$($(SERVICES) database-url shopgraph)}"; \
	go run . seed --products $${N:-100000}
