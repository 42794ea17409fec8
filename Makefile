# One command per habit. `make test` is the README's test command.
GO ?= go

.PHONY: test test-short generate vet bench fuzz run demo build

build:
	$(GO) build -o bin/chargestar ./cmd/chargestar

# All tests: the main module and the interop module (independent OCPP peers).
test:
	$(GO) test -race -count=1 ./...
	cd interop/ocppgo && $(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...
	cd interop/ocppgo && $(GO) vet ./...

# Regenerate the OCPP message types from ../shared/ocpp-spec.
generate:
	$(GO) generate ./internal/ocpp/...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./internal/ocpp/ocppj

run:
	$(GO) run ./cmd/chargestar serve

demo:
	$(GO) run ./cmd/chargestar demo
