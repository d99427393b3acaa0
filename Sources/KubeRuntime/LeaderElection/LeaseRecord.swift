public import Foundation

/// The leader-election fields of a `coordination.k8s.io/v1` Lease's spec, as client-go's
/// resourcelock `LeaderElectionRecord` (tools/leaderelection/resourcelock/interface.go).
public struct LeaseRecord: Sendable, Hashable {
    /// Who holds the lease; "" means released (anyone may take it at once).
    public var holderIdentity: String
    /// How long the holder's claim lasts without renewal, as the holder wrote it.
    public var leaseDurationSeconds: Int
    public var acquireTime: Date
    public var renewTime: Date
    /// How many times the lease changed hands.
    public var leaseTransitions: Int

    public init(holderIdentity: String, leaseDurationSeconds: Int, acquireTime: Date, renewTime: Date, leaseTransitions: Int) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
    }
}

/// A versioned lease as read from or written to the API server.
public struct StoredLease: Sendable, Hashable {
    public var record: LeaseRecord
    /// Opaque; only ever sent back, compared for equality.
    public var resourceVersion: String

    public init(record: LeaseRecord, resourceVersion: String) {
        self.record = record
        self.resourceVersion = resourceVersion
    }
}

/// Reads and writes the one Lease an elector uses. The production implementation talks to
/// the API server (GET, POST, PUT with resourceVersion: no patch, no watch, like client-go's
/// LeaseLock); tests use an in-memory one.
public protocol LeaseStore: Sendable {
    /// The lease, or nil if it does not exist (404).
    func get() async throws(LeaseStoreError) -> StoredLease?
    /// Creates it; `.alreadyExists` if someone else did first.
    func create(_ record: LeaseRecord) async throws(LeaseStoreError) -> StoredLease
    /// Replaces it if its resourceVersion is still `resourceVersion`; `.conflict` otherwise.
    func update(_ record: LeaseRecord, resourceVersion: String) async throws(LeaseStoreError) -> StoredLease
}

public enum LeaseStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The write lost a race (409 Conflict): someone else wrote first.
    case conflict
    /// The create lost a race (409 AlreadyExists).
    case alreadyExists
    /// Anything else (network, 5xx, 403...), with the reason.
    case failed(String)

    public var description: String {
        switch self {
        case .conflict: return "the lease was changed by someone else (409 Conflict)"
        case .alreadyExists: return "the lease was created by someone else (409 AlreadyExists)"
        case .failed(let reason): return reason
        }
    }
}
