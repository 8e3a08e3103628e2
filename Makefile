# Payroc Cloud refunds from a browser POS. `make run` for the demo, `make test` for everything.
SHELL := /bin/bash
GO ?= go
GOROOT := $(shell $(GO) env GOROOT)
WASM_EXEC := $(GOROOT)/lib/wasm/go_js_wasm_exec
ADDR ?= 127.0.0.1:8080

.PHONY: run test vet unit wasmtest e2e wasm bench fuzz screenshots chromium clean

## run: build the wasm and start the proxy in simulator mode on http://$(ADDR)
run: wasm
	$(GO) run ./proxy -addr $(ADDR)

## test: vet (host and js/wasm), unit tests with -race, js/wasm glue tests under Node, e2e in headless Chromium
test: vet chromium wasm
	$(GO) test -race -count=1 ./...
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$(WASM_EXEC)" ./payroc/ ./wasm/...

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

## chromium: make sure Debian's Chromium is there (installs it when root; otherwise says the one command)
chromium:
	@bash .ci/ensure-chromium

## bench: performance and reliability figures, one line each (see bench/doc.go), then a short fuzzing round (R2)
BENCH_FUZZTIME ?= 5s
bench: wasm
	@set -o pipefail; $(GO) test -run='^$$' -bench=. -benchtime=1x -count=1 -timeout=20m ./bench/ \
	  | { grep -v -E '^(goos|goarch|pkg|cpu): |^Benchmark[^[:space:]]+-[0-9]+[[:space:]]+1[[:space:]]+[0-9.]+ ns/op$$|^PASS$$|^ok[[:space:]]' || true; }
	@$(GO) run ./bench/cmd/fuzzrun -quiet -fuzztime=$(BENCH_FUZZTIME)

## fuzz: run each fuzz target for FUZZTIME (default 30s) and print the R2 summary
FUZZTIME ?= 30s
fuzz:
	$(GO) run ./bench/cmd/fuzzrun -fuzztime=$(FUZZTIME)

## screenshots: regenerate the README's picture of the page (not part of make test)
screenshots: chromium wasm
	SCREENSHOTS=1 $(GO) test -count=1 -run TestScreenshot ./e2e/

clean:
	rm -f web/payroc.wasm web/payroc.wasm.br web/payroc.wasm.gz web/wasm_exec.js
