// swift-tools-version: 6.1
import PackageDescription

// Dependencies are chosen on purpose (DESIGN.md §10); each one named here is used.
let package = Package(
    name: "wbkeyd",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "WhiteBITClient", targets: ["WhiteBITClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
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
                "Sensitive",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
