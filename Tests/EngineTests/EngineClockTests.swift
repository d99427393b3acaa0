import Foundation
import Synchronization
import Testing
import Engine
import KubeRuntime
import VolumeStorage
import TestSupport
import TestTraits

/// The engine has one clock, ``ProvisionerEngine/Options/clock``, and every part of it reads
/// and sleeps on that one: these tests pass a manual clock and show that time only moves
/// when the test moves it.
@Suite("The engine's one clock", .timeLimit(.minutes(2)), .shutsDownTestBeds)
struct EngineClockTests {
    @Test("the engine's API client waits for its rate-limit tokens on the injected clock")
    func client_ratelimitsOnTheInjectedClock() async throws {
        let bed = try await EngineTestBed.start()
        let clock = ManualClock()
        var api = bed.clientConfiguration
        api.rateLimit = RateLimit(qps: 1, burst: 1)
        var options = ProvisionerEngine.Options(engine: EngineConfiguration(provisionerName: bed.provisionerName))
        options.storeFactory = MemberRegistry.standardFactory(requireMountPoints: false)
        options.clock = ClockAdapter(clock)
        let engine = try ProvisionerEngine(configuration: bed.configuration(members: ["a"]), api: api,
                                           transport: try AsyncHTTPClientTransport(configuration: api), options: options, logger: bed.logger)
        defer { for entry in engine.registry.all { entry.storage.shutdown() } }
        // The engine is not running, so its client is the only thing that can sleep on the clock.
        let answered = Atomic<Bool>(false)
        let second = Task {
            _ = try await engine.client.list(StorageClass.self)  // the burst's one token
            _ = try await engine.client.list(StorageClass.self)
            answered.store(true, ordering: .sequentiallyConsistent)
        }
        let outcome: Result<Void, any Error>
        do {
            // The second request waits for a token on the manual clock (a client on the
            // real clock would not sleep there, and this wait would time out).
            try await clock.waitForSleepers()
            let answeredBeforeAdvance = answered.load(ordering: .sequentiallyConsistent)
            #expect(!answeredBeforeAdvance, "answered before the injected clock moved")
            clock.advance(by: .seconds(1))
            try await second.value
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        second.cancel()
        _ = await second.result
        try? await engine.client.shutdown()
        try outcome.get()
    }

    @Test("in virtual time: the resync that collects crash leftovers runs when the injected clock passes its period, not before")
    func resync_runsOnTheInjectedClock() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        try await bed.leaveCrashLeftovers(on: "a", [("gone-empty", testClaim(ns: "gone", name: "empty", uid: "u-empty"))])
        let clock = ManualClock()
        let run = try bed.startEngine(bed.configuration(members: ["a"])) {
            $0.clock = ClockAdapter(clock)
            $0.engine.resyncPeriod = .seconds(600)
            $0.engine.orphanGracePeriod = .zero
        }
        // The engine works without time passing: a claim is provisioned.
        try await bed.createClaim("apps", "live", className: "nfs")
        _ = try await bed.waitForBound("apps", "live")
        // The resync loop is asleep on the manual clock: the leftover is still there.
        #expect(bed.ownershipRecord("a", "gone-empty") != nil)
        // Only the injected clock can wake it: ten real minutes have not passed.
        try await clock.waitForSleepers()
        clock.advance(by: .seconds(600))
        try await bed.waitUntil("the leftover collected by the resync") { bed.ownershipRecord("a", "gone-empty") == nil }
        try await run.stop()
    }

    @Test("the orphan grace period is measured on the injected wall clock: a leftover younger than it is kept, then collected once the clock passes it")
    func orphanGrace_onTheInjectedWallClock() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        try await bed.leaveCrashLeftovers(on: "a", [("gone-empty", testClaim(ns: "gone", name: "empty", uid: "u-empty"))])
        let written = try #require(bed.ownershipRecord("a", "gone-empty")).updatedAt
        let wall = Mutex(written.addingTimeInterval(30 * 60))
        let run = try bed.startEngine(bed.configuration(members: ["a"])) {
            $0.wallClock = { wall.withLock { $0 } }
            $0.engine.orphanGracePeriod = .seconds(3600)
        }
        try await bed.createClaim("apps", "live", className: "nfs")
        _ = try await bed.waitForBound("apps", "live")
        // Half an hour after the crash (on the injected wall clock; months on the real one).
        await run.engine.controller.resyncNowAndWait()
        #expect(bed.ownershipRecord("a", "gone-empty") != nil, "collected before its grace period ended")
        wall.withLock { $0 = written.addingTimeInterval(2 * 3600) }
        await run.engine.controller.resyncNowAndWait()
        #expect(bed.ownershipRecord("a", "gone-empty") == nil, "kept after its grace period ended")
        try await run.stop()
    }
}
