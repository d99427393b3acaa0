import Foundation

/// The decisions of one leader-election attempt, client-go's `tryAcquireOrRenew`
/// (tools/leaderelection/leaderelection.go), as a value type: the owner performs the
/// reads and writes and feeds the results back, so every case is a unit test without I/O.
///
/// Time: expiry is judged only by the *local* time at which this process last saw the
/// record change (`observedTime`), never by comparing the record's timestamps with the
/// local wall clock, so clock offsets between nodes do not matter (client-go's design;
/// docs/kubernetes-api-behaviour.md, "Leader election on a Lease"). Wall-clock dates are
/// written into the record for humans.
struct LeaderElectionStateMachine<Instant: InstantProtocol> where Instant.Duration == Duration {
    let identity: String
    let leaseDuration: Duration
    let leaseDurationSeconds: Int

    private(set) var observed: StoredLease?
    private(set) var observedTime: Instant?

    init(configuration: LeaderElectionConfiguration) {
        identity = configuration.identity
        leaseDuration = configuration.leaseDuration
        leaseDurationSeconds = configuration.leaseDurationSeconds
    }

    /// Whether the last observed record names this process and is still valid locally.
    func isLeader(now: Instant) -> Bool {
        guard let observed, let observedTime, observed.record.holderIdentity == identity else { return false }
        return observedTime.advanced(by: leaseDuration) > now
    }

    /// The holder as last observed ("" = released), nil before the first read.
    var observedHolder: String? { observed?.record.holderIdentity }

    enum FirstStep: Equatable {
        /// Fast path: we lead and our cached lease is valid; PUT it with a new renew time.
        case renewCached(LeaseRecord, resourceVersion: String)
        /// Read the lease first.
        case get
    }

    func begin(now: Instant, wallNow: Date) -> FirstStep {
        guard isLeader(now: now), let observed else { return .get }
        var record = observed.record
        record.renewTime = wallNow
        record.leaseDurationSeconds = leaseDurationSeconds
        return .renewCached(record, resourceVersion: observed.resourceVersion)
    }

    enum AfterGet: Equatable {
        case create(LeaseRecord)
        case update(LeaseRecord, resourceVersion: String)
        /// Someone else holds a lease that has not expired by our local observation.
        case held(by: String)
    }

    /// Decides what to write after reading the lease (nil = it does not exist).
    mutating func afterGet(_ lease: StoredLease?, now: Instant, wallNow: Date) -> AfterGet {
        guard let lease else {
            return .create(LeaseRecord(holderIdentity: identity, leaseDurationSeconds: leaseDurationSeconds,
                                       acquireTime: wallNow, renewTime: wallNow, leaseTransitions: 0))
        }
        // A changed record restarts the expiry clock; an unchanged one keeps it.
        if observed?.record != lease.record || observedTime == nil {
            observedTime = now
        }
        observed = lease
        let record = lease.record
        if !record.holderIdentity.isEmpty && record.holderIdentity != identity,
           let observedTime, observedTime.advanced(by: .seconds(record.leaseDurationSeconds)) > now {
            return .held(by: record.holderIdentity)
        }
        var next = record
        if record.holderIdentity != identity {
            next.acquireTime = wallNow
            next.leaseTransitions = record.leaseTransitions + 1
        }
        next.holderIdentity = identity
        next.leaseDurationSeconds = leaseDurationSeconds
        next.renewTime = wallNow
        return .update(next, resourceVersion: lease.resourceVersion)
    }

    /// Records a successful write (create or update): we hold the lease as of `now`.
    mutating func written(_ lease: StoredLease, now: Instant) {
        observed = lease
        observedTime = now
    }

    /// The record that releases the lease (empty holder, 1 s duration, so anyone may take
    /// it at once), if we hold it.
    func releaseRecord(wallNow: Date) -> (LeaseRecord, resourceVersion: String)? {
        guard let observed, observed.record.holderIdentity == identity else { return nil }
        let record = LeaseRecord(holderIdentity: "", leaseDurationSeconds: 1, acquireTime: wallNow, renewTime: wallNow,
                                 leaseTransitions: observed.record.leaseTransitions)
        return (record, observed.resourceVersion)
    }
}
