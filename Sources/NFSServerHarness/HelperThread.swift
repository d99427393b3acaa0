// Blocking helper work on its own threads, and the Debian packages the helpers install.
import Foundation
import Glibc

/// Blocking helper work off the Swift cooperative pool.
public enum HelperThread {
    /// Runs `body` on a new thread and returns its result: process starts, polls and waits
    /// block, and must not occupy the (two, here) cooperative threads.
    /// The error keeps its type (`HelperError` from the harness's blocking calls).
    public static func run<T: Sendable, Failure: Error>(
        _ body: @escaping @Sendable () throws(Failure) -> T
    ) async throws(Failure) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, Failure>, Never>) in
            let thread = Thread {
                continuation.resume(returning: Result { () throws(Failure) -> T in try body() })
            }
            thread.start()
        }
        return try result.get()
    }

    /// Blocks the calling (helper) thread for `duration`.
    package static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        nanosleep(&request, nil)
    }

    /// Calls `condition` every 20 ms until it is true or `timeout` passed (blocking).
    @discardableResult
    package static func poll(timeout: Duration, interval: Duration = .milliseconds(20), _ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            if condition() { return true }
            if ContinuousClock.now >= deadline { return false }
            sleep(interval)
        }
    }
}

/// Debian packages the real-server helpers need, installed once per process when missing.
package enum HelperPackages {
    /// Installs `packages` unless `probe` exists; `apt-get update` first if the install
    /// fails (a fresh machine may have no package lists). Blocking.
    package static func ensure(_ packages: [String], probe: String) throws(HelperError) {
        if FileManager.default.isExecutableFile(atPath: probe) { return }
        let apt = "/usr/bin/apt-get"
        let install = ["install", "-y", "-q"] + packages
        let quiet = ["DEBIAN_FRONTEND": "noninteractive"]
        var result = try ChildProcess.run(apt, install, environment: quiet)
        if result.status != 0 {
            _ = try ChildProcess.run(apt, ["update", "-q"], environment: quiet)
            result = try ChildProcess.run(apt, install, environment: quiet)
        }
        guard result.status == 0, FileManager.default.isExecutableFile(atPath: probe) else {
            throw .packagesUnavailable(packages: packages, log: String(result.output.suffix(2000)))
        }
    }
}
