# Tandem's everyday commands. CI (.ci/run) runs the same checks as `make lint` and
# `make fuzz`, and the same tests as `make test-postgres`.

GO            ?= go
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -s -w -X main.version=$(VERSION)
TEST_POSTGRES ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
BENCHTIME     ?= 2s
FUZZTIME      ?= 10s
# The race detector, with Go's unsafe.Pointer checks (checkptr, which -race turns on)
# off for the modernc.org packages only: SQLite translated from C to Go, whose pointer
# arithmetic the checks cannot fault but spent a third of the tests' CPU re-checking.
# Tandem's own code, and every other package, keeps both.
RACE          := -race -gcflags='modernc.org/...=-d=checkptr=0'
# The same flags in the form GOFLAGS takes them: `make lint`'s go vet and staticcheck
# compile the packages as the tests do, so `make lint` and `make test` (and CI's checks
# and tests) compile each package once between them instead of once plain and once
# race-instrumented (docs/BENCHMARKS.md, branch ci5).
RACE_GOFLAGS  := -race -gcflags=modernc.org/...=-d=checkptr=0
# Test binaries linked without DWARF (nothing reads it; race reports and stack traces
# use the binary's own tables): a third less CPU for each of the 42 links.
NODWARF       := -ldflags=-w
# The race runtime sleeps a second as each test binary exits unless told not to; a race
# during a test still fails that test.
export GORACE ?= atexit_sleep_ms=0

.PHONY: test test-postgres lint fuzz bench bench-mail bench-files bench-ai bench-ai-assist build demo clean

## test: the whole suite with the race detector, on SQLite (and on PostgreSQL too when
## TANDEM_TEST_POSTGRES is set in the environment)
test:
	@[ -n "$$TANDEM_TEST_POSTGRES" ] || echo "TANDEM_TEST_POSTGRES is not set: SQLite only (make test-postgres runs both)"
	$(GO) test $(RACE) $(NODWARF) ./...

## test-postgres: the whole suite on SQLite and on the local PostgreSQL
test-postgres:
	TANDEM_TEST_POSTGRES='$(TEST_POSTGRES)' $(GO) test $(RACE) $(NODWARF) ./...

## lint: gofmt, go vet, and staticcheck at the version pinned in go.mod (tool directive)
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet $(RACE) ./...
	GOFLAGS="$$($(GO) env GOFLAGS) $(RACE_GOFLAGS)" $(GO) tool staticcheck ./...

## fuzz: every fuzz test for FUZZTIME each (default 10s), from its seed corpus in testdata/fuzz
fuzz:
	FUZZTIME=$(FUZZTIME) .ci/fuzz

## bench-files: attachment throughput, memory under 16 concurrent uploads, thumbnail time
bench-files:
	$(GO) test ./bench -run '^$$' -bench 'File|Thumbnail' -benchtime 5x

## bench-ai-assist: a ticket's AI suggestions and the autonomy decision (SQLite)
bench-ai-assist:
	$(GO) test ./internal/ai/assist -run '^$$' -bench . -benchtime 200x

## bench: the benchmark report (go run ./bench/cmd/benchreport, which runs the benchmarks
## and writes docs/BENCHMARKS.md) when it exists, else the plain benchmarks. Its suites
## outside, outside-sharing, outside-webhooks, outside-mail and outside-export run
## `tandem serve` in processes of its own and print their CPU per operation; create,
## read, import, service-levels, reports, live and ai-sim run in-process
bench:
	@if [ -d bench/cmd/benchreport ]; then \
		echo "$(GO) run ./bench/cmd/benchreport"; \
		$(GO) run ./bench/cmd/benchreport; \
	elif [ -d bench ]; then \
		echo "$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./bench/..."; \
		$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./bench/...; \
	else \
		echo "no ./bench package yet: nothing to benchmark (see docs/BENCHMARKS.md once it exists)"; \
	fi

## bench-ai: the AI models' figures (docs/AI.md): BANKING77 accuracy and coverage at
## precision 0.95, cold start, prediction time, triage's cost on ticket creation, and
## training on 100,000 tickets
bench-ai:
	$(GO) test -run '^$$' -bench 'Banking77' -benchtime 1x ./internal/ai/learn
	$(GO) test -run '^$$' -bench 'Predict' -benchtime 2000x ./internal/ai/learn
	$(GO) test -run '^$$' -bench 'TriageCreate|Train100k' -benchtime 1x ./internal/ai
	$(GO) run ./bench/cmd/benchreport -suites ai-sim -out /dev/stdout
## bench-outside: creates and reads against `tandem serve` in its own process, beside a raw
## SQLite (and, with TANDEM_TEST_POSTGRES, pgbench) reference measured in the same run and
## the server's CPU time per request; seeds OUTSIDE_TICKETS tickets for the reads (into
## OUTSIDE_DATA, kept and reused by later runs, when it is set; on PostgreSQL into schema
## bench_outside_kept, with its accounts' credentials in OUTSIDE_DATA)
.PHONY: bench-outside
OUTSIDE_TICKETS ?= 1000000
OUTSIDE_DATA ?=
bench-outside:
	$(GO) run ./bench/cmd/benchreport -suites outside -outside-tickets $(OUTSIDE_TICKETS) -outside-data '$(OUTSIDE_DATA)' -out /dev/stdout

## bench-mail: inbound email benchmarks (messages/s over SMTP, p99, 30 MB message memory):
## the listener in-process (internal/mailin), then `tandem serve --smtp-addr` and an
## outgoing backlog measured from outside (benchreport -suites outside-mail)
bench-mail:
	$(GO) test -run '^$$' -bench 'Inbound' -benchtime 2000x ./internal/mailin
	$(GO) test -run '^$$' -bench 'LargeMessageMemory' -benchtime 1x ./internal/mailin
	$(GO) run ./bench/cmd/benchreport -suites outside-mail -out /dev/stdout

## build: the tandem binary in ./bin
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/tandem ./cmd/tandem

## demo: two ready help desks on http://acme.localhost:8080 and http://globex.localhost:8080
demo:
	$(GO) run ./cmd/tandem demo

clean:
	rm -rf bin
