// BlockingExecutor: timeouts, stuck threads, fail-fast, and no thread lost for good.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Synchronization
import Testing
import TestSupport

/// Polls `condition` until it holds or `timeout` passes (for effects on other threads that
/// cannot be awaited). Returns whether it held.
func eventually(timeout: Duration = .seconds(30), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        do {
            try await Task.sleep(for: .milliseconds(5))
        } catch {
            break  // cancelled: answer with what holds now
        }
    }
    return await condition()
}

/// A gate a blocking closure waits on; `open()` lets every waiter through.
final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func wait() { semaphore.wait() }
    func open(count: Int = 16) {
        for _ in 0..<count { semaphore.signal() }
    }
}

/// Runs `body` through `executor` and returns its error, if any.
func executorError<T: Sendable>(
    _ executor: BlockingExecutor, timeout: Duration, _ body: @escaping @Sendable () throws(StorageError) -> T
) async -> StorageError? {
    do {
        _ = try await executor.run(.stat, path: "p", timeout: timeout, body)
        return nil
    } catch {
        return error
    }
}

@Suite("BlockingExecutor")
struct BlockingExecutorTests {
    let shortTimeout = Duration.milliseconds(200)

    @Test func run_returnsTheValueFromAPoolThread() async throws {
        let executor = BlockingExecutor(member: "a")
        defer { executor.shutdown() }
        let name = try await executor.run(.stat, path: "p", timeout: .seconds(30)) { () throws(StorageError) in
            // The kernel's name for the running thread (Foundation's `Thread.name` is racy on Linux).
            FileManager.default.contents(atPath: "/proc/thread-self/comm").map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        #expect(name == "nfs-1-a\n")
        #expect(executor.statistics.liveThreads == 1)
    }

    @Test func run_rethrowsTheBodysError() async {
        let executor = BlockingExecutor(member: "a")
        defer { executor.shutdown() }
        let thrown = StorageError.notFound(member: "a", operation: .stat, path: "x")
        let error = await executorError(executor, timeout: .seconds(30)) { () throws(StorageError) -> Int in throw thrown }
        #expect(error == thrown)
    }

    @Test func blockedCall_timesOut_whileAnotherMembersCallsComplete_andTheThreadComesBack() async {
        let hung = BlockingExecutor(member: "dead", configuration: .init(threadCount: 2))
        let healthy = BlockingExecutor(member: "alive", configuration: .init(threadCount: 2))
        defer { hung.shutdown(); healthy.shutdown() }
        let gate = Gate()

        async let blocked = executorError(hung, timeout: shortTimeout) { () throws(StorageError) in gate.wait() }
        for index in 0..<20 {
            let value = try? await healthy.run(.stat, path: "p", timeout: .seconds(30)) { () throws(StorageError) in index }
            #expect(value == index)
        }
        let error = await blocked
        #expect(error == .timedOut(member: "dead", operation: .stat, path: "p", after: shortTimeout))
        #expect(hung.statistics.stuckThreads == 1)
        #expect(hung.statistics.busyThreads == 1)

        gate.open()
        #expect(await eventually { hung.statistics.stuckThreads == 0 })
        let after = hung.statistics
        #expect(after.lateCompletions == 1)
        #expect(after.busyThreads == 0)
        #expect(after.liveThreads >= 1, "the stuck thread returned to the pool")
        let value = try? await hung.run(.stat, path: "p", timeout: .seconds(30)) { () throws(StorageError) in 42 }
        #expect(value == 42)
    }

    @Test func allThreadsStuck_callsFailFastAsMemberBusy_untilOneReturns() async {
        let executor = BlockingExecutor(member: "dead", configuration: .init(threadCount: 2))
        defer { executor.shutdown() }
        let gate = Gate()
        async let first = executorError(executor, timeout: shortTimeout) { () throws(StorageError) in gate.wait() }
        async let second = executorError(executor, timeout: shortTimeout) { () throws(StorageError) in gate.wait() }
        let errors = await [first, second]
        #expect(errors.allSatisfy { if case .timedOut = $0 { true } else { false } })
        #expect(executor.statistics.stuckThreads == 2)

        let ran = Flag()
        let refused = await executorError(executor, timeout: .seconds(30)) { () throws(StorageError) in ran.set() }
        #expect(refused == .memberBusy(member: "dead", operation: .stat, stuckThreads: 2, queuedJobs: 0))
        #expect(!ran.isSet)

        gate.open()
        #expect(await eventually { executor.statistics.stuckThreads == 0 })
        #expect(await executorError(executor, timeout: .seconds(30)) { () throws(StorageError) in ran.set() } == nil)
        #expect(ran.isSet)
        #expect(executor.statistics.liveThreads <= 2, "no thread was added for the stuck ones")
    }

    @Test func queuedCall_pastItsDeadline_neverRuns() async {
        let executor = BlockingExecutor(member: "a", configuration: .init(threadCount: 1))
        defer { executor.shutdown() }
        let gate = Gate()
        let started = Flag()
        async let holder = executorError(executor, timeout: .seconds(30)) { () throws(StorageError) in
            started.set()
            gate.wait()
        }
        #expect(await eventually { started.isSet })
        let ran = Flag()
        let error = await executorError(executor, timeout: shortTimeout) { () throws(StorageError) in ran.set() }
        #expect(error == .timedOut(member: "a", operation: .stat, path: "p", after: shortTimeout))
        #expect(executor.statistics.queuedJobs == 0)
        #expect(executor.statistics.stuckThreads == 0, "a queued call that times out holds no thread")
        gate.open()
        #expect(await holder == nil)
        #expect(!ran.isSet)
    }

    @Test func fullQueue_failsFastAsMemberBusy() async {
        let executor = BlockingExecutor(member: "a", configuration: .init(threadCount: 1, maxQueuedJobs: 1))
        defer { executor.shutdown() }
        let gate = Gate()
        let started = Flag()
        async let holder = executorError(executor, timeout: .seconds(30)) { () throws(StorageError) in
            started.set()
            gate.wait()
        }
        #expect(await eventually { started.isSet })
        async let queued = executorError(executor, timeout: .seconds(30)) { () throws(StorageError) in }
        #expect(await eventually { executor.statistics.queuedJobs == 1 })
        let refused = await executorError(executor, timeout: .seconds(30)) { () throws(StorageError) in }
        #expect(refused == .memberBusy(member: "a", operation: .stat, stuckThreads: 0, queuedJobs: 1))
        gate.open()
        #expect(await holder == nil)
        #expect(await queued == nil)
    }

    @Test func cancelledCaller_getsCancelled_andTheThreadIsCountedStuckUntilItReturns() async {
        let executor = BlockingExecutor(member: "a", configuration: .init(threadCount: 1))
        defer { executor.shutdown() }
        let gate = Gate()
        let started = Flag()
        let task = Task {
            await executorError(executor, timeout: .seconds(30)) { () throws(StorageError) in
                started.set()
                gate.wait()
            }
        }
        #expect(await eventually { started.isSet })
        task.cancel()
        #expect(await task.value == .cancelled(member: "a", operation: .stat))
        #expect(executor.statistics.stuckThreads == 1)
        gate.open()
        #expect(await eventually { executor.statistics.stuckThreads == 0 })
    }

    @Test func shutdown_failsQueuedAndNewCalls() async {
        let executor = BlockingExecutor(member: "a", configuration: .init(threadCount: 1))
        let gate = Gate()
        let started = Flag()
        async let holder = executorError(executor, timeout: .seconds(30)) { () throws(StorageError) in
            started.set()
            gate.wait()
        }
        #expect(await eventually { started.isSet })
        async let queued = executorError(executor, timeout: .seconds(30)) { () throws(StorageError) in }
        #expect(await eventually { executor.statistics.queuedJobs == 1 })
        executor.shutdown()
        #expect(await queued == .executorShutDown(member: "a", operation: .stat))
        #expect(await executorError(executor, timeout: .seconds(30)) { () throws(StorageError) in }
            == .executorShutDown(member: "a", operation: .stat))
        gate.open()
        #expect(await holder == nil, "a running call still completes")
        #expect(await eventually { executor.statistics.liveThreads == 0 })
    }

    @Test func idleThreads_endAfterTheirIdleTimeout() async {
        let executor = BlockingExecutor(
            member: "a", configuration: .init(threadCount: 2, idleThreadTimeout: .milliseconds(50)))
        defer { executor.shutdown() }
        #expect(await executorError(executor, timeout: .seconds(30)) { () throws(StorageError) in } == nil)
        #expect(await eventually { executor.statistics.liveThreads == 0 })
        #expect(await executorError(executor, timeout: .seconds(30)) { () throws(StorageError) in } == nil)
    }
}

/// A thread-safe boolean.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
