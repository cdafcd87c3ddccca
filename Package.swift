// swift-tools-version: 6.1
import PackageDescription

// Dependencies are chosen on purpose (DESIGN.md §10); each one named here is used.
let package = Package(
    name: "wbkeyd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "whitebit-sim", targets: ["whitebit-sim"]),
        .library(name: "PKCE", targets: ["PKCE"]),
        .library(name: "WhiteBITClient", targets: ["WhiteBITClient"]),
        .library(name: "WhiteBITSim", targets: ["WhiteBITSim"]),
        .library(name: "WhiteBITSimHarness", targets: ["WhiteBITSimHarness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // A string that never prints itself: tokens, codes, verifiers, API secrets.
        .target(name: "Sensitive"),
        .testTarget(name: "SensitiveTests", dependencies: ["Sensitive"]),

        // The calls wbkeyd makes to WhiteBIT (whitebit-api.md §3), with deadlines,
        // a rate limit, a concurrency limit and errors that never carry a secret.
        .target(
            name: "WhiteBITClient",
            dependencies: [
                "Sensitive",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "WhiteBITClientTests",
            dependencies: [
                "WhiteBITClient",
                "WhiteBITSimHarness",
                "PKCE",
                "Sensitive",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // RFC 7636 verifier, S256 challenge and OAuth state: shared by the simulator,
        // its harness and the daemon's `authorize-url`.
        .target(name: "PKCE", dependencies: ["Sensitive", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "PKCETests", dependencies: ["PKCE", "Sensitive"]),

        // WhiteBIT played in memory (Model/, no I/O) and served over HTTP (HTTP/).
        .target(
            name: "WhiteBITSim",
            dependencies: [
                "PKCE", "Sensitive",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "WhiteBITSimTests", dependencies: ["WhiteBITSim", "PKCE", "Sensitive"]),

        .executableTarget(
            name: "whitebit-sim",
            dependencies: [
                "WhiteBITSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Starts the real `whitebit-sim` process and drives its admin API; used by tests,
        // the demo and the benchmark.
        .target(
            name: "WhiteBITSimHarness",
            dependencies: [
                "PKCE", "Sensitive",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "WhiteBITSimHarnessTests",
            dependencies: [
                "WhiteBITSimHarness", "PKCE", "Sensitive",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
