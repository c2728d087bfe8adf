# The one entry point. `make help` lists the targets.
SHELL := bash
.DEFAULT_GOAL := help

VENDOR := web/static/vendor
NHSUK  := web/node_modules/nhsuk-frontend/dist/nhsuk
TEMPL_SOURCES := $(wildcard web/views/*.templ)

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.PHONY: run
run: build ## Start the app on http://localhost:8080 (own PostgreSQL unless DATABASE_URL is set)
	@scripts/run.sh

.PHONY: test
test: assets generate ## Run every test (Go, PostgreSQL, headless Chromium) against a throwaway cluster
	@scripts/test.sh

.PHONY: fuzz
fuzz: ## Fuzz every parser and escaper, FUZZTIME each (default 20s; FUZZ=regexp picks targets); crashers go to testdata/fuzz
	@scripts/fuzz.sh

.PHONY: bench
bench: ## Load-test the server's pages and benchmark the exports on the national data, ×1 and ×10 (docs/benchmarks.md)
	@scripts/bench.sh

.PHONY: instances
instances: ## Three instances behind HAProxy: one stopped and restarted under load; sessions and the night hold (about a minute)
	@scripts/instances.sh

.PHONY: build
build: assets generate ## Build bin/tracker
	go build -trimpath -o bin/tracker ./cmd/tracker

.PHONY: assets
assets: $(VENDOR)/.built ## Install the NHS.UK design system into web/static/vendor

$(VENDOR)/.built: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/assets
	cp $(NHSUK)/nhsuk-frontend.min.css $(NHSUK)/nhsuk-frontend.min.js $(VENDOR)/
	cp -r $(NHSUK)/assets/images $(VENDOR)/assets/
	touch $@

.PHONY: generate
generate: ## Generate Go from the templ components (committed; must leave no diff)
	go tool templ generate

.PHONY: lint
lint: generate ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$'))" || (gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$'); exit 1)
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

.PHONY: docker
docker: ## Build the container image (needs a Docker engine)
	docker build -t ccg-order-tracker .

.PHONY: clean
clean: ## Remove build output and the local database of make run
	rm -rf bin $(VENDOR) web/node_modules
	@echo "The local database is in .pgdata; remove it yourself to start afresh."
