# syncgate — make help lists the targets.

SHELL        := /bin/bash
GO           ?= go
BIN          := bin
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS      := -s -w -X main.buildVersion=$(VERSION)
# nomsgpack: gin without its MessagePack codec (ugorji/go), which syncgate
# never serves; 7.5 MB less binary, 3 MB less RSS (bench/README.md, Memory).
# `build` builds without cgo, as deploy/Dockerfile and testing/demo do:
# with cgo, a program that links package plugin exports every symbol.
BUILD_TAGS   := nomsgpack
STATICCHECK  := honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_TIMEOUT ?= 60m

.DEFAULT_GOAL := help

.PHONY: help
# Colour only on a terminal: a pipe (a CI log, less) gets plain text.
help: ## Show this help
	@if [ -t 1 ]; then on='\033[36m' off='\033[0m'; else on='' off=''; fi; \
	awk -v on="$$on" -v off="$$off" 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %s%-14s%s %s\n", on, $$1, off, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/syncgate and its kustomize build program bin/syncgate-render as the image builds them, and bin/syncgate-cluster and bin/syncgate-demo
	CGO_ENABLED=0 $(GO) build -trimpath -tags '$(BUILD_TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

# APT_MISSING installs the Debian packages in $$missing, if any: the end of
# each deps recipe, which first names the packages whose command is missing.
APT_MISSING = if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

.PHONY: deps
deps: ## Install the system packages tests need (git, sshd, curl; rsync and npm for gitlab-ci-local; chromium), when missing
	@missing=""; \
	command -v git >/dev/null || missing="$$missing git"; \
	[ -x /usr/sbin/sshd ] || missing="$$missing openssh-server"; \
	command -v ssh >/dev/null || missing="$$missing openssh-client"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v rsync >/dev/null || missing="$$missing rsync"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	$(APT_MISSING)

# The demo runs git (its git server, bump-image.sh) and points at the
# versions API with curl; it serves git over HTTP only and opens no browser.
.PHONY: deps-demo
deps-demo: ## Install the system packages the demo needs (git; curl for the API it points at), when missing
	@missing=""; \
	command -v git >/dev/null || missing="$$missing git"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	$(APT_MISSING)

.PHONY: tools
tools: ## Build (or reuse from the cache) the local control plane, S3 server and CI runner (act, gitlab-ci-local) binaries
	$(GO) run ./cmd/syncgate-cluster build

.PHONY: test
test: deps tools ## Run every test, the local control plane included
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	cd testing/deploycheck && $(GO) test -count=1 ./...

.PHONY: test-short
test-short: ## Run the tests that need no control plane
	$(GO) test -short -count=1 ./...
	cd testing/deploycheck && $(GO) test -short -count=1 ./...

.PHONY: lint
# The last step, also in `make test`, links the agent as the image does and
# fails, naming the chain, if it reaches a call of methods by a name the
# linker cannot see (text/template's executor): the linker would keep
# every exported method of every type (testing/deadcode).
lint: ## go vet, staticcheck, and the agent's link kept free of calls of methods through reflection
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) test -count=1 -run TestAgentKeepsDeadCodeElimination ./testing/deadcode

.PHONY: generate
generate: ## Regenerate deepcopy code and the Version CRD in deploy/crds
	cd testing/tools/codegen && $(GO) run sigs.k8s.io/controller-tools/cmd/controller-gen \
	  object paths=../../../status/version/... \
	  crd:crdVersions=v1 output:crd:dir=../../../deploy/crds

.PHONY: cluster-up
cluster-up: ## Start a local control plane in the background; prints its KUBECONFIG
	$(GO) run ./cmd/syncgate-cluster up

.PHONY: cluster-down
cluster-down: ## Stop the local control plane started by cluster-up
	$(GO) run ./cmd/syncgate-cluster down

.PHONY: demo
demo: deps-demo ## Run the whole journey locally: control plane, git, S3, syncgate, a commit, syncgate wait
	$(GO) run ./cmd/syncgate-demo

.PHONY: bench
bench: ## Benchmarks: sync of 1,000 objects vs kubectl, 10,000 concurrent /wait long polls, push webhook to apply, pull request previews
	$(GO) run ./bench/sync
	$(GO) run ./bench/longpoll
	$(GO) run ./bench/webhook
	$(GO) run ./bench/preview

.PHONY: bench-flux
bench-flux: deps tools ## syncgate vs Flux kustomize-controller (built and cached on first use), same objects and control plane (BENCH_FLAGS='-reps 3')
	$(GO) run ./bench/flux $(BENCH_FLAGS)

.PHONY: bench-memory
bench-memory: deps tools ## Agent memory: idle, 1,000 objects, 1,000 small commits, 100 namespaces × 100, beside Flux (BENCH_FLAGS='-commits 200')
	$(GO) run ./bench/memory $(BENCH_FLAGS)

.PHONY: bench-scale
bench-scale: deps tools ## A commit costs what it changes: 1,000 objects in one namespace, 100 namespaces × 100 objects, requests and watches counted (BENCH_FLAGS='-scenarios one')
	$(GO) run ./bench/scale $(BENCH_FLAGS)

.PHONY: bench-shards
bench-shards: deps tools ## Three replicas sharing 60 namespaces in shards vs one leader: first sync, commit series, SIGKILL of one, answers checked (BENCH_FLAGS='-shards 6')
	$(GO) run ./bench/shards $(BENCH_FLAGS)

.PHONY: bench-bigrepo
bench-bigrepo: deps tools ## Big config repo (50,000 commits, 20,000 files; generated once, cached): clone, fetch, ancestry, /wait
	$(GO) run ./bench/bigrepo $(BENCH_FLAGS)

.PHONY: soak
soak: deps tools ## Seeded fault-injection soak, 2 replicas, 200 commits (SOAK_FLAGS='-seed N -commits 30')
	$(GO) run ./bench/soak $(SOAK_FLAGS)

.PHONY: clean
clean: ## Remove build output (the binary cache under ~/.cache/syncgate stays)
	rm -rf $(BIN)
