// Fresh temporary directories, for the servers' files and for tests and benchmarks.
import Foundation
import Glibc

/// `mkdtemp` under `$TMPDIR` (default /tmp).
package enum TemporaryDirectories {
    /// `mkdtemp` failed in `base` with `errno`.
    package struct Failure: Error, Sendable {
        package let base: String
        package let errno: Int32
    }

    /// Creates `<tmp>/<prefix>.XXXXXX` (mode 0700) and returns its path.
    package static func make(prefix: String) throws(Failure) -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/" + prefix + ".XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> UnsafeMutablePointer<CChar>? in
            guard let pointer = buffer.baseAddress else { return nil }
            return mkdtemp(pointer)
        }
        guard let created else { throw Failure(base: base, errno: errno) }
        return String(cString: created)
    }
}
