# The one entry point. `make help` lists the targets.
SHELL := bash
.DEFAULT_GOAL := help

VENDOR := web/static/vendor
NHSUK  := web/node_modules/nhsuk-frontend/dist/nhsuk
TEMPL_SOURCES := $(wildcard web/views/*.templ)
GOLANGCI_LINT_VERSION := v2.15.0

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
lint: generate ## gofmt, then golangci-lint (vet, staticcheck, errcheck, ineffassign, unused; .golangci.yml)
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$'))" || (gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$'); exit 1)
	go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) run ./...

.PHONY: verify
verify: ## Generated code, templ formatting and go.mod as committed: regenerate, reformat, then fail on any diff
	go tool templ generate
	go tool templ fmt web/views
	go mod tidy -diff
	@git diff --exit-code --stat || (echo "Generated or formatted files differ from what is committed: run make verify and commit the result." >&2; exit 1)

.PHONY: docker
docker: ## Build the container image (needs a Docker engine)
	docker build -t ccg-order-tracker .

.PHONY: clean
clean: ## Remove build output and the local database of make run
	rm -rf bin $(VENDOR) web/node_modules
	@echo "The local database is in .pgdata; remove it yourself to start afresh."
