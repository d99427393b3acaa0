// MemberRegistry.apply: which configuration changes keep a member's actor and which make a
// new store.
import Engine
import KubeRuntime
@testable import VolumeStorage
import Logging
import Testing
import TestSupport

@Suite("MemberRegistry")
struct MemberRegistryTests {
    private func direct(_ name: String, nfsPort: UInt16? = nil, mountPort: UInt16? = nil, weight: Int = 1) -> MemberConfiguration {
        MemberConfiguration(name: name, address: "127.0.0.1", export: "/export", mountPath: nil, weight: weight,
                            mode: .direct, nfsPort: nfsPort, mountPort: mountPort)
    }

    private func registry(_ members: [MemberConfiguration]) throws -> MemberRegistry {
        try MemberRegistry(members: members, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                           storeFactory: MemberRegistry.standardFactory(requireMountPoints: false))
    }

    @Test func portChange_makesANewStoreWithTheNewPorts() throws {
        let registry = try registry([direct("a", nfsPort: 2049, mountPort: 20048), direct("b", nfsPort: 2050)])
        defer { for entry in registry.all { entry.storage.shutdown() } }
        let before = try #require(registry.entry("a")).storage
        let unchanged = try #require(registry.entry("b")).storage

        let change = try registry.apply([direct("a", nfsPort: 2049, mountPort: 20049), direct("b", nfsPort: 2050)])
        #expect(change.replaced == ["a"] && change.added.isEmpty && change.removed.isEmpty)
        let after = try #require(registry.entry("a")).storage
        #expect(after !== before, "a new MOUNT port is a new endpoint")
        let store = try #require(after.store as? DirectNFSVolumeStore)
        #expect(store.configuration.nfsPort == 2049 && store.configuration.mountPort == 20049)
        #expect(try #require(registry.entry("b")).storage === unchanged)
        before.shutdown()
    }

    @Test func droppingAPort_isAChangeToo_butAWeightChangeKeepsTheActor() throws {
        let registry = try registry([direct("a", nfsPort: 2049), direct("b")])
        defer { for entry in registry.all { entry.storage.shutdown() } }
        let a = try #require(registry.entry("a")).storage
        let b = try #require(registry.entry("b")).storage

        let change = try registry.apply([direct("a"), direct("b", weight: 3)])
        #expect(change.replaced == ["a"])
        #expect(try #require(registry.entry("a")).storage !== a)
        #expect(try #require(registry.entry("b")).storage === b)
        #expect(registry.entry("b")?.configuration.weight == 3)
        a.shutdown()
    }

    @Test func claimLocator_namesMembersWithTheClaimsRecords_andForgetsRemovedAndReplacedOnes() throws {
        let registry = try registry([direct("a", nfsPort: 2049), direct("b"), direct("c")])
        defer { for entry in registry.all { entry.storage.shutdown() } }
        func record(_ path: String, uid: String) throws -> OwnershipRecord {
            try testVolumeRecord(path, testClaim(ns: "ns", name: "db", uid: uid))
        }
        try #require(registry.entry("a")).storage.records.put(try record("ns-db", uid: "u1"))
        try #require(registry.entry("c")).storage.records.put(try record("ns-db", uid: "u2"))
        #expect(registry.claimLocator.members(claimUID: "u1", namespace: "ns", name: "db") == ["a", "c"])

        // a replaced (new port: a new actor with an empty index), c removed: neither counts.
        let oldA = try #require(registry.entry("a")).storage
        let oldC = try #require(registry.entry("c")).storage
        try registry.apply([direct("a", nfsPort: 2050), direct("b")])
        #expect(registry.claimLocator.members(claimUID: "u1", namespace: "ns", name: "db").isEmpty)
        // Writes still finishing on the old actors are not announced either.
        oldA.records.put(try record("ns-db-late", uid: "u1"))
        #expect(registry.claimLocator.members(claimUID: "u1", namespace: "ns", name: "db").isEmpty)
        // The new actor's records are.
        try #require(registry.entry("a")).storage.records.put(try record("ns-db", uid: "u1"))
        #expect(registry.claimLocator.members(claimUID: "u1", namespace: "x", name: "y") == ["a"])
        oldA.shutdown()
        oldC.shutdown()
    }
}
