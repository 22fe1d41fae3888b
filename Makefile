# spo — top-level tasks. `make demo` and `make test` work on a fresh Debian machine (as root,
# or with sudo available): they install what they need first.

SHELL := /bin/bash
CARGO ?= cargo
# Every Debian package the build and the tests need, in one place.
APT_PACKAGES := build-essential pkg-config libseccomp-dev clang llvm libbpf-dev bpftool \
	secilc apparmor auditd docker-registry skopeo apache2-utils openssl python3 python3-pip \
	hyperfine procps util-linux time policycoreutils
# The operator's end-to-end test: a container runtime and a static busybox for its rootfs.
APT_PACKAGES += runc busybox-static curl

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build release demo test fmt-check clippy unit bench docs clean udica-templates oci-peers \
	check-features install kube-bin cluster-up cluster-down

all: build

## deps: install missing Debian packages and Rust components (idempotent, quick when done).
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt
	@rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy
	@bash scripts/pip-test-deps.sh

build: deps
	$(CARGO) build --workspace

release: deps
	$(CARGO) build --release -p spoc

## demo: record a program with eBPF, run it under its profile, then under the same profile
## minus one syscall (the kernel's denial); then record/replay round trips of real programs.
demo: release
	@bash scripts/demo.sh target/release/spoc
	@if [ "$$(id -u)" = 0 ]; then bash scripts/demo-record.sh target/release/spoc; \
	else echo "(skipping the recording demo: spoc record needs root)"; fi

fmt-check:
	$(CARGO) fmt --all -- --check

clippy: deps
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## udica-templates: real SELinux container templates (pip) for the spo-selinux tests.
udica-templates:
	@bash scripts/fetch-udica.sh "$(CURDIR)/target" || echo "udica templates unavailable: those tests will skip"

# A hung test (e.g. a leftover child holding the harness's pipe) fails the run instead of
# eating the CI budget; timeout signals the whole process group.
TEST_TIMEOUT ?= 30m

## oci-peers: oras-py and PyNaCl (pip, into target/pypeers) for the spoc OCI interop tests.
oci-peers:
	@bash scripts/fetch-oci-peers.sh "$(CURDIR)/target"

unit: deps udica-templates oci-peers
	timeout --kill-after=30s $(TEST_TIMEOUT) $(CARGO) test --workspace --no-fail-fast

## check-features: every feature combination of the library crates and spoc compiles and is
## lint-clean (an explicit matrix: cargo-hack is not packaged). The pure builds must need
## neither libseccomp nor clang.
# (The all-features builds are the workspace's own `make clippy`.)
FEATURE_MATRIX := \
	"-p spo-seccomp --no-default-features" \
	"-p spo-recorder --no-default-features" \
	"-p spoc --no-default-features" \
	"-p spoc --no-default-features --features libseccomp" \
	"-p spoc --no-default-features --features bpf"

check-features: deps
	@for f in $(FEATURE_MATRIX); do \
		echo "clippy $$f"; \
		$(CARGO) clippy $$f --all-targets -- -D warnings || exit 1; \
	done
	@if $(CARGO) tree -p spoc --no-default-features -e normal,build | grep -E "libseccomp|aya|bindgen"; then \
		echo "spoc without features must need neither libseccomp nor clang"; exit 1; fi

PREFIX ?= /usr/local
## install: spoc into $(PREFIX)/bin and its man pages (generated from the CLI) into
## $(PREFIX)/share/man/man1.
install: release
	install -D -m 0755 target/release/spoc $(DESTDIR)$(PREFIX)/bin/spoc
	mkdir -p $(DESTDIR)$(PREFIX)/share/man/man1
	target/release/spoc man --dir $(DESTDIR)$(PREFIX)/share/man/man1

## test: formatting, lints, then every test (privileged ones need root, as in CI).
test: deps fmt-check clippy check-features kube-bin unit

bench: deps
	$(CARGO) bench -p spo-benches

docs:
	@command -v mdbook >/dev/null && mdbook build docs || echo "mdbook not installed: docs/src is plain Markdown"

clean:
	$(CARGO) clean

## kube-bin: the test cluster's binaries (kube-apiserver, etcd, ...), built once per machine
## into /var/cache/spo-kube (about 7 minutes cold; a no-op afterwards).
kube-bin:
	@bash scripts/kube-build.sh

## cluster-up: a local test cluster with the operator's components running as processes.
cluster-up: deps kube-bin
	$(CARGO) build -p spo-operator
	@bash scripts/cluster-up.sh

## cluster-down: stop everything cluster-up started, by PID.
cluster-down:
	@bash scripts/cluster-down.sh

## deploy-yaml: regenerate the single-file installs deploy/operator.yaml and
## deploy/namespace-operator.yaml from deploy/'s kustomize tree.
.PHONY: deploy-yaml image
deploy-yaml:
	@bash scripts/gen-deploy.sh

## image: the operator's container image without pulling any base image (scripts/image.sh):
## the release binary and its shared libraries as one layer, an OCI layout in target/image.
image:
	$(CARGO) build --release -p spo-operator
	@bash scripts/image.sh
