package import Foundation

/// The leader-election fields of a `coordination.k8s.io/v1` Lease's spec, as client-go's
/// resourcelock `LeaderElectionRecord` (tools/leaderelection/resourcelock/interface.go).
package struct LeaseRecord: Sendable, Hashable {
    /// Who holds the lease; "" means released (anyone may take it at once).
    package var holderIdentity: String
    /// How long the holder's claim lasts without renewal, as the holder wrote it.
    package var leaseDurationSeconds: Int
    package var acquireTime: Date
    package var renewTime: Date
    /// How many times the lease changed hands.
    package var leaseTransitions: Int

    package init(holderIdentity: String, leaseDurationSeconds: Int, acquireTime: Date, renewTime: Date, leaseTransitions: Int) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
    }
}

/// A versioned lease as read from or written to the API server.
package struct StoredLease: Sendable, Hashable {
    package var record: LeaseRecord
    /// Opaque; only ever sent back, compared for equality.
    package var resourceVersion: String

    package init(record: LeaseRecord, resourceVersion: String) {
        self.record = record
        self.resourceVersion = resourceVersion
    }
}

/// Reads and writes the one Lease an elector uses. The production implementation talks to
/// the API server (GET, POST, PUT with resourceVersion: no patch, no watch, like client-go's
/// LeaseLock); tests use an in-memory one.
package protocol LeaseStore: Sendable {
    /// The lease, or nil if it does not exist (404).
    func get() async throws(LeaseStoreError) -> StoredLease?
    /// Creates it; `.alreadyExists` if someone else did first.
    func create(_ record: LeaseRecord) async throws(LeaseStoreError) -> StoredLease
    /// Replaces it if its resourceVersion is still `resourceVersion`; `.conflict` otherwise.
    func update(_ record: LeaseRecord, resourceVersion: String) async throws(LeaseStoreError) -> StoredLease
}

package enum LeaseStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The write lost a race (409 Conflict): someone else wrote first.
    case conflict
    /// The create lost a race (409 AlreadyExists).
    case alreadyExists
    /// Anything else (network, 5xx, 403...), with the reason.
    case failed(String)

    package var description: String {
        switch self {
        case .conflict: return "the lease was changed by someone else (409 Conflict)"
        case .alreadyExists: return "the lease was created by someone else (409 AlreadyExists)"
        case .failed(let reason): return reason
        }
    }
}
