import Testing
import TestSupport
@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage

@Suite("Work queue", .timeLimit(.minutes(1)))
struct WorkQueueTests {
    func queue(_ clock: ManualClock = ManualClock()) -> WorkQueue<String, ManualClock> {
        WorkQueue(clock: clock, backoff: ExponentialBackoff(base: .seconds(1), maximum: .seconds(8)))
    }

    @Test("a key added twice while waiting is delivered once")
    func add_deduplicates() async {
        let q = queue()
        await q.add("a")
        await q.add("b")
        await q.add("a")
        #expect(await q.depth == 2)
        #expect(await q.next() == "a")
        #expect(await q.next() == "b")
        #expect(await q.depth == 0)
    }

    @Test("a key added while processing is queued again only when done: never two workers on one key")
    func add_whileProcessing_waitsForDone() async {
        let q = queue()
        await q.add("a")
        let first = await q.next()
        #expect(first == "a")
        await q.add("a")
        #expect(await q.depth == 0, "must not be handed to a second worker")
        await q.add("b")
        #expect(await q.next() == "b")
        await q.done("a")
        #expect(await q.depth == 1)
        #expect(await q.next() == "a")
    }

    @Test("waitUntilIdle returns only once every queued key has been handled")
    func waitUntilIdle_waitsForQueuedAndProcessingKeys() async {
        let q = queue()
        await q.waitUntilIdle()  // idle: at once
        await q.add("a")
        await q.add("b")
        let waiter = Task { await q.waitUntilIdle(); return await q.isIdle }
        let a = await q.next()
        await q.done(a!)
        #expect(await q.isIdle == false, "b is still queued")
        let b = await q.next()
        #expect(await q.isIdle == false, "b is being processed")
        await q.done(b!)
        #expect(await waiter.value == true)
    }

    @Test("a waiting worker gets a key as soon as it is added")
    func next_waitsForAdd() async {
        let q = queue()
        async let got = q.next()
        while await q.processingCount == 0 {
            await q.add("x")
            await Task.yield()
        }
        #expect(await got == "x")
    }

    @Test("delayed keys arrive when the clock reaches their deadline, earliest deadline wins")
    func addAfter_deliversAtDeadline() async throws {
        let clock = ManualClock()
        let q = queue(clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await q.runDelays() }
            await q.add("late", after: .seconds(10))
            await q.add("soon", after: .seconds(5))
            await q.add("late", after: .seconds(3))   // earlier deadline replaces
            await q.add("soon", after: .seconds(30))  // later deadline ignored
            #expect(await q.delayedCount == 2)
            try await clock.waitForSleepers(1)
            clock.advance(by: .seconds(3))
            #expect(await q.next() == "late")
            #expect(await q.depth == 0)
            try await clock.waitForSleepers(1)
            clock.advance(by: .seconds(2))
            #expect(await q.next() == "soon")
            #expect(await q.delayedCount == 0)
            await q.shutDown()
            try await group.waitForAll()
        }
    }

    @Test("failures back off exponentially to the cap and keep retrying; forget resets")
    func rateLimited_backsOffAndNeverGivesUp() async {
        let q = queue()
        var delays: [Duration] = []
        for _ in 0..<30 { delays.append(await q.addRateLimited("k")) }
        #expect(Array(delays.prefix(5)) == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(8)])
        #expect(delays.last == .seconds(8), "still retried after 30 failures (the original stopped after 15)")
        #expect(await q.failureCount("k") == 30)
        await q.forget("k")
        #expect(await q.failureCount("k") == 0)
        #expect(await q.addRateLimited("k") == .seconds(1))
    }

    @Test("shutdown wakes waiting workers with nil")
    func shutDown_releasesWorkers() async {
        let q = queue()
        await withTaskGroup(of: String?.self) { group in
            for _ in 0..<3 { group.addTask { await q.next() } }
            // Let the workers reach their wait, then shut down.
            for _ in 0..<50 { await Task.yield() }
            await q.shutDown()
            var results: [String?] = []
            for await r in group { results.append(r) }
            #expect(results == [nil, nil, nil])
        }
        await q.add("after")
        #expect(await q.depth == 0, "no keys accepted after shutdown")
    }

    @Test("a waiting worker whose task is cancelled gets nil (so a stopping controller never hangs)")
    func next_cancelled_returnsNil() async {
        let q = queue()
        let worker = Task { await q.next() }
        for _ in 0..<100 { await Task.yield() }
        worker.cancel()
        #expect(await worker.value == nil)
        await q.add("later")
        #expect(await q.depth == 1, "the key was not handed to the cancelled worker")
    }

    @Test("backoff formula")
    func backoff_formula() {
        let b = ExponentialBackoff(base: .milliseconds(500), maximum: .seconds(60))
        #expect(b.delay(afterFailures: 0) == .zero)
        #expect(b.delay(afterFailures: 1) == .milliseconds(500))
        #expect(b.delay(afterFailures: 3) == .seconds(2))
        #expect(b.delay(afterFailures: 1000) == .seconds(60))
        #expect(ExponentialBackoff.default.delay(afterFailures: 100) == .seconds(300))
    }
}
