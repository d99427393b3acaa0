import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import NFSServerHarness

/// The real NFS servers of `demo --real-nfs`: one nfs-ganesha per member on 127.0.0.1,
/// serving `<demo directory>/nfs-<i>/exports/export` over NFSv3.
///
/// The members are `mode: direct` with explicit ports: only one server on a host can hold
/// the NFSv3 registration with rpcbind, so the provisioner could not find the others
/// through it. Every member has the same address (the PVs say `127.0.0.1:/export/...`);
/// what tells them apart is the ports, which only the provisioner uses.
struct DemoNFSServers {
    let servers: [(name: String, server: GaneshaServer)]

    /// Checks the prerequisites (root, packages, rpcbind), then starts `count` servers one
    /// by one, printing each. If one cannot start, those already started are stopped.
    /// - Throws: the harness's reason (print its ``HelperError/summary``).
    static func start(count: Int, root: String, show: DemoOutput) async throws(HelperError) -> DemoNFSServers {
        if !FileManager.default.isExecutableFile(atPath: GaneshaServer.executable) {
            show.line("  nfs-ganesha is not installed: installing \(GaneshaServer.packages.joined(separator: " ")) with apt-get")
        }
        try await HelperThread.run { () throws(HelperError) in try GaneshaServer.checkPrerequisites() }
        var started: [(name: String, server: GaneshaServer)] = []
        for i in 1...count {
            let name = "nfs-\(i)"
            do throws(HelperError) {
                let server = try await HelperThread.run { () throws(HelperError) in
                    try GaneshaServer.startBlocking(exports: [.init(name: "export")], directory: root + "/" + name)
                }
                started.append((name, server))
                show.line("  \(name): nfs-ganesha pid \(server.pid.map(String.init) ?? "?") on \(server.address), NFS port \(server.nfsPort), MOUNT port \(server.mountPort), serving \(server.exportDirectory())")
            } catch {
                for (_, server) in started { server.stop() }
                throw error
            }
        }
        return DemoNFSServers(servers: started)
    }

    /// One `mode: direct` member per server, with its ports.
    var members: [MemberConfiguration] {
        servers.map { name, server in
            MemberConfiguration(name: name, address: server.address, export: server.exportPath(), mountPath: nil,
                                mode: .direct, nfsPort: server.nfsPort, mountPort: server.mountPort)
        }
    }

    /// Member name → the directory its server exports.
    var localDirectories: [String: String] {
        Dictionary(uniqueKeysWithValues: servers.map { ($0.name, $0.server.exportDirectory()) })
    }

    /// Kills every server (their directories stay: the demo's directory is removed, or kept
    /// with --keep, by the demo).
    func stop() {
        for (_, server) in servers { server.stop() }
    }
}
