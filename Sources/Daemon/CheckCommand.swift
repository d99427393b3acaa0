import ArgumentParser
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Logging

/// `nfs-cluster-provisioner check`: validate the configuration and test every member.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration (environment or --config) and test every member: reachable, writable, free space.",
        discussion: "Exit 0 when every member passes, 1 with a per-member table when one does not, 2 on a bad configuration.")

    @OptionGroup var source: ConfigurationOptions
    @Option(help: "Seconds to wait for each member's answer.")
    var timeout: Int = 10
    @Option(help: "table or json.")
    var output: OutputFormat = .table

    func run() async throws {
        guard (1...3600).contains(timeout) else { throw UsageError("--timeout must be between 1 and 3600 seconds, got \(timeout)") }
        let configuration = try source.load()
        var logger = Logger(label: "nfs-cluster-provisioner.check")
        logger.logLevel = .error  // the table says it all
        let registry: MemberRegistry
        do {
            registry = try MemberRegistry(
                members: configuration.members,
                storageConfiguration: MemberStorage.Configuration(operationTimeout: .seconds(timeout), probeTimeout: .seconds(timeout)),
                logger: logger, storeFactory: source.storeFactory())
        } catch {
            throw UsageError("\(configuration.source): \(error)")
        }
        var table = TextTable(columns: ["member", "address", "export", "mode", "state", "reachable+writable", "free", "total"])
        var rows: [[String: Any]] = []
        var failed = false
        // Members are tested concurrently: a hung one costs one timeout, not one per member.
        let results = await withTaskGroup(of: (Int, String?, FileSystemStats?).self) { group in
            for (i, entry) in registry.all.enumerated() {
                group.addTask {
                    do {
                        try await entry.storage.probe()
                        let stats = try await entry.storage.freeSpace()
                        return (i, nil, stats)
                    } catch {
                        return (i, "\(error)", nil)
                    }
                }
            }
            var out: [Int: (String?, FileSystemStats?)] = [:]
            for await (i, error, stats) in group { out[i] = (error, stats) }
            return out
        }
        for (i, entry) in registry.all.enumerated() {
            let m = entry.configuration
            let (error, stats) = results[i] ?? ("not tested", nil)
            if error != nil { failed = true }
            table.add([m.name, m.address, m.export, Self.modeDescription(m), m.state.rawValue, error.map { "FAILED: \($0)" } ?? "ok",
                       stats.map { Placement.formatBytes($0.availableBytes) } ?? "-", stats.map { Placement.formatBytes($0.totalBytes) } ?? "-"])
            rows.append(["member": m.name, "address": m.address, "export": m.export, "state": m.state.rawValue, "mode": m.mode.rawValue,
                         "nfsPort": m.nfsPort.map { Int($0) as Any } ?? NSNull(), "mountPort": m.mountPort.map { Int($0) as Any } ?? NSNull(),
                         "ok": error == nil, "error": error ?? NSNull(),
                         "availableBytes": stats.map { Int($0.availableBytes) as Any } ?? NSNull(),
                         "totalBytes": stats.map { Int($0.totalBytes) as Any } ?? NSNull()])
        }
        for entry in registry.all { entry.storage.shutdown() }
        switch output {
        case .table:
            print("configuration \(configuration.source): provisioner \(configuration.provisionerName), \(configuration.ring), \(configuration.members.count) members")
            print(table.rendered())
        case .json:
            try printJSON(["source": configuration.source, "provisionerName": configuration.provisionerName,
                           "ok": !failed, "members": rows])
        }
        if failed { throw ExitCode(1) }
    }

    /// "mounted", "direct" (ports from rpcbind) or "direct nfs:2049 mount:20048".
    static func modeDescription(_ member: MemberConfiguration) -> String {
        guard member.mode == .direct else { return member.mode.rawValue }
        let ports = [member.nfsPort.map { "nfs:\($0)" }, member.mountPort.map { "mount:\($0)" }].compactMap { $0 }
        return ([member.mode.rawValue] + ports).joined(separator: " ")
    }
}

/// Where the provisioner's configuration comes from: `--config`, else the original's
/// environment.
struct ConfigurationOptions: ParsableArguments {
    @Option(help: "Configuration file (YAML). Without it, the original's environment: PROVISIONER_NAME, NFS_SERVER, NFS_PATH, LOG.")
    var config: String?

    @Option(help: "Where mounted exports live in environment mode (<base>/<server>).")
    var mountBase: String = ProvisionerConfiguration.defaultMountBase

    @Flag(help: "Accept plain directories as mounted exports (tests and demos); by default a mount path must be a mount point.")
    var allowUnmountedExports = false

    func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProvisionerConfiguration {
        if let config { return try ProvisionerConfiguration.fromYAMLFile(config) }
        if environment["NFS_SERVER"] == nil && environment["PROVISIONER_NAME"] == nil {
            throw UsageError("no configuration: give --config FILE, or set PROVISIONER_NAME, NFS_SERVER and NFS_PATH")
        }
        return try ProvisionerConfiguration.fromEnvironment(environment, mountBase: mountBase)
    }

    func storeFactory() -> MemberRegistry.StoreFactory {
        MemberRegistry.standardFactory(requireMountPoints: !allowUnmountedExports)
    }
}
