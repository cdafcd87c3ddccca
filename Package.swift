// swift-tools-version: 6.1
import PackageDescription

// Dependencies are chosen on purpose (docs/design.md §10, README "Dependencies"); each one
// named here is used.
let log = Target.Dependency.product(name: "Logging", package: "swift-log")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let grdb = Target.Dependency.product(name: "GRDB", package: "GRDB.swift")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let httpClient = Target.Dependency.product(name: "AsyncHTTPClient", package: "async-http-client")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let postgresNIO = Target.Dependency.product(name: "PostgresNIO", package: "postgres-nio")

let package = Package(
    name: "wbkeyd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wbkeyd", targets: ["wbkeyd"]),
        .executable(name: "whitebit-sim", targets: ["whitebit-sim"]),
        .executable(name: "wbkeyctl", targets: ["wbkeyctl"]),
        .executable(name: "wbkeyd-bench", targets: ["wbkeyd-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // Already async-http-client's TLS; named so that the client can set its TLS floor.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // The PostgreSQL store (docs/design.md §13): the wire protocol on the NIO the client
        // already uses; no libpq.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // The config file is TOML (docs/design.md §3); TOMLKit wraps toml++, a complete parser.
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        // A string that never prints itself: tokens, codes, verifiers, API secrets.
        .target(name: "Sensitive"),
        // Every program's --version: the release and the git revision (scripts/install).
        .target(name: "BuildInfo"),
        // Every program's exit statuses: 0, 1 and sysexits.h (EXIT STATUS in the man pages).
        .target(name: "SysExits"),
        .testTarget(name: "SensitiveTests", dependencies: ["Sensitive"]),

        // The calls wbkeyd makes to WhiteBIT (docs/whitebit-api.md §3, §4, §5), with deadlines,
        // a rate limit, a concurrency limit and errors that never carry a secret; the V4
        // request signer (HMAC-SHA512) and nonce source.
        .target(name: "WhiteBITClient", dependencies: ["Sensitive", "JSONString", httpClient, log, nioCore, nioHTTP1, nioPosix, nioSSL, crypto]),
        .testTarget(
            name: "WhiteBITClientTests",
            dependencies: [
                "WhiteBITClient", "WhiteBITSimHarness", "PKCE", "Sensitive", httpClient, log, nioCore, nioHTTP1, nioPosix, nioSSL,
                crypto,
            ]),

        // JSON string literals written by hand (audit detail, spool files), byte-exact.
        .target(name: "JSONString"),
        .testTarget(name: "JSONStringTests", dependencies: ["JSONString"]),
        .testTarget(name: "DemoTests", dependencies: ["Demo", "WBKeydHarness", "WhiteBITSimHarness"]),

        // RFC 7636 verifier, S256 challenge and OAuth state: shared by the simulator,
        // its harness and the daemon's `authorize-url`.
        .target(name: "PKCE", dependencies: ["Sensitive", crypto]),
        .testTarget(name: "PKCETests", dependencies: ["PKCE", "Sensitive"]),

        // wbkeyd.toml: loading, validation, credential files, reload diffs, control access.
        .target(name: "DaemonConfig", dependencies: ["Sensitive", "CExtendedAttributes", .product(name: "TOMLKit", package: "TOMLKit")]),
        .systemLibrary(name: "CExtendedAttributes"),
        .testTarget(name: "DaemonConfigTests", dependencies: ["DaemonConfig", "Sensitive"]),

        // Intake of spool files (docs/design.md §4): claim, read, validate, reject, watch, submit.
        .target(name: "Spool", dependencies: ["Sensitive", "JSONString"]),
        .testTarget(name: "SpoolTests", dependencies: ["Spool", "Sensitive", "UnixSocketAddress"]),

        .target(name: "UnixSocketAddress"),
        .testTarget(name: "UnixSocketAddressTests", dependencies: ["UnixSocketAddress"]),

        // The grant state machine of docs/design.md §5: pure, no I/O, no clock. Named apart
        // from ServiceLifecycle, the process lifecycle it has nothing to do with.
        .target(name: "GrantLifecycle", dependencies: ["Sensitive"]),
        .testTarget(name: "GrantLifecycleTests", dependencies: ["GrantLifecycle", "Sensitive"]),

        // One heap of deadlines for every grant, one loop.
        .target(name: "Scheduler"),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler"]),

        // The SQLite store: pool and migrations, sealed secrets, the hash-chained audit log.
        .target(name: "Store", dependencies: ["Sensitive", "GrantLifecycle", "JSONString", grdb, crypto]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "PostgresStore", "PostgresHarness", "Sensitive", "GrantLifecycle", grdb, crypto, log]),

        // The store on PostgreSQL (docs/design.md §13): the same `StoreConnection` in its
        // dialect, and the backend that runs it, for several instances over one database.
        .target(name: "PostgresStore", dependencies: ["Store", "Sensitive", "GrantLifecycle", postgresNIO, nioCore, nioPosix, nioSSL, log]),
        .testTarget(name: "PostgresStoreTests", dependencies: ["PostgresStore", "Store", "PostgresHarness", "Sensitive", log]),

        // The control socket's language: commands, tiers, text and JSON replies. No I/O.
        .target(name: "ControlProtocol", dependencies: ["GrantLifecycle", "Sensitive"]),
        .testTarget(name: "ControlProtocolTests", dependencies: ["ControlProtocol", "GrantLifecycle", "Sensitive"]),

        // The control socket itself: Unix stream socket, SO_PEERCRED, limits.
        .target(name: "ControlSocket", dependencies: [nioCore, nioPosix, log]),
        .testTarget(name: "ControlSocketTests", dependencies: ["ControlSocket", "WBKeydHarness", log]),

        // libsystemd: sd_notify, the watchdog, socket activation, the journal.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(name: "Systemd", dependencies: ["CSystemd", log]),
        .testTarget(name: "SystemdTests", dependencies: ["Systemd", "UnixSocketAddress", log]),

        // The `[metrics]` listener: GET /metrics over HTTP/1.1 on one TCP address.
        .target(name: "MetricsHTTP", dependencies: [nioCore, nioPosix, nioHTTP1, log]),

        // The daemon: the wiring around GrantLifecycle that performs its decisions (store,
        // WhiteBIT, timers), the spool intake, the control commands, systemd.
        .target(name: "Daemon", dependencies: [
            "GrantLifecycle", "Scheduler", "Store", "PostgresStore", "Spool", "DaemonConfig", "WhiteBITClient", "ControlProtocol", "ControlSocket",
            "Systemd", "PKCE", "Sensitive", "BuildInfo", log, lifecycle,
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            "MetricsHTTP",
        ]),
        .testTarget(name: "DaemonTests", dependencies: [
            "Daemon", "GrantLifecycle", "Store", "PostgresStore", "PostgresHarness", "Spool", "WhiteBITSimHarness", "WBKeydHarness", "PKCE", "Sensitive", "UnixSocketAddress", grdb, log,
        ]),
        .executableTarget(name: "wbkeyd", dependencies: ["Daemon", "DaemonConfig", "Store", "PostgresStore", "Sensitive", "Systemd", "BuildInfo", "SysExits", argumentParser, log]),
        // `wbkeyd demo` runs this program beside it; it is not installed, so the daemon that
        // is does not link the test harness.
        .executableTarget(name: "wbkeyd-demo", dependencies: ["Demo", "DaemonConfig", argumentParser]),
        // `wbkeyd demo`: the real daemon and simulator on loopback, five users played through.
        .target(name: "Demo", dependencies: [
            "WBKeydHarness", "WhiteBITSimHarness", .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),

        // The admin client: one control-socket line per run, and `submit` for the spool.
        .executableTarget(name: "wbkeyctl", dependencies: ["ControlProtocol", "Spool", "Sensitive", "UnixSocketAddress", "BuildInfo", "SysExits", argumentParser]),
        .testTarget(name: "wbkeyctlTests", dependencies: ["wbkeyctl", "Spool", "Sensitive", "ControlProtocol", "UnixSocketAddress"]),
        // Benchmarks of the real binaries through the harness; not part of the test suite.
        .executableTarget(name: "wbkeyd-bench", dependencies: [
            "WBKeydHarness", "WhiteBITSimHarness", "WhiteBITClient", "Store", "GrantLifecycle", "Spool", "PKCE", "Sensitive",
            "UnixSocketAddress", "BuildInfo", "PostgresStore", "PostgresHarness", argumentParser, grdb, log,
        ]),
        // The control socket end to end: real wbkeyd, whitebit-sim, socat, wbkeyctl and
        // local accounts; every command, the access tiers, a protocol fuzz.
        .testTarget(name: "ControlEndToEndTests", dependencies: ["WBKeydHarness", "WhiteBITSimHarness", "PKCE", "Sensitive"]),

        // WhiteBIT played in memory (Model/, no I/O) and served over HTTP (HTTP/).
        .target(name: "WhiteBITSim", dependencies: ["PKCE", "Sensitive", crypto, hummingbird, log, nioCore, lifecycle]),
        .testTarget(name: "WhiteBITSimTests", dependencies: ["WhiteBITSim", "PKCE", "Sensitive", crypto]),
        .executableTarget(name: "whitebit-sim", dependencies: ["WhiteBITSim", "BuildInfo", argumentParser, hummingbird, log, lifecycle]),

        // Starts the real `whitebit-sim` process and drives its admin API; used by tests,
        // the demo and the benchmark.
        .target(name: "WhiteBITSimHarness", dependencies: ["PKCE", "Sensitive", "JSONString", httpClient, nioCore, nioHTTP1]),
        // Starts the real `wbkeyd` beside a real `whitebit-sim` in a private directory, and
        // drives it as systemd, a partner and an admin would: end-to-end tests, the demo, the
        // benchmark.
        .target(name: "WBKeydHarness", dependencies: ["WhiteBITSimHarness", "PostgresHarness", "Spool", "PKCE", "Sensitive", "JSONString", "UnixSocketAddress"]),
        // PR_SET_PDEATHSIG, then exec: a child that dies with the test process that started it.
        .executableTarget(name: "die-with-parent"),
        // A real PostgreSQL server (Debian's package) started by the test itself; runs processes only.
        .target(name: "PostgresHarness", dependencies: ["WhiteBITSimHarness"]),
        .testTarget(name: "PostgresHarnessTests", dependencies: ["PostgresHarness"]),

        // The README's command reference and the manual pages, rendered from the programs'
        // --experimental-dump-help; `command-reference` (not installed) writes them.
        .target(name: "CommandReference"),
        .testTarget(name: "CommandReferenceTests", dependencies: ["CommandReference", "WBKeydHarness"]),
        .executableTarget(name: "command-reference", dependencies: ["CommandReference", argumentParser]),

        .testTarget(name: "WhiteBITSimHarnessTests", dependencies: ["WhiteBITSimHarness", "PKCE", "Sensitive", httpClient, nioCore, nioHTTP1]),
    ],
    swiftLanguageModes: [.v6]
)
