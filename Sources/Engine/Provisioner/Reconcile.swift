// The reconcile contract: what a reconcile returns, how it fails, and what the work queue
// does with each.
package import KubeRuntime
package import VolumeStorage

/// What a successful reconcile asks of the work queue.
package enum ReconcileOutcome: Sendable, Equatable {
    /// Nothing more to do until the object changes.
    case done
    /// Look again after this delay (not a failure: the backoff is not advanced).
    case requeue(after: Duration)
}

/// A reconcile that failed, typed: what failed, the message for the Event and the log,
/// and one ``Disposition`` the work queue follows. The reconciler that throws it has
/// already reported it (one Warning Event and one metric, in one place per reconciler).
package struct ReconcileFailure: Error, Sendable, CustomStringConvertible {
    /// What failed.
    package enum Cause: Sendable {
        /// A member's storage (the typed error is kept).
        case storage(StorageError)
        /// The API server or the client (the typed error is kept).
        case api(KubeError)
        /// Placement found no member that can take the claim now.
        case placement
        /// The claim, its class or its PV is not what the provisioner can work with.
        case invalidObject
        /// The provisioner's own configuration (a member not configured, an empty ring).
        case configuration
        /// Another object holds what this one needs (a PV of its name bound elsewhere).
        case conflict
        /// The reconcile was stopped (shutdown): not a failure of anything.
        case cancelled
    }

    /// What the work queue does.
    package enum Disposition: Sendable, Equatable {
        /// Retry with the key's exponential backoff: the cause may go away by itself.
        case retry
        /// Terminal: only a change of the object (or the periodic resync) brings it back.
        /// Never retried with backoff.
        case terminal
    }

    package var cause: Cause
    package var message: String
    package var disposition: Disposition

    package init(_ cause: Cause, _ message: String, _ disposition: Disposition) {
        self.cause = cause
        self.message = message
        self.disposition = disposition
    }

    /// A storage failure: retried when the storage error says a retry can help, terminal
    /// otherwise (a refused path, a file of the wrong kind, a foreign record).
    package static func storage(_ error: StorageError, _ message: String) -> ReconcileFailure {
        ReconcileFailure(.storage(error), message, error.isRetryable ? .retry : .terminal)
    }

    /// An API failure: terminal for a request the client refused to send or the server
    /// found invalid (400, 422: the same request fails the same way), retried otherwise
    /// (403 included: RBAC is fixed without touching the claim).
    package static func api(_ error: KubeError, _ message: String) -> ReconcileFailure {
        let terminal: Bool
        switch error {
        case .invalidRequest, .encoding: terminal = true
        default: terminal = error.isInvalid || error.code == 400
        }
        return ReconcileFailure(.api(error), message, terminal ? .terminal : .retry)
    }

    /// True when the failure is really a cancellation (the reconcile was stopped).
    package var isCancellation: Bool {
        switch cause {
        case .cancelled, .storage(.cancelled): return true
        default: return false
        }
    }

    /// The reconcile was stopped.
    package static let cancelled = ReconcileFailure(.cancelled, "cancelled", .retry)

    package var description: String { message }
}

extension ReconcileFailure.Disposition {
    /// What the worker does with a reconcile's result (the outcome mapping, in one place).
    enum QueueAction: Sendable, Equatable {
        /// Forget the key's failures; nothing more.
        case forget
        /// Forget the failures and look again after the delay.
        case forgetAndAdd(after: Duration)
        /// Count a failure and retry after the key's backoff.
        case backoff
        /// The worker is stopping: mark the key done and return.
        case stop
    }
}

/// Maps a reconcile's result to the work queue's action.
enum ReconcileResultMapping {
    static func action(for result: Result<ReconcileOutcome, any Error>) -> ReconcileFailure.Disposition.QueueAction {
        switch result {
        case .success(.done): return .forget
        case .success(.requeue(let delay)): return .forgetAndAdd(after: delay)
        case .failure(let error as ReconcileFailure):
            if error.isCancellation { return .stop }
            return error.disposition == .terminal ? .forget : .backoff
        case .failure(let error as StorageError):
            if case .cancelled = error { return .stop }
            return error.isRetryable ? .backoff : .forget
        case .failure(is CancellationError): return .stop
        case .failure: return .backoff
        }
    }
}
