// swift-tools-version: 6.1
import PackageDescription

// Dependencies are chosen on purpose (DESIGN.md §10); each one named here is used.
let package = Package(
    name: "wbkeyd",
    platforms: [.macOS(.v15)],
    products: [],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // The config file is TOML (DESIGN.md §3); TOMLKit wraps toml++, a complete parser.
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
    ],
    targets: [
        // A string that never prints itself: tokens, codes, verifiers, API secrets.
        .target(name: "Sensitive"),
        .testTarget(name: "SensitiveTests", dependencies: ["Sensitive"]),
        // The grant state machine of DESIGN.md §5: pure, no I/O, no clock.
        .target(name: "Lifecycle"),
        .testTarget(name: "LifecycleTests", dependencies: ["Lifecycle"]),
        // One heap of deadlines for every grant, one loop.
        .target(name: "Scheduler"),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler"]),
        // The control socket's language: commands, tiers, text and JSON replies. No I/O.
        .target(name: "ControlProtocol", dependencies: ["Lifecycle", "Sensitive"]),
        .testTarget(name: "ControlProtocolTests", dependencies: ["ControlProtocol", "Lifecycle", "Sensitive"]),
        // The control socket itself: Unix stream socket, SO_PEERCRED, limits.
        .target(name: "ControlSocket", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ControlSocketTests", dependencies: ["ControlSocket", .product(name: "Logging", package: "swift-log")]),
        // libsystemd: sd_notify, the watchdog, socket activation, the journal.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(name: "Systemd", dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "SystemdTests", dependencies: ["Systemd", .product(name: "Logging", package: "swift-log")]),

        // wbkeyd.toml: loading, validation, credential files, reload diffs, control access.
        .target(
            name: "Configuration",
            dependencies: ["Sensitive", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration", "Sensitive"]),
        // Intake of spool files (DESIGN.md §4): claim, read, validate, reject, watch, submit.
        .target(name: "Spool", dependencies: ["Sensitive"]),
        .testTarget(name: "SpoolTests", dependencies: ["Spool", "Sensitive"]),

        // The SQLite store: pool and migrations, sealed secrets, the hash-chained audit log.
        .target(
            name: "Store",
            dependencies: [
                "Sensitive",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "Store", "Sensitive",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
