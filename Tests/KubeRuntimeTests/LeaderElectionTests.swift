import Foundation
import Logging
import Synchronization
import Testing
import TestSupport
@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage

@Suite("Leader election state machine")
struct LeaderElectionStateMachineTests {
    typealias Machine = LeaderElectionStateMachine<ManualClock.Instant>
    let config = LeaderElectionConfiguration(identity: "me", leaseName: "l", namespace: "ns")
    let t0 = ManualClock.Instant(offset: .zero)
    let wall = Date(timeIntervalSince1970: 1_700_000_000)

    func record(_ holder: String, transitions: Int = 3, duration: Int = 15) -> LeaseRecord {
        LeaseRecord(holderIdentity: holder, leaseDurationSeconds: duration, acquireTime: wall, renewTime: wall, leaseTransitions: transitions)
    }

    @Test("no lease: create one naming me with zero transitions")
    func noLease_creates() {
        var m = Machine(configuration: config)
        #expect(m.begin(now: t0, wallNow: wall) == .get)
        guard case .create(let r) = m.afterGet(nil, now: t0, wallNow: wall) else { Issue.record("expected create"); return }
        #expect(r.holderIdentity == "me" && r.leaseTransitions == 0 && r.leaseDurationSeconds == 15)
    }

    @Test("held by another and fresh: wait; unchanged until its duration passes locally: take over with transitions + 1")
    func heldByOther_expiresByLocalObservation() {
        var m = Machine(configuration: config)
        let other = StoredLease(record: record("other"), resourceVersion: "7")
        #expect(m.afterGet(other, now: t0, wallNow: wall) == .held(by: "other"))
        // The same record seen again 14 s later: still held (expiry counts from when it was first seen).
        #expect(m.afterGet(other, now: t0.advanced(by: .seconds(14)), wallNow: wall) == .held(by: "other"))
        // A renewal (changed record) restarts the local clock.
        var renewed = other
        renewed.record.renewTime = wall.addingTimeInterval(14)
        renewed.resourceVersion = "8"
        #expect(m.afterGet(renewed, now: t0.advanced(by: .seconds(14)), wallNow: wall) == .held(by: "other"))
        #expect(m.afterGet(renewed, now: t0.advanced(by: .seconds(28)), wallNow: wall) == .held(by: "other"))
        guard case .update(let r, let rv) = m.afterGet(renewed, now: t0.advanced(by: .seconds(29, )), wallNow: wall) else {
            Issue.record("expected takeover"); return
        }
        #expect(rv == "8")
        #expect(r.holderIdentity == "me" && r.leaseTransitions == 4 && r.acquireTime == wall)
    }

    @Test("the record's timestamps are never compared with the local clock (skew-proof)")
    func recordTimestamps_ignored() {
        var m = Machine(configuration: config)
        // A renew time far in the past by our wall clock does not make the lease expired.
        var old = record("other")
        old.renewTime = wall.addingTimeInterval(-86_400)
        #expect(m.afterGet(StoredLease(record: old, resourceVersion: "1"), now: t0, wallNow: wall) == .held(by: "other"))
    }

    @Test("a released lease (empty holder) is taken at once")
    func released_takenAtOnce() {
        var m = Machine(configuration: config)
        guard case .update(let r, _) = m.afterGet(StoredLease(record: record("", duration: 1), resourceVersion: "2"), now: t0, wallNow: wall) else {
            Issue.record("expected update"); return
        }
        #expect(r.holderIdentity == "me" && r.leaseTransitions == 4)
    }

    @Test("my own lease (e.g. after a restart with the same identity) is renewed keeping acquire time and transitions")
    func ownLease_renewed() {
        var m = Machine(configuration: config)
        guard case .update(let r, _) = m.afterGet(StoredLease(record: record("me"), resourceVersion: "5"), now: t0, wallNow: wall.addingTimeInterval(5)) else {
            Issue.record("expected update"); return
        }
        #expect(r.leaseTransitions == 3 && r.acquireTime == wall && r.renewTime == wall.addingTimeInterval(5))
    }

    @Test("while leading, renew from the cache; once locally expired, read first; release writes an empty holder")
    func leading_fastPathAndRelease() {
        var m = Machine(configuration: config)
        let mine = StoredLease(record: record("me"), resourceVersion: "9")
        m.written(mine, now: t0)
        #expect(m.isLeader(now: t0.advanced(by: .seconds(14))))
        guard case .renewCached(let r, let rv) = m.begin(now: t0.advanced(by: .seconds(2)), wallNow: wall.addingTimeInterval(2)) else {
            Issue.record("expected fast path"); return
        }
        #expect(rv == "9" && r.renewTime == wall.addingTimeInterval(2) && r.leaseTransitions == 3)
        #expect(m.begin(now: t0.advanced(by: .seconds(15)), wallNow: wall) == .get)
        let release = m.releaseRecord(wallNow: wall)
        #expect(release?.0.holderIdentity == "" && release?.0.leaseDurationSeconds == 1 && release?.resourceVersion == "9")
        #expect(release?.0.leaseTransitions == 3)
    }

    @Test("configuration rules: lease > renew > 1.2 × retry > 0")
    func configurationValidation() {
        #expect(throws: Never.self) { try config.validate() }
        var bad = config
        bad.renewDeadline = .seconds(20)
        #expect(throws: LeaderElectionError.self) { try bad.validate() }
        bad = config
        bad.retryPeriod = .seconds(9)
        #expect(throws: LeaderElectionError.self) { try bad.validate() }
        bad = config
        bad.identity = ""
        #expect(throws: LeaderElectionError.self) { try bad.validate() }
    }
}

/// Things that happened, in order, across tasks.
final class EventLog: Sendable {
    private let events = Mutex<[String]>([])
    func add(_ e: String) { events.withLock { $0.append(e) } }
    var all: [String] { events.withLock { $0 } }
}

@Suite("Leader elector", .timeLimit(.minutes(1)))
struct LeaderElectorTests {
    func elector(_ id: String, _ store: FakeLeaseStore, _ clock: ManualClock) throws -> LeaderElector<ManualClock> {
        try LeaderElector(configuration: LeaderElectionConfiguration(identity: id, leaseName: "example.com-nfs", namespace: "ns"),
                          store: store, clock: clock, jitter: { 0 }, logger: Logger(label: "test"))
    }

    /// Advances virtual time one second at a time, each time `sleepers` tasks sleep on the
    /// clock (so the code under test has reached its wait), until `done` holds. Checks
    /// `done` while waiting too: the last step may end the sleeping altogether.
    func step(_ clock: ManualClock, sleepers: Int, maxSeconds: Int = 120, until done: () async -> Bool) async throws {
        var advanced = 0
        let realDeadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < realDeadline {
            if await done() { return }
            if clock.sleeperCount >= sleepers {
                guard advanced < maxSeconds else { break }
                clock.advance(by: .seconds(1))
                advanced += 1
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        #expect(await done(), "condition not reached in \(advanced) virtual seconds")
    }

    @Test("only one of two candidates leads; the other takes over when the leader can no longer renew")
    func standby_takesOver_whenLeaderPartitioned() async throws {
        let clock = ManualClock()
        let backend = FakeLeaseBackend()
        let storeA = FakeLeaseStore(backend: backend), storeB = FakeLeaseStore(backend: backend)
        let a = try elector("a", storeA, clock), b = try elector("b", storeB, clock)
        let log = EventLog()
        let work: @Sendable (String) -> @Sendable () async throws -> Void = { name in
            {
                log.add("\(name) started")
                do { try await Task.sleep(for: .seconds(3600)) } catch { log.add("\(name) stopped") ; throw error }
            }
        }
        let runA = Task { try await a.run(whileLeading: work("a")) }
        // Let A win before B starts.
        try await step(clock, sleepers: 0) { await a.status == .leader }
        let runB = Task { try await b.run(whileLeading: work("b")) }
        try await step(clock, sleepers: 2) { await b.status == .standby(holder: "a") }
        // Several renewals: B keeps waiting.
        let start = clock.now
        try await step(clock, sleepers: 2, maxSeconds: 10) { start.duration(to: clock.now) >= .seconds(10) }
        #expect(await b.status == .standby(holder: "a"))
        #expect(log.all == ["a started"])
        // Cut A off: it must step down within the renew deadline, and B take over after the lease duration.
        storeA.setPartitioned(true)
        try await step(clock, sleepers: 1) { log.all.contains("a stopped") }
        await #expect(throws: LeaderElectionError.self) { try await runA.value }
        #expect(log.all.contains("a stopped"))
        try await step(clock, sleepers: 1) { log.all.contains("b started") }
        #expect(await b.status == .leader)
        let events = log.all
        let aStopped = try #require(events.firstIndex(of: "a stopped"))
        let bStarted = try #require(events.firstIndex(of: "b started"))
        #expect(aStopped < bStarted, "\(events)")
        #expect(backend.lease?.record.holderIdentity == "b")
        #expect(backend.lease?.record.leaseTransitions == 1)
        // Stop B: cancelling its run ends the work and releases the lease.
        runB.cancel()
        try await runB.value
        #expect(log.all.last == "b stopped")
        #expect(backend.lease?.record.holderIdentity == "")
    }

    @Test("when the leader's work ends, it releases the lease and a standby takes it at once")
    func gracefulStop_releasesLease() async throws {
        let clock = ManualClock()
        let backend = FakeLeaseBackend()
        let a = try elector("a", FakeLeaseStore(backend: backend), clock)
        let b = try elector("b", FakeLeaseStore(backend: backend), clock)
        let stopA = AsyncStream<Void>.makeStream()
        let log = EventLog()
        async let runA: Void = a.run { log.add("a started"); for await _ in stopA.stream {} ; log.add("a done") }
        try await step(clock, sleepers: 0) { await a.status == .leader }
        async let runB: Void = b.run { log.add("b started") }
        try await step(clock, sleepers: 2) { await b.status == .standby(holder: "a") }
        stopA.continuation.finish()
        try await runA
        #expect(backend.lease?.record.holderIdentity == "")
        #expect(await a.status == .stopped)
        // B takes the released lease on its next attempt (no 15 s wait).
        try await step(clock, sleepers: 1, maxSeconds: 5) { log.all.contains("b started") }
        try await runB
        #expect(log.all == ["a started", "a done", "b started"])
    }
}
