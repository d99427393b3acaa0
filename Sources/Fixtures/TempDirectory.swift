// A temporary directory per test, removed when the test is done with it.
import Foundation
import Glibc
import NFSServerHarness

/// A fresh directory under the system temporary directory (`mkdtemp`), removed by
/// ``remove()`` or when the value is released. Removal never follows symlinks.
package final class TempDirectory: Sendable {
    /// Absolute path of the directory.
    package let path: String

    /// Creates `<tmp>/<prefix>.XXXXXX`.
    package init(prefix: String = "ncp-test") throws {
        do throws(TemporaryDirectories.Failure) {
            path = try TemporaryDirectories.make(prefix: prefix)
        } catch {
            throw TempDirectoryError.cannotCreate(base: error.base, errno: error.errno)
        }
    }

    deinit {
        remove()
    }

    /// `path/relative`.
    package func child(_ relative: String) -> String {
        path + "/" + relative
    }

    /// Creates `path/relative` (with parents) and returns its path.
    @discardableResult
    package func makeDirectory(_ relative: String) throws -> String {
        let full = child(relative)
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        return full
    }

    /// Writes a file at `path/relative` (creating missing parent directories) and returns
    /// its path.
    @discardableResult
    package func writeFile(_ relative: String, _ contents: String) throws -> String {
        let full = child(relative)
        let parent = (full as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: full))
        return full
    }

    /// Same as ``writeFile(_:_:)``.
    @discardableResult
    package func write(_ relative: String, _ contents: String) throws -> String {
        try writeFile(relative, contents)
    }

    /// Removes `path/relative`.
    package func remove(_ relative: String) throws {
        try FileManager.default.removeItem(atPath: child(relative))
    }

    /// Removes the directory and everything in it (symlinks are removed, not followed).
    package func remove() {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            // Cleanup of a test directory must not fail the test; say what was left.
            FileHandle.standardError.write(Data("TempDirectory: could not remove \(path): \(error)\n".utf8))
        }
    }
}

/// Why a temporary directory could not be made.
package enum TempDirectoryError: Error, CustomStringConvertible {
    case cannotCreate(base: String, errno: Int32)

    package var description: String {
        switch self {
        case .cannotCreate(let base, let code): "mkdtemp in \(base) failed: errno \(code)"
        }
    }
}
