# Build settings shared by build, vet and test: the Podman bindings need these tags
# and a CGO-free build.
export CGO_ENABLED := 0
export GOFLAGS := -buildvcs=false -tags=remote,containers_image_openpgp

BIN := bin/pocketdock
AGENT := engine/agentbin/pocketdock-agent.gz
GO_SOURCES := $(shell find . -name '*.go' -not -path './bin/*') $(shell find stdlib luaapi -name '*.lua')

.PHONY: all build agent setup run test vet fmt-check unit bench fuzz clean

all: build

$(AGENT): $(shell find agent cmd/pocketdock-agent -name '*.go')
	go build -trimpath -ldflags='-s -w' -o $(basename $(AGENT)) ./cmd/pocketdock-agent
	gzip -9 -n -f $(basename $(AGENT))

agent: $(AGENT)

$(BIN): $(AGENT) $(GO_SOURCES) go.mod go.sum
	go build -trimpath -o $(BIN) .

build: $(BIN)

# setup installs what pocketdock needs on a Debian machine, when missing:
# podman (with runc: crun fails on hybrid cgroups) and a static busybox for the
# offline default image; and, as root, a range of subordinate ids for the
# containers user, where a rootful engine takes userns = "auto" ranges from.
setup:
	@command -v podman >/dev/null && command -v runc >/dev/null && test -x /bin/busybox || { \
		echo "installing podman, runc and busybox-static (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc busybox-static >/dev/null; }
	@if [ "$$(id -u)" = 0 ]; then for f in /etc/subuid /etc/subgid; do \
		grep -q '^containers:' $$f 2>/dev/null || echo 'containers:2147483647:2147483648' >> $$f; done; fi

# run: the main job, a real Lua script driving real sandboxes.
run: setup build
	$(BIN) scripts/persistence.lua

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet: $(AGENT)
	go vet ./...

# test: every test against the real engine. The engine service and the
# default image are made first (pocketdock starts its private service itself).
test: setup build fmt-check vet
	$(BIN) image bootstrap >/dev/null || $(BIN) -e 'pocketdock.images.bootstrap()'
	go test -count=1 -timeout 20m ./...

unit: $(AGENT)
	go test -count=1 -short ./...

fuzz: $(AGENT)
	go test -run '^$$' -fuzz '^FuzzReadFrame$$' -fuzztime 10s ./agent/
	go test -run '^$$' -fuzz '^FuzzExtract$$' -fuzztime 10s ./archive/
	go test -run '^$$' -fuzz '^FuzzList$$' -fuzztime 5s ./archive/
	go test -run '^$$' -fuzz '^FuzzCreateOptions$$' -fuzztime 10s ./luaapi/
	go test -run '^$$' -fuzz '^FuzzParseSize$$' -fuzztime 5s ./engine/
	go test -run '^$$' -fuzz '^FuzzSplitImageRef$$' -fuzztime 5s ./engine/

bench: setup build
	go run ./bench

clean:
	rm -rf bin $(AGENT)
