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

# The daemon's suites that run again with the store in PostgreSQL (WBKEYD_TEST_STORE; the
# harness gives each fixture a fresh database of one shared test server). Left out: the
# suites that read, write or tamper with the SQLite file itself (AuditKey, AuditVerify,
# Backup, FailClosed, ReloadSpoolAndStore: PostgreSQL has its own tamper and leak tests),
# the daemon run as another account (UnprivilegedSpool: the test server's password file is
# the runner's), and the 10,000-file bursts (CrashUnderLoad, Events).
POSTGRES_SUITES = CrashSafetyTests|AcquisitionStateTests|RevocationStateTests|TokenExpiryStateTests|ReconcileStateTests|TransientFailureTests|AuthorizeURLTests|WaitTests|KeyWatchTests|StatusAggregateTests|ReloadOutcomeTests|NotifyProtocolTests|StartupAndStopTests|ReloadScheduleTests|AgentCommandsTests|ReadOnlyCommandsTests|AdminCommandsTests|BadInputTests|ControlRefusalTests|IntakeHardeningTests|ReloadAccessTests|ReloadRestartTests|ReloadWhiteBITTests|MetricsListenerTests|JournalVolumeTests|SocatOneLinerTests|AccessTierTests|HeldConnectionTests|TransientSpoolErrorTests

# Several instances on one database: run on their own after the other suites, so that the
# three daemons and 1,000 authorizations of the chaos run do not load the timing of others.
MULTI_SUITES = MultiInstanceTests|MultiInstanceChaosTests

# After the Swift tests (and the PostgreSQL and several-instance passes): the demo as a new user runs it (a fresh clone, its own build),
# the shipped units' checks, then wbkeyd under a real systemd (systemd-nspawn; it builds
# the static release binaries, installs them, and runs the README's Operate commands).
test: deps
	swift build --build-tests
	swift test --skip-build --skip '$(MULTI_SUITES)'; status=$$?; scripts/remove-test-accounts; exit $$status
	WBKEYD_TEST_STORE=postgresql swift test --skip-build --filter '$(POSTGRES_SUITES)'; status=$$?; scripts/remove-test-accounts; exit $$status
	swift test --skip-build --filter '$(MULTI_SUITES)'
	tests/newcomer/demo.sh
	tests/systemd/check-units.sh
	tests/systemd/run.sh

# For daily work: the Swift tests only, in one build (the tiers above need their own builds).
check: deps
	swift build --build-tests
	swift test --skip-build --skip '$(MULTI_SUITES)'; status=$$?; scripts/remove-test-accounts; exit $$status
	WBKEYD_TEST_STORE=postgresql swift test --skip-build --filter '$(POSTGRES_SUITES)'; status=$$?; scripts/remove-test-accounts; exit $$status
	swift test --skip-build --filter '$(MULTI_SUITES)'

# `make demo DEMO_ARGS="--duration 90s"` ends by itself; without it, Ctrl-C ends it.
demo: deps
	swift build
	.build/debug/wbkeyd demo $(DEMO_ARGS)

install:
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" scripts/install
