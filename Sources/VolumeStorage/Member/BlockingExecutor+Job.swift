// One call submitted to a BlockingExecutor, and who resumes its caller.

/// A type-erased job in the executor's queue. Every method except ``execute()`` is called
/// with the executor's lock held; the returned resumers are called after unlocking, so
/// that no continuation is ever resumed under a lock.
protocol AnyJob: AnyObject, Sendable {
    var operation: StorageOperation { get }
    /// Runs the body on a pool thread, outside the lock.
    func execute()
    func markRunning()
    /// The caller gave up (timeout or cancellation).
    func abandon(_ error: StorageError) -> (AbandonedWhile, resumer: (@Sendable () -> Void)?)
    /// The body returned; resumes the caller unless it gave up.
    func finishAfterExecution() -> (FinishedFor, resumer: (@Sendable () -> Void)?)
    /// Fails a queued job that will never run (shutdown).
    func failQueued(_ error: StorageError) -> (@Sendable () -> Void)?
}

/// Where a job was when its caller gave up.
enum AbandonedWhile {
    case notSubmitted, queued, running, alreadyFinished
}

/// Whom a finished execution served.
enum FinishedFor: Equatable {
    case caller, callerGaveUp
}

/// A job returning `T`. State is guarded by the executor's lock, except `result`, which
/// only the executing thread touches between `markRunning` and `finishAfterExecution`.
final class Job<T: Sendable>: AnyJob, @unchecked Sendable {
    private enum State {
        case new
        case queued
        case running
        case runningAbandoned
        case finished
    }

    let operation: StorageOperation
    private let body: @Sendable () throws(StorageError) -> T
    private var state = State.new
    private var continuation: CheckedContinuation<Result<T, StorageError>, Never>?
    private var result: Result<T, StorageError>?
    /// Set when the caller gave up before the job reached the queue.
    private(set) var abandonedBeforeSubmit: StorageError?

    init(operation: StorageOperation, body: @escaping @Sendable () throws(StorageError) -> T) {
        self.operation = operation
        self.body = body
    }

    func enqueue(_ continuation: CheckedContinuation<Result<T, StorageError>, Never>) {
        self.continuation = continuation
        state = .queued
    }

    /// The job was refused at submission; nothing will resume it later.
    func markRefused() {
        state = .finished
    }

    func markRunning() {
        state = .running
    }

    func execute() {
        do throws(StorageError) {
            result = .success(try body())
        } catch {
            result = .failure(error)
        }
    }

    func abandon(_ error: StorageError) -> (AbandonedWhile, resumer: (@Sendable () -> Void)?) {
        switch state {
        case .new:
            abandonedBeforeSubmit = abandonedBeforeSubmit ?? error
            state = .finished
            return (.notSubmitted, nil)
        case .queued:
            state = .finished
            return (.queued, takeResumer(.failure(error)))
        case .running:
            state = .runningAbandoned
            return (.running, takeResumer(.failure(error)))
        case .runningAbandoned, .finished:
            return (.alreadyFinished, nil)
        }
    }

    func finishAfterExecution() -> (FinishedFor, resumer: (@Sendable () -> Void)?) {
        let gaveUp = state == .runningAbandoned
        state = .finished
        let outcome = result ?? .failure(.cancelled(member: "", operation: operation))
        result = nil
        return gaveUp ? (.callerGaveUp, nil) : (.caller, takeResumer(outcome))
    }

    func failQueued(_ error: StorageError) -> (@Sendable () -> Void)? {
        state = .finished
        return takeResumer(.failure(error))
    }

    /// Hands out the continuation once; later calls get `nil`.
    private func takeResumer(_ outcome: Result<T, StorageError>) -> (@Sendable () -> Void)? {
        guard let continuation else { return nil }
        self.continuation = nil
        return { continuation.resume(returning: outcome) }
    }
}
