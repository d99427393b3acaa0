// Dedicated threads for blocking filesystem calls, awaited with a timeout.
import Foundation

/// A small pool of dedicated threads for one member's blocking calls.
///
/// A hard NFS mount hangs every call while its server is down, and the Go original let
/// such calls take all its workers (bug 12 in docs/original-provisioner.md). Here:
/// - calls run on this pool's own threads, never on the Swift cooperative pool;
/// - the awaiting task gets ``StorageError/timedOut(member:operation:path:after:)`` after
///   its deadline, while the stuck thread keeps waiting; that thread is counted as
///   **stuck** and goes back to the pool when its call finally returns (no thread is lost
///   for good, none is added to replace it: more threads would hang the same way);
/// - when every thread is stuck, or the queue is full, calls fail fast with
///   ``StorageError/memberBusy(member:operation:stuckThreads:queuedJobs:)`` instead of
///   queueing behind a dead server;
/// - a call still queued when its deadline passes (or its task is cancelled) never runs.
///
/// The deadline covers queueing and running. Threads start on demand, up to
/// ``Configuration/threadCount``, and end after ``Configuration/idleThreadTimeout`` idle or
/// after ``shutdown()``.
public final class BlockingExecutor: @unchecked Sendable {
    /// Pool sizing.
    public struct Configuration: Sendable, Hashable {
        /// Threads per member. Default 2: one stuck call still leaves one thread, and a
        /// member never holds many threads hostage when its server dies.
        package var threadCount: Int
        /// Calls waiting for a thread beyond this fail fast as `memberBusy`. Default 64.
        package var maxQueuedJobs: Int
        /// An idle thread ends after this long. Default 60 s.
        package var idleThreadTimeout: Duration

        public init(threadCount: Int = 2, maxQueuedJobs: Int = 64, idleThreadTimeout: Duration = .seconds(60)) {
            self.threadCount = max(1, threadCount)
            self.maxQueuedJobs = max(0, maxQueuedJobs)
            self.idleThreadTimeout = max(.milliseconds(10), idleThreadTimeout)
        }

        public static let `default` = Configuration()
    }

    /// Counters, read together under the pool's lock.
    package struct Statistics: Sendable, Hashable {
        /// Threads started and not yet ended.
        package var liveThreads: Int
        /// Threads waiting for work.
        package var idleThreads: Int
        /// Threads running a call (stuck ones included).
        package var busyThreads: Int
        /// Threads running a call whose caller gave up (timeout or cancellation).
        package var stuckThreads: Int
        /// Calls waiting for a thread.
        package var queuedJobs: Int
        /// Calls that returned after their caller gave up (their result was dropped).
        package var lateCompletions: Int
    }

    public let member: String
    public let configuration: Configuration
    private let clock: any Clock<Duration>

    private let condition = NSCondition()
    // Everything below is guarded by `condition`.
    private var queue: [any AnyJob] = []
    private var liveThreads = 0
    private var idleThreads = 0
    private var busyThreads = 0
    private var stuckThreads = 0
    private var lateCompletions = 0
    private var isShutDown = false
    private var threadSerial = 0

    /// Creates an idle pool; no thread starts before the first call.
    /// - Parameter clock: measures timeouts (inject a test clock to control them).
    package init(member: String, configuration: Configuration = .default, clock: any Clock<Duration> = ContinuousClock()) {
        self.member = member
        self.configuration = configuration
        self.clock = clock
    }

    /// Runs `body` on a pool thread and returns its result, or fails after `timeout`.
    ///
    /// - Throws: what `body` throws; `.timedOut` after `timeout`; `.cancelled` when the task
    ///   is cancelled; `.memberBusy` when every thread is stuck or the queue is full;
    ///   `.executorShutDown` after ``shutdown()``. In the first two cases `body` may still be
    ///   running, and may still take effect later.
    public func run<T: Sendable>(
        _ operation: StorageOperation, path: String, timeout: Duration,
        _ body: @escaping @Sendable () throws(StorageError) -> T
    ) async throws(StorageError) -> T {
        let job = Job(operation: operation, body: body)
        let member = self.member
        let clock = self.clock
        let result = await withTaskGroup(of: Result<T, StorageError>?.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        self.submit(job, continuation)
                    }
                } onCancel: {
                    self.abandon(job, with: .cancelled(member: member, operation: operation))
                }
            }
            group.addTask {
                do {
                    try await clock.sleep(for: timeout)
                } catch {
                    return nil  // cancelled: the call finished first
                }
                self.abandon(job, with: .timedOut(member: member, operation: operation, path: path, after: timeout))
                return nil
            }
            var outcome: Result<T, StorageError>?
            for await value in group {
                if let value {
                    outcome = value
                    group.cancelAll()
                    break
                }
            }
            return outcome ?? .failure(.cancelled(member: member, operation: operation))
        }
        return try result.get()
    }

    /// Refuses new calls and fails queued ones with `.executorShutDown`; idle threads end
    /// now, busy ones after their call returns.
    public func shutdown() {
        condition.lock()
        isShutDown = true
        let resumers = queue.compactMap { $0.failQueued(.executorShutDown(member: member, operation: $0.operation)) }
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
        for resume in resumers { resume() }
    }

    /// A consistent snapshot of the counters.
    package var statistics: Statistics {
        condition.lock()
        defer { condition.unlock() }
        return Statistics(
            liveThreads: liveThreads, idleThreads: idleThreads, busyThreads: busyThreads,
            stuckThreads: stuckThreads, queuedJobs: queue.count, lateCompletions: lateCompletions)
    }

    // MARK: - Internals

    private func submit<T>(_ job: Job<T>, _ continuation: CheckedContinuation<Result<T, StorageError>, Never>) {
        condition.lock()
        if let early = job.abandonedBeforeSubmit {
            condition.unlock()
            continuation.resume(returning: .failure(early))
            return
        }
        let refusal: StorageError? =
            if isShutDown {
                .executorShutDown(member: member, operation: job.operation)
            } else if stuckThreads >= configuration.threadCount || queue.count >= configuration.maxQueuedJobs {
                .memberBusy(member: member, operation: job.operation, stuckThreads: stuckThreads, queuedJobs: queue.count)
            } else {
                nil
            }
        if let refusal {
            job.markRefused()
            condition.unlock()
            continuation.resume(returning: .failure(refusal))
            return
        }
        job.enqueue(continuation)
        queue.append(job)
        let startThread = queue.count > idleThreads && liveThreads < configuration.threadCount
        if startThread {
            liveThreads += 1
            threadSerial += 1
        }
        let serial = threadSerial
        condition.signal()
        condition.unlock()
        if startThread {
            // Named from inside the thread (a name given to Foundation's `Thread` before
            // `start()` is not reliably applied on Linux), member last because the kernel
            // keeps 15 bytes: `nfs-1-10.0.0.17`.
            let name = "nfs-\(serial)-\(member)"
            let thread = Thread { [self] in
                POSIX.nameCurrentThread(name)
                workerLoop()
            }
            thread.start()
        }
    }

    /// The caller gave up on `job`: dequeue it, or count its thread as stuck.
    private func abandon(_ job: any AnyJob, with error: StorageError) {
        condition.lock()
        let (was, resumer) = job.abandon(error)
        switch was {
        case .queued:
            queue.removeAll { $0 === job }
        case .running:
            stuckThreads += 1
        case .notSubmitted, .alreadyFinished:
            break
        }
        condition.unlock()
        resumer?()
    }

    private func workerLoop() {
        condition.lock()
        while true {
            if !queue.isEmpty {
                let job = queue.removeFirst()
                job.markRunning()
                busyThreads += 1
                condition.unlock()
                job.execute()
                condition.lock()
                busyThreads -= 1
                let (servedWhom, resumer) = job.finishAfterExecution()
                if servedWhom == .callerGaveUp {
                    stuckThreads -= 1
                    lateCompletions += 1
                }
                if let resumer {
                    condition.unlock()
                    resumer()
                    condition.lock()
                }
                continue
            }
            if isShutDown { break }
            idleThreads += 1
            let deadline = Date(timeIntervalSinceNow: Self.seconds(configuration.idleThreadTimeout))
            let signalled = condition.wait(until: deadline)
            idleThreads -= 1
            if !signalled && queue.isEmpty { break }
        }
        liveThreads -= 1
        condition.unlock()
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
