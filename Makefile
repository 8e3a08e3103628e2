# Payroc Cloud refunds from a browser POS. `make run` for the demo, `make test` for everything.
SHELL := /bin/bash
GO ?= go
GOROOT := $(shell $(GO) env GOROOT)
WASM_EXEC := $(GOROOT)/lib/wasm/go_js_wasm_exec
ADDR ?= 127.0.0.1:8080
# ARGS: more proxy flags for `make run`, e.g. ARGS='-allow-origin http://localhost:8090'
ARGS ?=

# The project's version: the git tag without its v (v1.2.3 -> 1.2.3; commits since the tag and a dirty tree are
# added, as git describe says), else 0.0.0-dev.g<commit>. `make package VERSION=1.2.3` sets it. The proxy
# reports it at /healthz (-ldflags) and the npm package carries it, so the two always match.
ifndef VERSION
VERSION := $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null | sed 's/^v//')
ifeq ($(VERSION),)
VERSION := 0.0.0-dev.g$(shell git describe --always --dirty 2>/dev/null || echo unknown)
endif
endif
GO_LDFLAGS := -X main.version=$(VERSION)

.PHONY: run build test test-loaded vet unit wasmtest e2e wasm package examples npm bench fuzz screenshots chromium redis clean model e2e/node_modules

## run: build the wasm and start the proxy in simulator mode on http://$(ADDR)
run: wasm
	$(GO) run -ldflags='$(GO_LDFLAGS)' ./proxy -addr $(ADDR) $(ARGS)

## build: the proxy binary bin/proxy, reporting VERSION at /healthz
build:
	$(GO) build -trimpath -ldflags='$(GO_LDFLAGS)' -o bin/proxy ./proxy

## test: vet (host and js/wasm), unit tests with -race, js/wasm glue tests under Node, e2e in headless Chromium
test: vet chromium redis wasm package examples e2e/node_modules/.package-lock.json
	$(GO) test -race -count=1 ./...
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$(WASM_EXEC)" ./payroc/ ./wasm/...

## test-loaded: `make test` LOADED_RUNS times in a row (default 3) while two CPU-bound processes
## (internal/cmd/cpuload) run beside it, killed after pass or fail: no test may depend on the machine's speed
LOADED_RUNS ?= 3
test-loaded:
	@set -e; dir=$$(mktemp -d); $(GO) build -o "$$dir/cpuload" ./internal/cmd/cpuload; \
	"$$dir/cpuload" & one=$$!; "$$dir/cpuload" & two=$$!; \
	trap 'kill $$one $$two 2>/dev/null || true; wait $$one $$two 2>/dev/null || true; rm -rf "$$dir"' EXIT; \
	trap 'exit 130' INT TERM; \
	echo "test-loaded: two CPU-bound processes ($$one, $$two) beside $(LOADED_RUNS) runs of make test"; \
	for i in $$(seq 1 $(LOADED_RUNS)); do \
	  start=$$SECONDS; \
	  $(MAKE) --no-print-directory test || { echo "test-loaded: run $$i of $(LOADED_RUNS) FAILED after $$((SECONDS-start))s"; exit 1; }; \
	  echo "test-loaded: run $$i of $(LOADED_RUNS) passed in $$((SECONDS-start))s"; \
	done; \
	echo "test-loaded: $(LOADED_RUNS) runs passed under load in $${SECONDS}s"

## model: the exactly-once models run long (make test runs them at rapid's default of 100 histories): the page
## model and the store differential (memory against a real redis-server), MODEL_CHECKS histories each, and the
## proxy model on both backends, PROXY_MODEL_CHECKS each (a whole rig per history); prints the histories and
## steps explored and the violations found
MODEL_CHECKS ?= 5000
PROXY_MODEL_CHECKS ?= 500
model: redis
	$(call model_run,-run 'TestPageModel$$|TestRedisAgreesWithMemory' ./wasm/pending/ ./proxy/state/redis/ -rapid.checks=$(MODEL_CHECKS))
	$(call model_run,-run 'TestProxyModel$$' ./proxy/server/ -rapid.checks=$(PROXY_MODEL_CHECKS))

# model_run is one `go test -v $(1)` of the models with its output kept in a file: when it passes, the summary
# lines (histories explored, ok); when it fails, all of it and its exit status, as a failing model's invariant
# message and rapid's shrunk steps are not summary lines.
model_run = out=$$(mktemp) && trap 'rm -f "$$out"' EXIT && \
	if $(GO) test -count=1 -v $(1) >"$$out" 2>&1; then grep -E 'model:|^(ok|FAIL|--- FAIL)|rapid\] failed' "$$out"; \
	else status=$$?; cat "$$out"; exit $$status; fi

## vet: gofmt, go.mod tidy, go vet and staticcheck (pinned by the tool line in go.mod), on the host and for js/wasm
vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod or go.sum is not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1; }
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./payroc/ ./wasm/...
	$(GO) tool staticcheck ./...
	@# staticcheck is a host binary that checks js/wasm code: build it for the host, run it with GOOS=js.
	GOOS=js GOARCH=wasm "$$(GOOS= GOARCH= $(GO) tool -n staticcheck)" ./payroc/ ./wasm/...

## wasm: build web/payroc.wasm (+ .br, .gz) and copy web/wasm_exec.js from the toolchain
wasm:
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o web/payroc.wasm ./wasm
	cp "$(GOROOT)/lib/wasm/wasm_exec.js" web/wasm_exec.js
	$(GO) run ./internal/cmd/precompress web/payroc.wasm

## package: the npm package of the browser module in dist/ (payroc.js, payroc.d.ts, payroc.wasm + .br/.gz,
## wasm_exec.js, README.md, package.json at VERSION); `npm pack ./dist` makes its tarball
package: wasm
	$(GO) run ./internal/cmd/npmpackage -version '$(VERSION)' -web web -out dist

## examples: the npm packages the examples pin in their lock files (typescript), installed when missing
examples: npm examples/ts/node_modules/.package-lock.json

examples/ts/node_modules/.package-lock.json: examples/ts/package-lock.json examples/ts/package.json
	cd examples/ts && npm ci --no-audit --no-fund

## npm: make sure npm is there (installs Debian's npm when root; otherwise says the one command)
npm:
	@command -v npm >/dev/null 2>&1 || bash .ci/ensure-npm

## chromium: make sure Debian's Chromium is there (installs it when root; otherwise says the one command)
chromium:
	@bash .ci/ensure-chromium

## redis: make sure Debian's redis-server is there for the shared-state tests (installs it when root)
redis:
	@bash .ci/ensure-redis

## bench: performance and reliability figures, one line each (see bench/doc.go), then a short fuzzing round (R2)
BENCH_FUZZTIME ?= 5s
bench: wasm redis chromium
	@set -o pipefail; $(GO) test -run='^$$' -bench=. -benchtime=1x -count=1 -timeout=20m ./bench/ \
	  | { grep -v -E '^(goos|goarch|pkg|cpu): |^Benchmark[^[:space:]]+-[0-9]+[[:space:]]+1[[:space:]]+[0-9.]+ ns/op$$|^PASS$$|^ok[[:space:]]' || true; }
	@$(GO) run ./bench/cmd/fuzzrun -quiet -fuzztime=$(BENCH_FUZZTIME)

## fuzz: run each fuzz target for FUZZTIME (default 30s) and print the R2 summary
FUZZTIME ?= 30s
fuzz:
	$(GO) run ./bench/cmd/fuzzrun -fuzztime=$(FUZZTIME)

## screenshots: regenerate the README's gallery of the page under docs/ (not part of make test)
screenshots: chromium wasm e2e/node_modules/.package-lock.json
	SCREENSHOTS=1 $(GO) test -count=1 -run TestScreenshot ./e2e/

## e2e/node_modules: the npm packages the e2e suite loads into the page (axe-core), pinned by e2e/package-lock.json;
## the target is npm's own record of the install, so an emptied or partial node_modules is installed again
e2e/node_modules: e2e/node_modules/.package-lock.json
e2e/node_modules/.package-lock.json: e2e/package.json e2e/package-lock.json
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq npm; } || \
	  { echo "npm is missing: run \`sudo apt-get install -y npm\`"; exit 1; }
	cd e2e && npm ci --no-audit --no-fund
	@touch e2e/node_modules/.package-lock.json

clean:
	rm -f web/payroc.wasm web/payroc.wasm.br web/payroc.wasm.gz web/wasm_exec.js
	rm -rf dist examples/ts/node_modules
