// swift-tools-version: 6.1
import PackageDescription

// Dependencies are chosen on purpose (DESIGN.md §10); each one named here is used.
let package = Package(
    name: "wbkeyd",
    platforms: [.macOS(.v15)],
    products: [],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
    ],
    targets: [
        // A string that never prints itself: tokens, codes, verifiers, API secrets.
        .target(name: "Sensitive"),
        .testTarget(name: "SensitiveTests", dependencies: ["Sensitive"]),

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
