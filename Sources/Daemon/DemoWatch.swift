import Engine
import KubeRuntime
import Logging

/// The demo's view of the cluster: claims and PVs cached from watches, with the engine's
/// own machinery (``Watcher`` and ``Store``), so that waiting for 10,000 claims costs their
/// watch events, not a list of everything every few milliseconds.
final class DemoWatch: Sendable {
    let volumes = Store<PersistentVolume>()
    let claims = Store<PersistentVolumeClaim>()
    private let task: Task<Void, Never>

    init(client: KubeClient, logger: Logger) {
        let volumes = self.volumes
        let claims = self.claims
        task = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await Reflector(source: Watcher<PersistentVolume>(client: client).backoff(), store: volumes, logger: logger).consume() }
                group.addTask { await Reflector(source: Watcher<PersistentVolumeClaim>(client: client).backoff(), store: claims, logger: logger).consume() }
            }
        }
    }

    func stop() {
        task.cancel()
        volumes.finish()
        claims.finish()
    }

    /// Gathers one item per key from the objects of `store`, the cached ones first and then
    /// as they change, until `count` keys have one; `each` is told of every new item with
    /// how many there are. Throws ``DemoError/timedOut(_:)`` after `timeout`.
    func collect<Object: KubeResource, Item: Sendable>(
        _ what: String, from store: Store<Object>, count: Int, timeout: Duration,
        select: @escaping @Sendable (Object) -> (String, Item)?,
        each: @escaping @Sendable (Int, String, Item) -> Void = { _, _, _ in }
    ) async throws -> [String: Item] {
        let changes = store.changes(includeExisting: true)
        let found = await withTaskGroup(of: [String: Item]?.self) { group in
            group.addTask {
                var found: [String: Item] = [:]
                if count <= 0 { return found }
                for await key in changes {
                    guard let object = store.get(key), let (name, item) = select(object), found[name] == nil else { continue }
                    found[name] = item
                    each(found.count, name, item)
                    if found.count >= count { return found }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let found else { throw DemoError.timedOut(what) }
        return found
    }

    /// Waits until `condition` holds, looking again after every change of `store`.
    func until<Object: KubeResource>(_ what: String, on store: Store<Object>, timeout: Duration,
                                     _ condition: @escaping @Sendable () -> Bool) async throws {
        let changes = store.changes(includeExisting: false)
        if condition() { return }
        let held = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in changes where condition() { return true }
                return false
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !held && !condition() { throw DemoError.timedOut(what) }
    }
}
