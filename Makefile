# mnemo — build, test and measure. Every build is CGO_ENABLED=0: the binary
# links no native runtime.
export CGO_ENABLED := 0

# GOEXPERIMENT=simd compiles GoMLX's AVX-512 matmul kernels (Go 1.26). It is
# the default build (see README "Performance"); `make SIMD=0 …` builds without.
SIMD ?= 1
ifeq ($(SIMD),1)
export GOEXPERIMENT := simd
endif

MODELS ?= $(abspath ../shared/models)
export MNEMO_TEST_MODELS ?= $(MODELS)

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN := bin/mnemo

.PHONY: build test test-unit test-e2e fuzz-short bench bench-compare demo lint clean

build:
	go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/mnemo

# The whole suite CI runs: lint, unit and integration tests (race-free build
# without cgo), both SIMD builds compiled, then end-to-end tests against the
# real binary with third-party MCP clients.
test: lint build
	GOEXPERIMENT= go build -o /dev/null ./cmd/mnemo
	go test -count=1 -timeout 20m ./...
	$(MAKE) --no-print-directory fuzz-short
	$(MAKE) --no-print-directory test-e2e

# A short coverage-guided run of every parser that takes untrusted input (MCP
# tool arguments, hook JSON, import lines, keyword queries). The seeds also run
# in every plain `go test`; `make fuzz-short FUZZTIME=5m` digs deeper. The
# default is a count, not a duration: a deadline can end a run in the middle
# of minimising an input and fail it with "context deadline exceeded".
FUZZTIME ?= 20000x
fuzz-short:
	go test -run '^$$' -fuzz '^FuzzDecodeArgs$$' -fuzztime $(FUZZTIME) ./mcp/
	go test -run '^$$' -fuzz '^FuzzParseHookInput$$' -fuzztime $(FUZZTIME) ./pkg/hooks/
	go test -run '^$$' -fuzz '^FuzzParseLine$$' -fuzztime $(FUZZTIME) ./pkg/jsonl/
	go test -run '^$$' -fuzz '^FuzzFTSQuery$$' -fuzztime $(FUZZTIME) ./pkg/sqlite/

test-unit:
	go test -count=1 ./...

test-e2e: build
	@if [ -x e2e/run.sh ]; then MNEMO_BIN=$(abspath $(BIN)) e2e/run.sh; else echo "no e2e suite yet"; fi

bench:
	go test -run '^$$' -bench . -benchtime 5x -timeout 30m ./embed/ ./pkg/...

demo: build
	@scripts/demo.sh $(abspath $(BIN))

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go'; git ls-files --others --exclude-standard '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...

clean:
	rm -rf bin

# mnemo bench against onnxruntime-node (bench/), same model, same scenarios,
# same run, 2 threads each; prints one table. Not part of `make test`.
MNEMO_MODEL ?= $(abspath ../shared/models/minilm-l6-synthetic)
BENCH_OUT ?= /tmp/mnemo-bench-compare
.PHONY: bench-compare
bench-compare: build
	@mkdir -p $(BENCH_OUT)
	@[ -d bench/node_modules ] || (cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund)
	@echo "load average before: $$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
	GOMAXPROCS=2 MNEMO_OFFLINE=1 $(BIN) bench --json --model $(MNEMO_MODEL) > $(BENCH_OUT)/mnemo.jsonl
	node bench/ort-bench.mjs --threads 2 --model $(MNEMO_MODEL) > $(BENCH_OUT)/ort.jsonl
	@node bench/compare.mjs $(BENCH_OUT)/mnemo.jsonl $(BENCH_OUT)/ort.jsonl
