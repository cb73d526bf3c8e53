# Knock's commands. Each target first installs what a fresh machine lacks (see
# scripts/install-tools.sh, which skips whatever is already present).
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# cargo-leptos builds the server with these variables set; exporting the same value for plain
# cargo keeps one set of compiled dependencies for both (leptos reads it at compile time).
export LEPTOS_OUTPUT_NAME := knock
# wasm-opt for release builds comes from npm's binaryen (Debian's breaks hydration).
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
WASM := --target wasm32-unknown-unknown

.PHONY: help tools run watch build test fmt lint unit openapi e2e bench bench-mesh screenshots

help:
	@echo "make run    build (debug) and serve on http://127.0.0.1:3000"
	@echo "make test   formatting, clippy, Rust tests (SQLite, then PostgreSQL), wasm build, Playwright"
	@echo "make build  release binary target/release/knock and site target/site"
	@echo "make bench  performance figures (SQLite, then two servers on PostgreSQL)"
	@echo "make bench-mesh  WebRTC mesh and SFU sizes in Chromium (about 30 minutes)"
	@echo "make stress-mesh  3- and 4-person calls 20 times each, joins in every order (about 15 minutes)"
	@echo "make watch  cargo leptos watch (rebuilds and reloads on change)"
	@echo "make screenshots  the README's screenshots, from the real app"

tools:
	scripts/install-tools.sh all

run: tools
	cargo leptos serve

watch: tools
	cargo leptos watch

# The site's files are named after their content (hash-files, then scripts/hash-names.mjs for
# the files cargo-leptos rewrites after naming them) and compressed once here (.br and .gz next
# to each); the binary finds the names in the hash.txt beside it, so both are copied.
build: tools
	cargo leptos build --release --split
	scripts/hash-names.mjs target/site/pkg "$(TARGET_DIR)/release/hash.txt"
	scripts/precompress.mjs target/site/pkg
	@if [ "$(TARGET_DIR)" != "$(CURDIR)/target" ]; then \
		mkdir -p target/release && cp "$(TARGET_DIR)/release/knock" "$(TARGET_DIR)/release/hash.txt" target/release/; fi
	@ls -l target/release/knock target/site/pkg

test: tools fmt lint unit openapi e2e

fmt:
	cargo fmt --all --check

# Per package, so `app` is never built with `ssr` and `hydrate` together.
lint:
	cargo clippy -p app -p server --features app/ssr --all-targets -- -D warnings
	cargo clippy -p app -p frontend --features app/hydrate $(WASM) -- -D warnings

# The Rust tests, then the integration tests (`api`) a second time against a throwaway
# PostgreSQL cluster (scripts/with-postgres.sh) and a throwaway Janus (scripts/with-janus.sh).
# Tests that need PostgreSQL or Janus are `#[ignore]`d with a reason, so they run only in that
# second pass.
unit:
	cargo test -p app -p server --features app/ssr
	scripts/with-janus.sh scripts/with-postgres.sh \
		cargo test -p server --features app/ssr --test api -- --include-ignored

# The OpenAPI document must validate as OpenAPI 3 (the route list is checked by rest_errors.rs).
openapi:
	cargo run --quiet -p server --bin knock -- openapi > "$(TARGET_DIR)/openapi.json"
	"$${KNOCK_VENV:-$$HOME/.cache/knock-tools/venv}/bin/openapi-spec-validator" "$(TARGET_DIR)/openapi.json"

# Builds the server and the wasm bundle (debug), fuzzes the REST API through its OpenAPI
# document (no 5xx), then runs Playwright against that binary (with a throwaway PostgreSQL
# cluster for the journey across two servers, and a throwaway Janus, whose URL and secret the
# server inherits, for the calls through the SFU).
e2e:
	cargo leptos build --split
	scripts/hash-names.mjs target/site/pkg "$(TARGET_DIR)/debug/hash.txt"
	scripts/precompress.mjs --fast target/site/pkg
	scripts/fuzz-api.sh "$(TARGET_DIR)/debug/knock"
	cd end2end && KNOCK_BIN="$(TARGET_DIR)/debug/knock" LEPTOS_SITE_ROOT="$(CURDIR)/target/site" \
		../scripts/with-janus.sh ../scripts/with-postgres.sh npx playwright test

# The README's screenshots (docs/screenshots/), taken from the real app in Chromium at a laptop's
# size (1280x800) and a phone's (375x667).
screenshots: tools
	cargo leptos build
	cd end2end && KNOCK_BIN="$(TARGET_DIR)/debug/knock" LEPTOS_SITE_ROOT="$(CURDIR)/target/site" \
		npx playwright test --config playwright.screenshots.config.ts

# Builds the release binary and site, then drives that binary (a child process on a free port,
# temporary database) and prints the table of figures (README, Performance): figures a-e on
# SQLite, then figure f, two servers on one database of a throwaway PostgreSQL cluster.
bench: build
	cargo bench -p server --bench knock -- \
		--knock "$(CURDIR)/target/release/knock" --site "$(CURDIR)/target/site" --only abcdeghij
	scripts/with-postgres.sh bash -c 'cargo bench -p server --bench knock -- \
		--knock "$(CURDIR)/target/release/knock" --site "$(CURDIR)/target/site" \
		--only f --postgres "$$KNOCK_TEST_POSTGRES"'
	scripts/install-tools.sh bench
	scripts/wasm-profile.py "$(TARGET_DIR)/front/wasm32-unknown-unknown/wasm-release/frontend.wasm"

# How long a call of 2 to 6 Chromium participants takes to connect, and the frame rate it
# delivers, as a WebRTC mesh and through the SFU (a throwaway Janus) (README, Video). Apart from
# `bench`: it needs the machine to itself.
bench-mesh: build
	cd end2end && KNOCK_BIN="$(CURDIR)/target/release/knock" LEPTOS_SITE_ROOT="$(CURDIR)/target/site" \
		../scripts/with-janus.sh npx playwright test --config playwright.bench.config.ts

# The mesh under stress: the three- and four-person journeys 20 times each in a row, guests let
# in one at a time, all at once, and one leaving and coming back; every run must converge. Prints
# how many did and their connect times (README, Video). Like bench-mesh, it needs the machine.
.PHONY: stress-mesh
stress-mesh: build
	cd end2end && KNOCK_BIN="$(CURDIR)/target/release/knock" LEPTOS_SITE_ROOT="$(CURDIR)/target/site" \
		npx playwright test --config playwright.stress.config.ts
