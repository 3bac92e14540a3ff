# otlp-deploy-actions: the two commands most people need are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export OTLP_DEPLOY_CACHE ?= $(HOME)/.cache/otlp-deploy-actions

.PHONY: help deps build lint typecheck test test-unit test-e2e testbed-up testbed-down testbed-status testbed-check bench demo

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed ## install npm packages (npm ci)

build: deps ## bundle every action into dist/<name>/index.js
	npm run build

typecheck: deps
	npx tsc --noEmit

lint: deps ## eslint and prettier
	npm run lint

test-unit: deps ## fast tests: runtime layer, pure logic, bundles through the harness (no test bed)
	npm run test:unit

test-e2e: deps ## end-to-end tests of the actions against the local test bed
	npm run test:e2e

test: build typecheck lint test-unit ## everything: unit and end-to-end (installs what it needs)
