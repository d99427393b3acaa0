@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage
import TestSupport
import Testing

/// Every event x state pair of the watcher's state machine (no I/O).
@Suite struct WatcherStateMachineTests {
    typealias Machine = WatcherStateMachine<PersistentVolumeClaim>

    static let request = RequestSummary(method: "GET", path: "/api/v1/persistentvolumeclaims")

    static func claim(_ name: String, rv: String) -> PersistentVolumeClaim {
        PersistentVolumeClaim(metadata: ObjectMeta(name: name, namespace: "ns", resourceVersion: rv))
    }

    static func apiError(_ code: Int, _ reason: StatusReason, causes: [StatusCause]? = nil) -> KubeError {
        .status(Status(reason: reason, details: causes.map { StatusDetails(causes: $0) }, code: code),
                httpCode: code, request: request, retryAfter: nil)
    }

    static let expired = apiError(410, .expired)
    static let gone = apiError(410, .gone)
    static let internalError = apiError(500, .internalError)
    static let tooLarge = apiError(504, .timeout, causes: [StatusCause(reason: "ResourceVersionTooLarge")])

    /// A machine driven into `watching` from a list at `rv`.
    static func watching(rv: String = "10", at now: Duration = .seconds(100)) -> Machine {
        var machine = Machine()
        _ = machine.nextAction()
        _ = machine.listSucceeded(ObjectList(metadata: ListMeta(resourceVersion: rv)))
        _ = machine.nextAction()
        machine.watchStarted(at: now)
        return machine
    }

    static func names(_ events: [WatcherEvent<PersistentVolumeClaim>]) -> [String] {
        events.map { event in
            switch event {
            case .restarted(let objects): return "restarted(\(objects.map(\.metadata.name).joined(separator: ",")))"
            case .applied(let object): return "applied(\(object.metadata.name))"
            case .deleted(let object): return "deleted(\(object.metadata.name))"
            case .error(let error): return "error(\(error.code.map(String.init) ?? "\(error)"))"
            }
        }
    }

    // MARK: empty / listing

    @Test func empty_startsWithAListAtResourceVersionZero() {
        var machine = Machine()
        #expect(machine.state == .empty(.any))
        #expect(machine.nextAction() == .list(resourceVersion: "0"))
        #expect(machine.state == .listing(.any))
        #expect(machine.nextAction() == .list(resourceVersion: "0"))  // repeated without a result: same action
    }

    @Test func listing_success_yieldsRestarted_thenWatchesFromTheListResourceVersion() {
        var machine = Machine()
        _ = machine.nextAction()
        let failure = KubeError.malformedObject(resource: PersistentVolumeClaim.resource, detail: "bad item")
        let out = machine.listSucceeded(ObjectList(metadata: ListMeta(resourceVersion: "42"),
                                                   items: [Self.claim("a", rv: "40")], failures: [failure]))
        #expect(Self.names(out) == ["restarted(a)", "error(\(failure))"])
        #expect(machine.state == .listed(resourceVersion: "42"))
        #expect(machine.nextAction() == .startWatch(resourceVersion: "42"))
        #expect(machine.state == .startingWatch(resourceVersion: "42"))
    }

    @Test func listing_failure_retriesTheSameListPoint() {
        var machine = Machine()
        _ = machine.nextAction()
        #expect(Self.names(machine.listFailed(Self.internalError)) == ["error(500)"])
        #expect(machine.state == .empty(.any))
        // A 410 on the initial rv=0 list does not change the point either.
        _ = machine.nextAction()
        _ = machine.listFailed(Self.expired)
        #expect(machine.nextAction() == .list(resourceVersion: "0"))
    }

    @Test(arguments: [WatcherStateMachineTests.expired, WatcherStateMachineTests.gone, WatcherStateMachineTests.tooLarge])
    func relistAtLastSeen_thatExpired_fallsBackToTheLatestState(_ error: KubeError) {
        var machine = Self.watching(rv: "10")
        _ = machine.eventReceived(.success(.error(Status(reason: .expired, code: 410))))
        #expect(machine.nextAction() == .list(resourceVersion: "10"))
        _ = machine.listFailed(error)
        #expect(machine.state == .empty(.latest))
        #expect(machine.nextAction() == .list(resourceVersion: nil))
        _ = machine.listFailed(Self.expired)
        #expect(machine.state == .empty(.latest))
    }

    @Test func relistAtLastSeen_otherFailure_keepsTheListPoint() {
        var machine = Self.watching(rv: "10")
        _ = machine.eventReceived(.success(.error(Status(reason: .expired, code: 410))))
        _ = machine.nextAction()
        _ = machine.listFailed(Self.internalError)
        #expect(machine.state == .empty(.notOlderThan("10")))
    }

    // MARK: startingWatch

    @Test func startingWatch_started_isWatching() {
        let machine = Self.watching(rv: "10", at: .seconds(5))
        #expect(machine.state == .watching(.init(resourceVersion: "10", startedAt: .seconds(5), events: 0, inInitialBurst: false)))
        var copy = machine
        #expect(copy.nextAction() == .readEvent)
    }

    @Test func startingWatch_expired_relistsFromThatResourceVersion() {
        var machine = Machine()
        _ = machine.nextAction()
        _ = machine.listSucceeded(ObjectList(metadata: ListMeta(resourceVersion: "10")))
        _ = machine.nextAction()
        #expect(Self.names(machine.watchStartFailed(Self.gone)) == ["error(410)"])
        #expect(machine.state == .empty(.notOlderThan("10")))
        #expect(machine.nextAction() == .list(resourceVersion: "10"))
    }

    @Test func startingWatch_otherFailure_retriesTheWatchWithoutRelisting() {
        var machine = Machine()
        _ = machine.nextAction()
        _ = machine.listSucceeded(ObjectList(metadata: ListMeta(resourceVersion: "10")))
        _ = machine.nextAction()
        _ = machine.watchStartFailed(.transport(.connectFailed("refused"), request: Self.request))
        #expect(machine.state == .listed(resourceVersion: "10"))
        #expect(machine.nextAction() == .startWatch(resourceVersion: "10"))
    }

    // MARK: watching: events

    @Test func watching_addedModifiedDeleted_areYielded_andAdvanceTheResourceVersion() {
        var machine = Self.watching(rv: "10")
        #expect(Self.names(machine.eventReceived(.success(.added(Self.claim("a", rv: "11"))))) == ["applied(a)"])
        #expect(Self.names(machine.eventReceived(.success(.modified(Self.claim("a", rv: "12"))))) == ["applied(a)"])
        #expect(Self.names(machine.eventReceived(.success(.deleted(Self.claim("a", rv: "13"))))) == ["deleted(a)"])
        guard case .watching(let watching) = machine.state else {
            Issue.record("not watching")
            return
        }
        #expect(watching.resourceVersion == "13")
        #expect(watching.events == 3)
    }

    @Test func watching_bookmark_movesTheResumePoint_silently() {
        var machine = Self.watching(rv: "10")
        #expect(machine.eventReceived(.success(.bookmark(resourceVersion: "50", initialEventsEnd: false))).isEmpty)
        _ = machine.streamEnded(at: .seconds(1000))
        #expect(machine.nextAction() == .startWatch(resourceVersion: "50"))
    }

    @Test func watching_resourceVersionsAreOnlyCopied_neverOrdered() {
        var machine = Self.watching(rv: "10")
        _ = machine.eventReceived(.success(.modified(Self.claim("a", rv: "9"))))
        _ = machine.eventReceived(.success(.modified(Self.claim("b", rv: "opaque-token"))))
        _ = machine.streamEnded(at: .seconds(1000))
        #expect(machine.state == .listed(resourceVersion: "opaque-token"))
    }

    @Test func watching_undecodableEvent_isAnErrorElement_andWatchingContinues() {
        var machine = Self.watching(rv: "10")
        let error = KubeError.unknownEventType(resource: PersistentVolumeClaim.resource, type: "SURPRISE")
        #expect(Self.names(machine.eventReceived(.failure(error))) == ["error(\(error))"])
        #expect(machine.isWatching)
        #expect(machine.nextAction() == .readEvent)
    }

    @Test(arguments: [StatusReason.expired, .gone])
    func watching_expiredErrorEvent_relistsFromTheLastResourceVersion(_ reason: StatusReason) {
        var machine = Self.watching(rv: "10")
        _ = machine.eventReceived(.success(.modified(Self.claim("a", rv: "12"))))
        let out = machine.eventReceived(.success(.error(Status(message: "too old resource version: 12 (1000)", reason: reason, code: 410))))
        #expect(Self.names(out) == ["error(410)"])
        #expect(out.first.flatMap { if case .error(let e) = $0 { e.isExpired } else { nil } } == true)
        #expect(machine.state == .empty(.notOlderThan("12")))
        #expect(machine.nextAction() == .list(resourceVersion: "12"))
    }

    @Test func watching_otherErrorEvent_reWatchesWithoutRelisting() {
        var machine = Self.watching(rv: "10")
        #expect(Self.names(machine.eventReceived(.success(.error(Status(reason: .internalError, code: 500))))) == ["error(500)"])
        #expect(machine.state == .listed(resourceVersion: "10"))
    }

    // MARK: watching: stream end

    @Test func watching_cleanEnd_resumesFromTheLastResourceVersion_withoutRelisting() {
        var machine = Self.watching(rv: "10", at: .seconds(100))
        _ = machine.eventReceived(.success(.added(Self.claim("a", rv: "11"))))
        #expect(machine.streamEnded(at: .seconds(400)).isEmpty)
        #expect(machine.nextAction() == .startWatch(resourceVersion: "11"))
    }

    @Test func watching_veryShortEmptyWatch_isAnErrorElement_soItIsBackedOff() {
        var machine = Self.watching(rv: "10", at: .seconds(100))
        let out = machine.streamEnded(at: .seconds(100) + .milliseconds(300))
        #expect(Self.names(out) == ["error(\(KubeError.watchEndedEarly(resource: PersistentVolumeClaim.resource, after: .milliseconds(300))))"])
        #expect(machine.state == .listed(resourceVersion: "10"))
    }

    @Test func watching_shortWatchWithEvents_orLongEmptyWatch_isFine() {
        var machine = Self.watching(rv: "10", at: .seconds(100))
        _ = machine.eventReceived(.success(.bookmark(resourceVersion: "11", initialEventsEnd: false)))
        #expect(machine.streamEnded(at: .seconds(100)).isEmpty)
        var idle = Self.watching(rv: "10", at: .seconds(100))
        #expect(idle.streamEnded(at: .seconds(400)).isEmpty)
    }

    @Test func watching_streamFailure_isAnErrorElement_andResumes() {
        var machine = Self.watching(rv: "10")
        _ = machine.eventReceived(.success(.added(Self.claim("a", rv: "11"))))
        let error = KubeError.truncatedStream(resource: PersistentVolumeClaim.resource, pendingBytes: 5)
        #expect(Self.names(machine.streamFailed(error)) == ["error(\(error))"])
        #expect(machine.nextAction() == .startWatch(resourceVersion: "11"))
    }

    // MARK: synthetic ADDED burst (no RV order, so the resume point waits)

    @Test func watchFromEmptyResourceVersion_doesNotAdvanceOnSyntheticAdded_untilANonAddedEvent() {
        var machine = Self.watching(rv: "")
        _ = machine.eventReceived(.success(.added(Self.claim("a", rv: "30"))))
        _ = machine.eventReceived(.success(.added(Self.claim("b", rv: "20"))))
        guard case .watching(let burst) = machine.state else { return }
        #expect(burst.resourceVersion == "")
        #expect(burst.inInitialBurst)
        _ = machine.eventReceived(.success(.modified(Self.claim("a", rv: "31"))))
        _ = machine.eventReceived(.success(.added(Self.claim("c", rv: "32"))))
        _ = machine.streamEnded(at: .seconds(1000))
        #expect(machine.state == .listed(resourceVersion: "32"))
    }

    // MARK: inputs in the wrong state are ignored

    @Test func unexpectedInputs_doNotChangeTheState() {
        var machine = Self.watching(rv: "10")
        #expect(machine.listSucceeded(ObjectList(metadata: ListMeta(resourceVersion: "99"))).isEmpty)
        machine.watchStarted(at: .zero)
        #expect(machine.isWatching)
        var listed = Machine()
        #expect(listed.eventReceived(.success(.added(Self.claim("a", rv: "1")))).isEmpty)
        #expect(listed.streamEnded(at: .zero).isEmpty)
        #expect(listed.state == .empty(.any))
        #expect(Self.names(listed.streamFailed(Self.internalError)) == ["error(500)"])
        #expect(listed.state == .empty(.any))
    }
}
