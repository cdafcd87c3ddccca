// swift-tools-version: 6.1
import PackageDescription

// Dependencies are chosen on purpose (DESIGN.md §10); each one named here is used.
let package = Package(
    name: "wbkeyd",
    platforms: [.macOS(.v15)],
    products: [],
    dependencies: [
        // The config file is TOML (DESIGN.md §3); TOMLKit wraps toml++, a complete parser.
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        // A string that never prints itself: tokens, codes, verifiers, API secrets.
        .target(name: "Sensitive"),
        .testTarget(name: "SensitiveTests", dependencies: ["Sensitive"]),

        // wbkeyd.toml: loading, validation, credential files, reload diffs, control access.
        .target(
            name: "Configuration",
            dependencies: ["Sensitive", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration", "Sensitive"]),
    ],
    swiftLanguageModes: [.v6]
)
