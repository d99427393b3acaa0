import Foundation
public import Logging
public import ServiceLifecycle
public import KubeRuntime
import VolumeStorage

/// Re-reads a configuration file when it changes and hands a valid new configuration to
/// the engine; a file that cannot be used is rejected with the reason logged, and the
/// running configuration stays.
///
/// It polls: it compares the file's *content* every `interval`, following symlinks on each
/// read. Kubernetes updates a mounted ConfigMap by swapping a symlink (`..data`) to a new
/// directory, which an inotify watch on the file itself misses; reading through the path
/// sees the new content. A change that is only touched (same bytes) does nothing.
public struct ConfigurationFileWatcher: Service {
    public let path: String
    package let interval: Duration
    package let apply: @Sendable (ProvisionerConfiguration) async throws -> Void
    package let logger: Logger
    /// The clock its polls sleep on (the engine's, ``ProvisionerEngine/clock``).
    public let clock: any EngineClock

    public init(path: String, interval: Duration, clock: any EngineClock = SystemEngineClock(), logger: Logger,
                apply: @escaping @Sendable (ProvisionerConfiguration) async throws -> Void) {
        self.path = path
        self.interval = interval
        self.clock = clock
        self.logger = logger
        self.apply = apply
    }

    public func run() async throws {
        let initial = try? Self.read(path).get()
        await cancelWhenGracefulShutdown {
            var last = initial
            while !Task.isCancelled {
                do { try await clock.sleep(for: interval) } catch { return }
                last = await check(last)
            }
        }
    }

    /// One check; returns the content now considered current.
    func check(_ last: Data?) async -> Data? {
        let content: Data
        switch Self.read(path) {
        case .success(let bytes): content = bytes
        case .failure(let error):
            logger.warning("cannot read the configuration file; keeping the running configuration",
                           metadata: ["path": "\(path)", "error": "\(error.reason)"])
            return last
        }
        guard content != last else { return last }
        do {
            let configuration = try ProvisionerConfiguration.fromYAML(String(decoding: content, as: UTF8.self), source: path)
            try await apply(configuration)
            logger.info("applied the changed configuration file", metadata: ["path": "\(path)"])
        } catch {
            logger.error("rejected the changed configuration file; keeping the running configuration",
                         metadata: ["path": "\(path)", "reason": "\(error)"])
        }
        // Either way this content has been judged; a later edit is judged again.
        return content
    }

    /// The file's bytes, at most the configuration's size limit (a bigger file is an error,
    /// and is never read in full).
    static func read(_ path: String) -> Result<Data, LocalFileError> {
        LocalFile.contents(of: path, limit: BoundedYAML.Limits.configuration.maximumBytes).map { Data($0) }
    }
}
