/// Tunables of the provisioning controller. Every default says why.
public import KubeRuntime
import VolumeStorage
public struct EngineConfiguration: Sendable {
    /// The provisioner name StorageClasses and claims name.
    public var provisionerName: String
    /// Claim workers (bounded concurrency). Default 4: the original's library default
    /// (`DefaultThreadiness`); each worker spends its time waiting on NFS calls and the
    /// API, and members run their calls on their own threads.
    public var claimWorkers: Int = 4
    /// Volume (delete) workers. Default 4, as the library. 0 pauses reclaiming (released
    /// volumes wait) while claims are still provisioned.
    public var volumeWorkers: Int = 4
    /// Every object is reconciled again this often even without events (level-based
    /// recovery from anything missed). Default 10 min (the library's is 15).
    public var resyncPeriod: Duration = .seconds(600)
    /// Per-key retry backoff. Default 1 s → 5 min, never giving up.
    public var backoff: ExponentialBackoff = .default
    /// A member with less free space is skipped for new claims. Default 1 GiB.
    public var minFreeBytes: UInt64 = 1 << 30
    /// How often members are probed (a probe runs when due per member health) and their
    /// free space read: placement uses the last reading. Default 5 s.
    package var probeInterval: Duration = .seconds(5)
    /// Attempts to save a new PV before the directory made for it is removed and the
    /// claim retried later. Default 5 (the library's `createProvisionedPVRetryCount`).
    package var volumeCreateAttempts: Int = 5
    /// Wait between those attempts (doubling). Default 1 s (the library waits a fixed 10 s).
    package var volumeCreateRetryDelay: Duration = .seconds(1)
    /// Retry interval for claims waiting on an unreachable member that holds their data.
    package var waitForMemberInterval: Duration = .seconds(30)
    /// A record still `creating` this long after its last change, for a claim that no
    /// longer exists and has no PV, is an orphan of a crash: its directory is removed if
    /// empty (reported otherwise) on the next resync. Default 10 min: far longer than any
    /// provisioning takes.
    package var orphanGracePeriod: Duration = .seconds(600)
    /// Ring candidates looked at first when placing a claim; all members only when none of
    /// these can take it. Default 3: placement costs the same with 3 members or 300.
    package var placementCandidates: Int = 3

    public init(provisionerName: String) {
        self.provisionerName = provisionerName
    }
}
