// The ganesha configuration of a test server, its directories, and the shared rpcbind.
import Foundation
import Glibc

extension GaneshaServer {
    /// The configuration file (nfs-userspace.md §2, "Config details that matter"):
    /// - `Protocols = 3` only: the direct store speaks NFSv3;
    /// - `Mount_Path_Pseudo = true`, so that v3 MOUNT takes the pseudo path `/<name>`;
    /// - `Graceless = true`: no 90 s grace period after a (re)start;
    /// - no NLM, RQUOTA or UDP: fewer ports and registrations;
    /// - its own recovery directory, so that parallel servers share nothing.
    func configurationText() -> String {
        var text = """
            NFS_CORE_PARAM {
                Bind_Addr = 127.0.0.1; NFS_Port = \(nfsPort); MNT_Port = \(mountPort);
                Protocols = 3; Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false;
                Mount_Path_Pseudo = true; Plugins_Dir = "\(Self.pluginsDirectory)";
            }
            NFSV4 { Graceless = true; Lease_Lifetime = 10; RecoveryBackend = fs; RecoveryRoot = "\(directory.child("recovery"))"; Only_Numeric_Owners = true; }
            NFS_KRB5 { Active_krb5 = false; }
            LOG { Default_Log_Level = EVENT; }

            """
        for (index, export) in exports.enumerated() {
            text += """
                EXPORT {
                    Export_Id = \(index + 1); Path = "\(exportDirectory(export.name))"; Pseudo = "/\(export.name)";
                    Access_Type = RW; Squash = \(export.rootSquash ? "Root_Squash" : "No_Root_Squash");
                    SecType = sys; Protocols = 3; Transports = TCP; FSAL { Name = VFS; }
                }

                """
        }
        return text
    }

    /// Where Debian puts the FSAL plugins (libfsalvfs.so) for this architecture.
    static let pluginsDirectory: String = {
        let candidates = ["x86_64", "aarch64", "arm", "powerpc64le", "s390x", "riscv64"]
            .map { "/usr/lib/\($0)-linux-gnu/ganesha" } + ["/usr/lib64/ganesha", "/usr/lib/ganesha"]
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/libfsalvfs.so") }
            ?? "/usr/lib/x86_64-linux-gnu/ganesha"
    }()

    /// Export directories (tmpfs ones mounted), the recovery directory and the configuration.
    func prepareDirectories() throws(HelperError) {
        do {
            try directory.makeDirectory("recovery")
            for export in exports {
                let path = exportDirectory(export.name)
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                if let bytes = export.tmpfsBytes, !Self.isMountPoint(path) {
                    let result = try ChildProcess.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", path])
                    guard result.status == 0 else {
                        throw HelperError.commandFailed(command: "mount -t tmpfs \(path)", status: result.status, output: result.output)
                    }
                }
            }
            try Data(configurationText().utf8).write(to: URL(fileURLWithPath: directory.child("ganesha.conf")))
        } catch let error as HelperError {
            throw error
        } catch {
            throw .cannotStart(command: Self.executable, reason: "cannot prepare \(directory.path): \(error)")
        }
    }

    /// Unmounts the tmpfs exports (lazily: nothing may be left mounted under a directory
    /// that is about to be removed).
    func unmountTmpfs() {
        for export in exports where export.tmpfsBytes != nil {
            let path = exportDirectory(export.name)
            guard Self.isMountPoint(path) else { continue }
            do {
                _ = try ChildProcess.run("/usr/bin/umount", ["-l", path])
            } catch {
                FileHandle.standardError.write(Data("GaneshaServer: umount \(path): \(error)\n".utf8))
            }
        }
    }

    /// A different device than its parent's.
    static func isMountPoint(_ path: String) -> Bool {
        var own = stat()
        var parent = stat()
        guard lstat(path, &own) == 0, lstat(path + "/..", &parent) == 0 else { return false }
        return own.st_dev != parent.st_dev
    }
}

/// The machine's rpcbind (port 111), which ganesha needs to register NFSv3.
enum Rpcbind {
    static let executable = "/usr/sbin/rpcbind"
    static let rpcinfo = "/usr/sbin/rpcinfo"

    /// Starts rpcbind as a daemon unless something answers on port 111. It is a system
    /// service shared by every server and left running afterwards. (`-h 127.0.0.1`
    /// aborts with a double free on Debian 12, nfs-userspace.md §2.)
    static func ensureRunning() throws(HelperError) {
        if LoopbackPort.isListening(111) { return }
        // Not Foundation's Process: it notices a child's exit through a descriptor the
        // daemon inherits and keeps, so it would wait for the daemon. The starting process
        // exits once the daemon runs.
        let status = try ChildProcess.spawnAndWait(executable, ["-w"])
        guard status == 0 else {
            throw .commandFailed(command: "\(executable) -w", status: status, output: "")
        }
        guard HelperThread.poll(timeout: .seconds(10), { LoopbackPort.isListening(111) }) else {
            throw .notReady(what: "rpcbind", after: .seconds(10), log: "")
        }
    }

    /// Deletes the NFS v3 and MOUNT v1/v3 registrations, whoever made them, so that the
    /// next ganesha can register. "Could not delete" (nothing registered) is fine.
    static func deleteNFSRegistrations() {
        for (program, version) in [("100003", "3"), ("100005", "1"), ("100005", "3")] {
            do {
                _ = try ChildProcess.run(rpcinfo, ["-d", program, version])
            } catch {
                FileHandle.standardError.write(Data("GaneshaServer: rpcinfo -d \(program) \(version): \(error)\n".utf8))
            }
        }
    }
}
