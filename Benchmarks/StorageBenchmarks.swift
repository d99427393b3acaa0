// Per-operation latency of the volume stores: direct NFSv3 (libnfs to a loopback
// nfs-ganesha) against the mounted store on a local directory and on a FUSE mount.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Glibc
import Fixtures
import NFSServerHarness

/// `swift run -c release Benchmarks storage`.
///
/// Each store runs the same sequence `runs` times: `mkdir` (a volume directory, 0777 with
/// chmod), `stat`, a marker `write` (temporary file + rename), `rename` (an archive) and the
/// `delete` of a small tree (4 directories and 4 files, made beforehand on the local disk).
/// Median and p90 per operation, in microseconds.
///
/// The stores:
/// - `direct NFSv3`: ``DirectNFSVolumeStore`` to an nfs-ganesha on 127.0.0.1, started here
///   with the test helper (TestSupport's ``GaneshaServer``: the same code as the tests, so
///   the benchmark needs no script of its own);
/// - `mounted, local dir`: ``MountedVolumeStore`` on a temporary directory (the floor: no
///   network, no FUSE);
/// - `mounted, bindfs (FUSE)`: the same on a bindfs mount of a temporary directory, a
///   user-space filesystem round trip per call (the closest thing to a mounted NFS export
///   on machines without kernel NFS).
///
/// A store whose server cannot be started is reported as a note, not measured.
enum StorageBenchmarks {
    static func run(_ reporter: Reporter, quick: Bool) {
        let runs = quick ? 30 : 200
        var table = Table(
            id: "storage-latency",
            title: "Volume store latency per operation (µs, \(runs) runs each)",
            note: "mkdir = makeDirectory(0777) + chmod; write = marker file via temp + rename; "
                + "delete = removeTree of 4 dirs + 4 files. Loopback; a shared 2-core machine is noisy: compare medians.",
            columns: ["store", "operation", "median µs", "p90 µs", "NFSv3 calls (direct)"])
        var notes: [String] = []

        let stores = makeStores(&notes)
        for (name, store, local, cleanup) in stores {
            let results = measureStore(store, localRoot: local, runs: runs)
            let isDirect = store is DirectNFSVolumeStore
            for (operation, samples) in results {
                table.add(.text(name), .text(operation), .number(percentile(samples, 0.5), digits: 0),
                          .number(percentile(samples, 0.9), digits: 0), .text(isDirect ? costs[operation] ?? "" : ""))
            }
            cleanup()
        }
        if !notes.isEmpty {
            table = Table(id: table.id, title: table.title, note: table.note + " " + notes.joined(separator: " "),
                          columns: table.columns, rows: table.rows)
        }
        reporter.emit(table)
    }

    /// What one operation costs on the direct store (NFSv3 RPCs), for reading the table.
    private static let costs = [
        "mkdir": "MKDIR, SETATTR",
        "stat": "LOOKUP",
        "write": "2 LOOKUP, CREATE, WRITE, SETATTR, RENAME",
        "rename": "2 LOOKUP, RENAME",
        "delete": "LOOKUP, 10 READDIRPLUS, 4 REMOVE, 5 RMDIR",
    ]

    private typealias Subject = (name: String, store: any VolumeStore, localRoot: String, cleanup: () -> Void)

    private static func makeStores(_ notes: inout [String]) -> [Subject] {
        var subjects: [Subject] = []
        do {
            let server = try GaneshaServer.startBlocking()
            let store = try DirectNFSVolumeStore(configuration: server.storeConfiguration(member: "bench", timeout: .seconds(5)))
            subjects.append(("direct NFSv3 (ganesha)", store, server.exportDirectory(), { server.stop() }))
        } catch {
            notes.append("direct NFSv3 not measured: \(error).")
        }
        do {
            let directory = try TempDirectory(prefix: "ncp-bench-local")
            let store = try MountedVolumeStore(configuration: .init(member: "bench", mountPath: directory.path, requireMountPoint: false))
            subjects.append(("mounted, local dir", store, directory.path, { directory.remove() }))
        } catch {
            notes.append("local mounted store not measured: \(error).")
        }
        do {
            let directory = try TempDirectory(prefix: "ncp-bench-fuse")
            let source = try directory.makeDirectory("source")
            let mountPoint = try directory.makeDirectory("mnt")
            let mount = try BindfsMount.startBlocking(source: source, mountPoint: mountPoint)
            let store = try MountedVolumeStore(configuration: .init(member: "bench", mountPath: mountPoint))
            subjects.append(("mounted, bindfs (FUSE)", store, source, { mount.unmount(); directory.remove() }))
        } catch {
            notes.append("bindfs mounted store not measured: \(error).")
        }
        return subjects
    }

    /// Runs the sequence `runs` times (plus one warm-up); microseconds per operation.
    private static func measureStore(_ store: any VolumeStore, localRoot: String, runs: Int) -> [(String, [Double])] {
        var samples: [String: [Double]] = [:]
        let marker = Array(String(repeating: "m", count: 300).utf8)
        for index in -1..<runs {
            do {
                let volume = try RelativePath("vol-\(index + 1)")
                let archived = try RelativePath("archived-\(index + 1)")
                let tree = "tree-\(index + 1)"
                try makeLocalTree(localRoot + "/" + tree)
                let steps: [(String, () throws -> Void)] = [
                    ("mkdir", { _ = try store.makeDirectory(volume, mode: .defaultDirectory, parentMode: nil) }),
                    ("stat", { _ = try store.stat(volume) }),
                    ("write", { try store.writeFile(volume.appending("record.json"), contents: marker, mode: .record) }),
                    ("rename", { try store.rename(volume, to: archived) }),
                    ("delete", { _ = try store.removeTree(RelativePath(tree), budget: nil) }),
                ]
                for (name, step) in steps {
                    let start = nowNanos()
                    try step()
                    if index >= 0 { samples[name, default: []].append(Double(nowNanos() - start) / 1000) }
                }
            } catch {
                FileHandle.standardError.write(Data("storage benchmark: run \(index) failed: \(error)\n".utf8))
                break
            }
        }
        return ["mkdir", "stat", "write", "rename", "delete"].map { ($0, samples[$0] ?? []) }
    }

    /// `root/{a,b,c,d}/file`: 4 directories and 4 files of 4 bytes, with plain syscalls
    /// (Foundation's `Data.write` goes through a temporary file and a rename).
    private static func makeLocalTree(_ root: String) throws {
        for name in ["a", "b", "c", "d"] {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
            let fd = open(root + "/" + name + "/file", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            let written = write(fd, "data", 4)
            let code = errno
            close(fd)
            guard written == 4 else { throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO) }
        }
    }

    private static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }
}
