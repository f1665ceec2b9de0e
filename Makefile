# crvideomgr build. `make` builds everything into build/, `make run` starts a
# server with the demo enterprise, `make test` runs every test.

GO       ?= go
BUILD    := build
DATA     ?= var/data
LISTEN   ?= 127.0.0.1:2727

.PHONY: all server run test test-go vet clean

all: server

server:
	$(GO) build -o $(BUILD)/crvideosrv ./cmd/crvideosrv

# The demo enterprise `demo` / password `demo` is (re)created on every run.
run: server
	$(BUILD)/crvideosrv account add -data $(DATA) demo demo
	@echo "crvideosrv: connect with serverAddr \"$(LISTEN)\", authAcnt \"demo\", authPswd md5(\"demo\") = fe01ce2a7fbac8fafaed7c982a04e229"
	$(BUILD)/crvideosrv -listen $(LISTEN) -data $(DATA)

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null)" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

test-go:
	$(GO) test -race -count=1 -timeout 15m ./...

test: all vet test-go

clean:
	rm -rf $(BUILD)
