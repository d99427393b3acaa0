/// Leader-election timing, client-go's defaults ("core clients default",
/// tools/leaderelection/leaderelection.go): a lease lasts 15 s, the leader must renew
/// within 10 s or step down, everyone retries every 2 s. The original's library used the
/// same; csi-lib-utils retries every 5 s.
public struct LeaderElectionConfiguration: Sendable, Hashable {
    /// How long a non-leader waits, after last seeing the lease change, before taking it.
    package var leaseDuration: Duration
    /// How long the leader keeps trying to renew before it gives up leadership.
    package var renewDeadline: Duration
    /// The interval between attempts (acquire attempts get up to 1.2× jitter).
    package var retryPeriod: Duration
    /// This process's identity: unique per process instance (hostname + random suffix),
    /// because a restarted candidate with the same identity would be taken for the holder.
    package var identity: String
    /// Lease name and namespace.
    public var leaseName: String
    public var namespace: String

    public init(identity: String, leaseName: String, namespace: String,
                leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2)) {
        self.identity = identity
        self.leaseName = leaseName
        self.namespace = namespace
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }

    /// client-go's rule: leaseDuration > renewDeadline > 1.2 × retryPeriod > 0, and an identity.
    public func validate() throws(LeaderElectionError) {
        guard !identity.isEmpty else { throw .invalidConfiguration("the identity is empty") }
        guard retryPeriod > .zero else { throw .invalidConfiguration("retryPeriod must be positive") }
        guard renewDeadline > retryPeriod * 1.2 else { throw .invalidConfiguration("renewDeadline must exceed 1.2 × retryPeriod") }
        guard leaseDuration > renewDeadline else { throw .invalidConfiguration("leaseDuration must exceed renewDeadline") }
    }

    /// Lease durations are written in whole seconds.
    var leaseDurationSeconds: Int {
        let c = leaseDuration.components
        return Int(c.seconds) + (c.attoseconds > 0 ? 1 : 0)
    }
}

public enum LeaderElectionError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidConfiguration(String)
    /// Renewal failed for longer than the renew deadline: another process may lead now.
    case leadershipLost(identity: String, lastError: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let why): return "invalid leader-election configuration: \(why)"
        case .leadershipLost(let identity, let lastError):
            return "\(identity) lost the leader lease (could not renew within the renew deadline; last error: \(lastError))"
        }
    }
}
