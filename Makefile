# Build settings shared by build, vet and test: the Podman bindings need these tags
# and a CGO-free build.
export CGO_ENABLED := 0
export GOFLAGS := -buildvcs=false -tags=remote,containers_image_openpgp

BIN := bin/pocketdock
AGENT := engine/agentbin/pocketdock-agent

.PHONY: all build agent run test vet fmt-check bench fuzz clean

all: build

agent:
	go build -trimpath -ldflags='-s -w' -o $(AGENT) ./cmd/pocketdock-agent

build: agent
	go build -trimpath -o $(BIN) .

clean:
	rm -rf bin $(AGENT)
