public import Foundation
public import Logging
import Synchronization
public import KubeRuntime
public import VolumeStorage

/// The members the engine works with: one ``MemberStorage`` actor per configured NFS
/// server, swapped atomically when the configuration changes.
///
/// A member whose configuration is unchanged keeps its actor (its threads, its health);
/// a changed one (address, export, mount path, mode or ports) gets a new actor; a removed one is
/// dropped (its volumes' PVs still name it: deleting them reports the member as no longer
/// configured, and they wait until it comes back). Draining is applied in place.
public final class MemberRegistry: Sendable {
    /// One member: its configuration and its storage actor.
    public struct Entry: Sendable {
        public var configuration: MemberConfiguration
        public var storage: MemberStorage
    }

    /// Makes the store for a member (mounted or direct).
    public typealias StoreFactory = @Sendable (MemberConfiguration) throws(StorageError) -> any VolumeStore

    /// Which members hold records of a claim: every member's index announces to it, so
    /// placement consults only those members (``ClaimLocator``).
    package let claimLocator = ClaimLocator()
    private let entries = Mutex<[String: Entry]>([:])
    private let order = Mutex<[String]>([])
    private let makeStore: StoreFactory
    private let storageConfiguration: MemberStorage.Configuration
    private let clock: EngineTimeClock
    private let wallClock: @Sendable () -> Date
    private let origin = ContinuousClock.now
    private let logger: Logger

    /// - Throws: the first member whose store cannot be made (an invalid mount path).
    /// - Parameters:
    ///   - clock: the members' timeouts, probe loop and health state run on it.
    ///   - wallClock: the timestamps the members write into ownership records.
    public init(members: [MemberConfiguration], storageConfiguration: MemberStorage.Configuration = .default,
                clock: EngineTimeClock = EngineTimeClock(SystemEngineClock()),
                wallClock: @escaping @Sendable () -> Date = { Date() },
                logger: Logger, storeFactory: @escaping StoreFactory) throws(StorageError) {
        self.makeStore = storeFactory
        self.storageConfiguration = storageConfiguration
        self.clock = clock
        self.wallClock = wallClock
        self.logger = logger
        try apply(members)
    }

    /// The standard factory (``MemberConfiguration/makeVolumeStore(nfsTimeout:requireMountPoint:)``):
    /// mounted members get a ``MountedVolumeStore`` (checking that the mount path is a mount
    /// point unless `requireMountPoints` is false, for tests and the demo), direct members a
    /// ``DirectNFSVolumeStore``.
    public static func standardFactory(
        requireMountPoints: Bool = true, nfsTimeout: Duration = DirectNFSVolumeStore.Configuration.defaultTimeout
    ) -> StoreFactory {
        { (member: MemberConfiguration) throws(StorageError) -> any VolumeStore in
            try member.makeVolumeStore(nfsTimeout: nfsTimeout, requireMountPoint: requireMountPoints)
        }
    }

    /// Replaces the member set. On error nothing changes.
    /// - Returns: names added, removed and replaced.
    @discardableResult
    package func apply(_ members: [MemberConfiguration]) throws(StorageError) -> (added: [String], removed: [String], replaced: [String]) {
        let current = entries.withLock { $0 }
        var next: [String: Entry] = [:]
        var added: [String] = [], replaced: [String] = []
        for member in members {
            if let existing = current[member.name], Self.sameEndpoint(existing.configuration, member) {
                next[member.name] = Entry(configuration: member, storage: existing.storage)
            } else {
                let store = try makeStore(member)
                // Health instants: a fixed real instant advanced by the engine's clock.
                let clock = self.clock, origin = self.origin, start = clock.now
                let storage = MemberStorage(store: store, configuration: storageConfiguration,
                                            identity: MemberIdentity(name: member.name, address: member.address, export: member.export),
                                            clock: clock, now: { origin.advanced(by: start.duration(to: clock.now)) }, wallClock: wallClock,
                                            logger: logger.with(member: member.name))
                storage.records.attach(to: claimLocator, as: member.name)
                next[member.name] = Entry(configuration: member, storage: storage)
                if current[member.name] == nil { added.append(member.name) } else { replaced.append(member.name) }
            }
        }
        let removed = current.keys.filter { next[$0] == nil }.sorted()
        entries.withLock { $0 = next }
        order.withLock { $0 = members.map(\.name) }
        // Removed and replaced members' records no longer count for placement.
        for (name, old) in current where next[name]?.storage !== old.storage { old.storage.records.detach() }
        return (added, removed, replaced)
    }

    /// Applies the configured draining state to every actor.
    package func syncDraining() async {
        for entry in all { await entry.storage.setDraining(entry.configuration.state == .draining) }
    }

    static func sameEndpoint(_ a: MemberConfiguration, _ b: MemberConfiguration) -> Bool {
        a.address == b.address && a.export == b.export && a.mountPath == b.mountPath && a.mode == b.mode
            && a.nfsPort == b.nfsPort && a.mountPort == b.mountPort
    }

    /// The member with this ring name, if configured.
    package func entry(_ name: String) -> Entry? { entries.withLock { $0[name] } }

    /// All members in configuration order.
    public var all: [Entry] {
        let names = order.withLock { $0 }
        return entries.withLock { e in names.compactMap { e[$0] } }
    }
}

extension Logger {
    func with(member: String) -> Logger {
        var copy = self
        copy[metadataKey: "member"] = "\(member)"
        return copy
    }
}
