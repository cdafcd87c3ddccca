# The two commands of the README: `make demo` and `make test`.
.PHONY: demo test check deps build install

# `make install DESTDIR=/stage PREFIX=/usr`: static release build, then binaries, units,
# sysusers.d, tmpfiles.d, catalog, manual pages and the example config (scripts/install
# says where).
DESTDIR ?=
PREFIX ?= /usr

deps:
	@scripts/install-deps

build: deps
	swift build

# After the Swift tests: the demo as a new user runs it (a fresh clone, its own build),
# the shipped units' checks, then wbkeyd under a real systemd (systemd-nspawn; it builds
# the static release binaries, installs them, and runs the README's Operate commands).
test: deps
	swift build --build-tests
	swift test --skip-build; status=$$?; scripts/remove-test-accounts; exit $$status
	tests/newcomer/demo.sh
	tests/systemd/check-units.sh
	tests/systemd/run.sh

# For daily work: the Swift tests only, in one build (the tiers above need their own builds).
check: deps
	swift build --build-tests
	swift test --skip-build; status=$$?; scripts/remove-test-accounts; exit $$status

# `make demo DEMO_ARGS="--duration 90s"` ends by itself; without it, Ctrl-C ends it.
demo: deps
	swift build
	.build/debug/wbkeyd demo $(DEMO_ARGS)

install:
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" scripts/install
