// Why a real-server helper failed.
import Glibc

/// Why a real-server helper could not do its job. Tests that need the server fail with
/// ``description`` (they are never skipped silently); `demo --real-nfs` prints ``summary``.
public enum HelperError: Error, CustomStringConvertible, Sendable {
    /// The process (or a step before it) could not be started.
    case cannotStart(command: String, reason: String)
    /// The packages are missing and `apt-get` could not install them; its output's end.
    case packagesUnavailable(packages: [String], log: String)
    /// Started but not answering within `after`; the server's log.
    case notReady(what: String, after: Duration, log: String)
    /// Exited while starting.
    case exited(what: String, status: Int32, log: String)
    /// A helper command (mount, umount, rpcbind) failed.
    case commandFailed(command: String, status: Int32, output: String)
    /// The helper must run as root.
    case needsRoot(what: String, why: String)

    public var description: String {
        switch self {
        case .cannotStart(let command, let reason):
            "cannot start \(command): \(reason)"
        case .packagesUnavailable(let packages, let log):
            "the Debian packages \(packages.joined(separator: " ")) are missing and apt-get could not install them:\n\(log)"
        case .notReady(let what, let after, let log):
            "\(what) did not become ready within \(after); log:\n\(log)"
        case .exited(let what, let status, let log):
            "\(what) exited with status \(status) while starting; log:\n\(log)"
        case .commandFailed(let command, let status, let output):
            "\(command) failed with status \(status): \(output)"
        case .needsRoot(let what, let why):
            "\(what) needs root (running as uid \(Glibc.geteuid())): \(why)"
        }
    }

    /// The reason on one line (no logs), for a command-line message: the first line of
    /// ``description``, with the last non-empty line of the output or log appended where
    /// it says more (apt-get's last complaint).
    public var summary: String {
        switch self {
        case .packagesUnavailable(let packages, let log):
            let last = Self.lastLine(log).map { ": apt-get said \"\($0)\"" } ?? ""
            return "the Debian packages \(packages.joined(separator: " ")) are missing and apt-get could not install them\(last)"
        case .commandFailed(let command, let status, let output):
            let last = Self.lastLine(output).map { ": \($0)" } ?? ""
            return "\(command) failed with status \(status)\(last)"
        case .notReady(let what, let after, _):
            return "\(what) did not become ready within \(after)"
        case .exited(let what, let status, _):
            return "\(what) exited with status \(status) while starting"
        case .cannotStart, .needsRoot:
            return description.split(separator: "\n").first.map(String.init) ?? description
        }
    }

    private static func lastLine(_ text: String) -> String? {
        text.split(whereSeparator: \.isNewline).last { !$0.allSatisfy(\.isWhitespace) }.map(String.init)
    }
}
