// swift-tools-version:6.1
//
// nfs-cluster-provisioner: a Kubernetes dynamic volume provisioner that spreads
// PersistentVolumes over many NFS servers with a consistent-hash ring.
//
// Layers point one way: Daemon -> Engine -> {KubeRuntime, VolumeStorage, RingCore}; RingCore
// -> CXXHash, VolumeStorage -> CNFS. LocalCluster (an
// in-process Kubernetes API server for tests and `demo`) and NFSServerHarness (nfs-ganesha
// on loopback for `demo --real-nfs` and the tests) are used by Daemon and the tests, never
// by Engine. See docs/ARCHITECTURE.md.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "nfs-cluster-provisioner",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "nfs-cluster-provisioner", targets: ["Daemon"]),
        .executable(name: "Benchmarks", targets: ["Benchmarks"]),
        .library(name: "RingCore", targets: ["RingCore"]),
        // Engine's public API uses KubeRuntime's and VolumeStorage's types (the client's
        // configuration, the member stores), so the product carries those modules too.
        .library(name: "Engine", targets: ["Engine", "KubeRuntime", "VolumeStorage"]),
        .library(name: "LocalCluster", targets: ["LocalCluster"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // libxxhash from Debian's libxxhash-dev, found through pkg-config.
        .systemLibrary(
            name: "CXXHash",
            pkgConfig: "libxxhash",
            providers: [.apt(["libxxhash-dev"])]
        ),
        // libnfs from Debian's libnfs-dev, for the direct NFS members (no mount in the pod).
        .systemLibrary(
            name: "CNFS",
            pkgConfig: "libnfs",
            providers: [.apt(["libnfs-dev"])]
        ),
        .target(
            name: "RingCore",
            dependencies: ["CXXHash"],
            swiftSettings: strict
        ),
        // Generic Kubernetes controller machinery: client, models, watch pipeline, caches,
        // work queue, events, leader election. Nothing in it knows about NFS.
        .target(
            name: "KubeRuntime",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // One NFS export as a blocking store (mounted or direct NFSv3), run per member on
        // dedicated threads with timeouts and a health state machine; ownership records.
        // Nothing in it knows about Kubernetes.
        .target(
            name: "VolumeStorage",
            dependencies: [
                "CNFS",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The provisioner: claim rules, placement, reconcilers, configuration, assembly.
        .target(
            name: "Engine",
            dependencies: [
                "RingCore",
                "KubeRuntime",
                "VolumeStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // nfs-ganesha on loopback (start, SIGSTOP/SIGCONT, kill, restart) for `demo --real-nfs`,
        // the tests and the benchmarks. Foundation only: its readiness check speaks ONC RPC
        // itself, so it does not depend on the NFS client it is used to test.
        .target(
            name: "NFSServerHarness",
            swiftSettings: strict
        ),
        .target(
            name: "LocalCluster",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "Daemon",
            dependencies: [
                "Engine", "KubeRuntime", "VolumeStorage",
                "RingCore",
                "LocalCluster",
                "NFSServerHarness",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ],
            // Built as an outside user of the libraries: it sees only `public` declarations, so
            // `public` is exactly what a user needs and the rest can stay `package`.
            packageAccess: false,
            swiftSettings: strict
        ),
        // `swift run -c release Benchmarks`: a plain executable that prints its own tables.
        // The storage and provisioning benchmarks drive Engine (and LocalCluster) against
        // nfs-ganesha servers started by NFSServerHarness (the same code the tests use);
        // Fixtures gives them bindfs, temporary directories and the engine test bed.
        .executableTarget(
            name: "Benchmarks",
            dependencies: ["RingCore", "CXXHash", "Engine", "KubeRuntime", "VolumeStorage", "LocalCluster", "NFSServerHarness", "Fixtures",
                           .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks",
            swiftSettings: strict
        ),
        // Fixtures the tests and the benchmarks share: an engine test bed on LocalCluster,
        // temporary directories, a counting fake store, bindfs mounts, a seeded generator,
        // ganesha members. No test framework and no test-only package in it.
        .target(
            name: "Fixtures",
            dependencies: [
                "Engine", "KubeRuntime", "VolumeStorage", "LocalCluster", "RingCore", "NFSServerHarness",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Shared fakes and helpers for the test targets (no tests of its own).
        .target(
            name: "TestSupport",
            dependencies: [
                "Engine", "KubeRuntime", "VolumeStorage",
                "LocalCluster",
                "NFSServerHarness", "Fixtures",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        // Swift Testing traits the test targets share (kept out of TestSupport, which the
        // Benchmarks executable links).
        .target(
            name: "TestTraits",
            dependencies: ["TestSupport"],
            path: "Tests/TestTraits",
            swiftSettings: strict
        ),
        .testTarget(
            name: "RingCoreTests",
            dependencies: ["RingCore", "TestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: ["Engine", "KubeRuntime", "VolumeStorage", "RingCore", "LocalCluster", "TestSupport", "TestTraits"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KubeRuntimeTests",
            dependencies: ["KubeRuntime", "LocalCluster", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VolumeStorageTests",
            dependencies: ["VolumeStorage", "NFSServerHarness", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "LocalClusterTests",
            dependencies: [
                "LocalCluster",
                "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                // Raw sockets to check the chunked framing byte by byte; TLS trust roots.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // TLSUserEvent: when a raw client's handshake completed.
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // End-to-end tests: they start the built `nfs-cluster-provisioner` binary.
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "TestSupport", "TestTraits", "LocalCluster", "Engine", "KubeRuntime", "VolumeStorage", "RingCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
    ]
)
