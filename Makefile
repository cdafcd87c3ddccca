# The two commands of the README: `make demo` and `make test`.
.PHONY: demo test deps build

deps:
	@scripts/install-deps

build: deps
	swift build

test: deps
	swift build --build-tests
	swift test --skip-build

demo: deps
	scripts/demo
