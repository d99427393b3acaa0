// Small filesystem helpers shared by the storage and engine tests.
import Glibc
import Foundation
import NFSServerHarness
package import VolumeStorage

/// `RelativePath` from a literal known to be valid.
package func rel(_ string: String) throws(StorageError) -> RelativePath {
    try RelativePath(string)
}

/// A local filesystem call of a test helper failed.
package struct LocalFileSystemError: Error, CustomStringConvertible {
    package var description: String
}

/// Writes zeros into `path` until the filesystem is full (ENOSPC).
package func fillFileSystem(at path: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw LocalFileSystemError(description: "cannot create \(path): errno \(errno)") }
    defer { close(fd) }
    let chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written < 0 {
            guard errno == ENOSPC else { throw LocalFileSystemError(description: "filling \(path) failed with errno \(errno)") }
            return
        }
    }
}

/// Runs a blocking `body` (a child process waited for, a slow file walk) on a thread of its
/// own and awaits it, so that it never holds one of the few threads every async test shares.
/// (The harness's `HelperThread.run` under the name the tests use.)
package func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await HelperThread.run(body)
}
