// swift-tools-version: 6.1
import PackageDescription

// Dependencies are chosen on purpose (DESIGN.md §10); each one named here is used.
let package = Package(
    name: "wbkeyd",
    platforms: [.macOS(.v15)],
    products: [],
    dependencies: [],
    targets: [
        // A string that never prints itself: tokens, codes, verifiers, API secrets.
        .target(name: "Sensitive"),
        .testTarget(name: "SensitiveTests", dependencies: ["Sensitive"]),
        // Intake of spool files (DESIGN.md §4): claim, read, validate, reject, watch, submit.
        .target(name: "Spool", dependencies: ["Sensitive"]),
        .testTarget(name: "SpoolTests", dependencies: ["Spool", "Sensitive"]),
    ],
    swiftLanguageModes: [.v6]
)
