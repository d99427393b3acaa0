// A small pool of NFS connections for one member, one per concurrent caller.
import Synchronization

/// Hands each calling thread its own ``NFSConnection`` (libnfs contexts are not
/// thread-safe) and keeps up to ``maxIdle`` of them for the next calls.
///
/// - A connection is checked out for one whole store operation and returned after it,
///   unless it is broken (timeout, transport failure): then it is destroyed, and the next
///   operation mounts a fresh one. That is how a restarted server is reconnected.
/// - An idle connection may have gone stale while it waited (the server restarted, or
///   closed an idle socket). When an operation fails with a *transport* error on a pooled
///   connection before the server answered anything, the operation runs once more on a
///   fresh connection. Never after a timeout (a hung server would cost two timeouts), never
///   after the server answered (the operation may have been half applied; the caller's
///   retry handles that, every operation being idempotent).
///
/// The pool never waits: with more concurrent callers than idle connections, it mounts
/// more. ``MemberStorage``'s executor bounds the callers (two threads by default).
final class NFSConnectionPool: Sendable {
    let endpoint: NFSConnection.Endpoint
    /// Idle connections kept beyond this are destroyed. Default 4.
    let maxIdle: Int
    private let idle = Mutex<[NFSConnection]>([])
    private let mounts = Atomic<Int>(0)

    init(endpoint: NFSConnection.Endpoint, maxIdle: Int) {
        self.endpoint = endpoint
        self.maxIdle = max(0, maxIdle)
    }

    deinit {
        let connections = idle.withLock { pool in
            defer { pool.removeAll() }
            return pool
        }
        for connection in connections { connection.destroy() }
    }

    /// Mounts done so far (one per fresh connection): for tests and metrics.
    var mountCount: Int { mounts.load(ordering: .relaxed) }

    /// Idle connections right now.
    var idleCount: Int { idle.withLock { $0.count } }

    /// Runs `body` with a connection of its own. `mapError` turns a mount failure into the
    /// caller's error type (the body maps its own).
    func withConnection<T>(
        mapError: (NFSCallError) -> StorageError,
        _ body: (NFSConnection) throws(StorageError) -> T
    ) throws(StorageError) -> T {
        var pooled = idle.withLock { $0.popLast() }
        var retried = false
        while true {
            let connection: NFSConnection
            let fromPool = pooled != nil
            if let taken = pooled {
                connection = taken
            } else {
                do throws(NFSCallError) {
                    connection = try NFSConnection(endpoint: endpoint)
                    mounts.add(1, ordering: .relaxed)
                } catch {
                    throw mapError(error)
                }
            }
            pooled = nil
            connection.resetReplyCount()
            do throws(StorageError) {
                let value = try body(connection)
                giveBack(connection)
                return value
            } catch {
                let staleIdle = fromPool && connection.isBroken && connection.repliesSinceCheckout == 0
                    && !Self.isTimeout(error)
                giveBack(connection)
                if staleIdle && !retried {
                    retried = true
                    continue
                }
                throw error
            }
        }
    }

    /// Destroys every idle connection (the next call mounts again).
    func drain() {
        let connections = idle.withLock { pool in
            defer { pool.removeAll() }
            return pool
        }
        for connection in connections { connection.destroy() }
    }

    private func giveBack(_ connection: NFSConnection) {
        if connection.isBroken {
            connection.destroy()
            return
        }
        let kept = idle.withLock { pool -> Bool in
            guard pool.count < maxIdle else { return false }
            pool.append(connection)
            return true
        }
        if !kept { connection.destroy() }
    }

    private static func isTimeout(_ error: StorageError) -> Bool {
        if case .timedOut = error { return true }
        return false
    }
}
