// Reading the small local files the client depends on: kubeconfig, certificates, the
// service-account token, CA and namespace files. They live on local disk or a memory-backed
// projected volume and are a few KiB, so a bounded synchronous read is acceptable even on
// the cooperative pool (unlike NFS work, which never runs there: a dead server would hang
// a cooperative thread). The reason of a failure is the OS's own (`strerror`), e.g. "no
// such file".
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads files of at most `limit` bytes.
package enum LocalFile {
    /// Default limit: 4 MiB (a kubeconfig with many embedded certificates fits easily).
    package static let defaultLimit = 4 << 20

    /// Returns the file's bytes, or the reason it could not be read.
    package static func contents(of path: String, limit: Int = defaultLimit) -> Result<[UInt8], LocalFileError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(LocalFileError(path: path, reason: lastErrorText())) }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(LocalFileError(path: path, reason: lastErrorText()))
            }
            if count == 0 { break }
            result.append(contentsOf: buffer[0..<count])
            if result.count > limit {
                return .failure(LocalFileError(path: path, reason: "larger than \(limit) bytes"))
            }
        }
        return .success(result)
    }

    /// The file as UTF-8 text.
    package static func text(of path: String, limit: Int = defaultLimit) -> Result<String, LocalFileError> {
        contents(of: path, limit: limit).flatMap { bytes in
            guard let text = String(validating: bytes, as: UTF8.self) else {
                return .failure(LocalFileError(path: path, reason: "is not UTF-8 text"))
            }
            return .success(text)
        }
    }

    /// Whether a regular file or directory exists at `path`.
    package static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    private static func lastErrorText() -> String {
        guard let text = strerror(errno) else { return "error \(errno)" }
        return String(cString: text).lowercased()
    }
}

/// Why a local file could not be read.
package struct LocalFileError: Error, Sendable, Hashable, CustomStringConvertible {
    package var path: String
    package var reason: String

    package var description: String { "\(path): \(reason)" }
}
