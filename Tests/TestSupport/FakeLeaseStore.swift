import Engine
package import KubeRuntime
import VolumeStorage
import Synchronization

/// An in-memory Lease with the API server's optimistic concurrency: every write bumps the
/// resourceVersion; an update with a stale one is a conflict; a create of an existing one
/// is AlreadyExists. Shared by several ``FakeLeaseStore`` handles (one per candidate), each
/// of which can be cut off to play a network partition.
package final class FakeLeaseBackend: Sendable {
    private let state = Mutex<(lease: StoredLease?, version: Int, writes: Int)>((nil, 0, 0))

    package init() {}

    package var lease: StoredLease? { state.withLock { $0.lease } }
    package var writeCount: Int { state.withLock { $0.writes } }

    func get() -> StoredLease? { state.withLock { $0.lease } }

    func create(_ record: LeaseRecord) throws(LeaseStoreError) -> StoredLease {
        try state.withLock { s throws(LeaseStoreError) -> StoredLease in
            if s.lease != nil { throw .alreadyExists }
            s.version += 1
            s.writes += 1
            let stored = StoredLease(record: record, resourceVersion: String(s.version))
            s.lease = stored
            return stored
        }
    }

    func update(_ record: LeaseRecord, resourceVersion: String) throws(LeaseStoreError) -> StoredLease {
        try state.withLock { s throws(LeaseStoreError) -> StoredLease in
            guard let current = s.lease else { throw .failed("404 NotFound") }
            guard current.resourceVersion == resourceVersion else { throw .conflict }
            s.version += 1
            s.writes += 1
            let stored = StoredLease(record: record, resourceVersion: String(s.version))
            s.lease = stored
            return stored
        }
    }
}

package final class FakeLeaseStore: LeaseStore {
    package let backend: FakeLeaseBackend
    private let partitioned = Atomic<Bool>(false)

    package init(backend: FakeLeaseBackend) { self.backend = backend }

    /// While true, every call fails like an unreachable API server.
    package func setPartitioned(_ value: Bool) { partitioned.store(value, ordering: .sequentiallyConsistent) }

    private func check() throws(LeaseStoreError) {
        if partitioned.load(ordering: .sequentiallyConsistent) { throw .failed("connection refused (test partition)") }
    }

    package func get() async throws(LeaseStoreError) -> StoredLease? {
        try check()
        return backend.get()
    }

    package func create(_ record: LeaseRecord) async throws(LeaseStoreError) -> StoredLease {
        try check()
        return try backend.create(record)
    }

    package func update(_ record: LeaseRecord, resourceVersion: String) async throws(LeaseStoreError) -> StoredLease {
        try check()
        return try backend.update(record, resourceVersion: resourceVersion)
    }
}
