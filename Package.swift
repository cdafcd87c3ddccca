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
        // The grant state machine of DESIGN.md §5: pure, no I/O, no clock.
        .target(name: "Lifecycle"),
        .testTarget(name: "LifecycleTests", dependencies: ["Lifecycle"]),
        // One heap of deadlines for every grant, one loop.
        .target(name: "Scheduler"),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler"]),
    ],
    swiftLanguageModes: [.v6]
)
