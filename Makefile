# Build settings shared by build, vet and test: the Podman bindings need these tags
# and a CGO-free build.
TAGS := remote,containers_image_openpgp
export CGO_ENABLED := 0
export GOFLAGS := -buildvcs=false -tags=$(TAGS)

BIN := bin/pocketdock
AGENT := engine/agentbin/pocketdock-agent.gz
GO_SOURCES := $(shell find . -name '*.go' -not -path './bin/*') $(shell find stdlib luaapi -name '*.lua')

.PHONY: all build agent setup run test vet fmt-check unit race bench fuzz examples docs clean FORCE

all: build

$(AGENT): $(shell find agent cmd/pocketdock-agent -name '*.go')
	go build -trimpath -ldflags='-s -w' -o $(basename $(AGENT)) ./cmd/pocketdock-agent
	gzip -9 -n -f $(basename $(AGENT))

agent: $(AGENT)

# COMMIT is what --version prints: the commit built from, -dirty when tracked
# files differ from it. (GOFLAGS has -buildvcs=false, so the binary carries it
# through -ldflags.) bin/.commit changes only when COMMIT does, so a commit or
# a clean-up relinks the binary even when no source changed.
COMMIT := $(shell c=$$(git rev-parse --short HEAD 2>/dev/null) && { git diff --quiet HEAD -- 2>/dev/null || c=$$c-dirty; echo $$c; })

bin/.commit: FORCE
	@mkdir -p bin; echo '$(COMMIT)' | cmp -s - $@ || echo '$(COMMIT)' > $@

$(BIN): $(AGENT) $(GO_SOURCES) go.mod go.sum bin/.commit
	go build -trimpath -ldflags='-X main.commit=$(or $(COMMIT),unknown)' -o $(BIN) .

build: $(BIN)

# setup installs, when missing, what pocketdock and its tests need on a Debian
# machine: each tool is checked and only the packages of missing ones are
# installed, so a second run costs nothing. podman (with runc: crun fails on
# hybrid cgroups, catatonit as the sandboxes' init, iptables for bridge
# networks and published ports, uidmap for user namespaces), a static busybox
# for the offline default image, sshd and ssh-keygen for the ssh:// engine
# tests, pkill/pgrep (procps) for the service tests, git for --version, and
# gcc with the C library's headers for the race detector (make race needs cgo).
# As root it also adds a range of subordinate ids for the containers user,
# where a rootful engine takes userns = "auto" ranges from.
SETUP_TOOLS := podman:podman /usr/sbin/runc:runc /usr/bin/catatonit:catatonit /usr/sbin/iptables:iptables \
	/usr/bin/newuidmap:uidmap /bin/busybox:busybox-static /usr/sbin/sshd:openssh-server \
	/usr/bin/ssh-keygen:openssh-client /usr/bin/pkill:procps git:git gcc:gcc /usr/include/stdio.h:libc6-dev
setup:
	@missing=; for need in $(SETUP_TOOLS); do tool=$${need%%:*}; \
		case $$tool in /*) test -e $$tool ;; *) command -v $$tool >/dev/null ;; esac || missing="$$missing $${need#*:}"; done; \
	if [ -n "$$missing" ]; then \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		echo "installing$$missing (apt-get)"; \
		$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi
	@if [ "$$(id -u)" = 0 ]; then for f in /etc/subuid /etc/subgid; do \
		grep -q '^containers:' $$f 2>/dev/null || echo 'containers:2147483647:2147483648' >> $$f; done; fi

# run: the main job, a real Lua script driving real sandboxes.
run: setup build
	$(BIN) scripts/persistence.lua

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet: $(AGENT)
	go vet ./...

# docs: docs/LUA_API.md from the builtins' descriptors (luaapi/builtins.go);
# a test fails while it is stale.
docs: $(AGENT)
	go generate ./luaapi

# test: every test against the real engine. The engine service and the
# default image are made first (pocketdock starts its private service itself).
test: setup build fmt-check vet
	$(BIN) image bootstrap >/dev/null || $(BIN) -e 'pocketdock.images.bootstrap()'
	go test -count=1 -timeout 20m ./...

# unit: the tests of pure logic, with no engine at all (nor podman on the
# machine): the unit tag leaves out every test file that needs an engine.
unit: $(AGENT)
	go test -count=1 -tags=$(TAGS),unit ./...

# race: the race detector over the packages whose goroutines meet (the
# executor's client and server, the engine's exec streams, the sandbox core,
# the Lua module's scheduler), against the real engine. It needs cgo, and the
# Podman bindings then need the storage drivers that want C headers left out.
RACE_PKGS := ./agent/ ./engine/ ./sandbox/ ./luaapi/
race: setup $(AGENT)
	CGO_ENABLED=1 go test -race -count=1 -timeout 20m \
		-tags=$(TAGS),exclude_graphdriver_btrfs,btrfs_noversion,exclude_graphdriver_devicemapper \
		$(RACE_PKGS)

fuzz: $(AGENT)
	go test -run '^$$' -fuzz '^FuzzReadFrame$$' -fuzztime 10s ./agent/
	go test -run '^$$' -fuzz '^FuzzExtract$$' -fuzztime 10s ./archive/
	go test -run '^$$' -fuzz '^FuzzList$$' -fuzztime 5s ./archive/
	go test -run '^$$' -fuzz '^FuzzCreateOptions$$' -fuzztime 10s ./luaapi/
	go test -run '^$$' -fuzz '^FuzzParseSize$$' -fuzztime 5s ./engine/
	go test -run '^$$' -fuzz '^FuzzSplitImageRef$$' -fuzztime 5s ./engine/
	go test -run '^$$' -fuzz '^FuzzJSONDecode$$' -fuzztime 10s ./stdlib/

# examples: the example scripts, and every recipe built twice (the second
# build is all cached).
examples: setup build
	$(BIN) scripts/fleet.lua 4
	for r in scripts/recipes/*.lua; do $(BIN) provision "$$r" && $(BIN) provision "$$r" || exit 1; done

bench: setup build
	go run ./bench

clean:
	rm -rf bin $(AGENT)
