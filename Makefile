# The two commands of the README: `make demo` and `make test`.
.PHONY: demo test deps build

deps:
	@scripts/install-deps

build: deps
	swift build

test: deps
	swift build --build-tests
	swift test --skip-build

# `make demo DEMO_ARGS="--duration 90s"` ends by itself; without it, Ctrl-C ends it.
demo: deps
	swift build
	.build/debug/wbkeyd demo $(DEMO_ARGS)
