// The ganesha configuration of a server and its directories.
import Foundation
import Glibc

extension GaneshaServer {
    /// The configuration file (the settings that matter for a user-space server on
    /// loopback; ganesha's own reference: https://github.com/nfs-ganesha/nfs-ganesha,
    /// `src/config_samples/config.txt`):
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
            NFSV4 { Graceless = true; Lease_Lifetime = 10; RecoveryBackend = fs; RecoveryRoot = "\(directory)/recovery"; Only_Numeric_Owners = true; }
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
        // The paths go into quoted strings of ganesha's configuration language.
        if directory.contains(where: { $0 == "\"" || $0 == "\\" || $0.isNewline }) {
            throw .cannotStart(command: Self.executable, reason: "the directory \(directory.debugDescription) contains a quote, a backslash or a newline, which ganesha's configuration cannot hold")
        }
        for export in exports where export.name.isEmpty || export.name == "." || export.name == ".."
            || !export.name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
            throw .cannotStart(command: Self.executable, reason: "the export name \(export.name.debugDescription) must be letters, digits, '-', '_' or '.'")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory + "/recovery", withIntermediateDirectories: true)
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
            try Data(configurationText().utf8).write(to: URL(fileURLWithPath: directory + "/ganesha.conf"))
        } catch let error as HelperError {
            throw error
        } catch {
            throw .cannotStart(command: Self.executable, reason: "cannot prepare \(directory): \(error)")
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
