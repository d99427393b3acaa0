import Engine
import KubeRuntime
import VolumeStorage
import TestSupport
import Testing

/// Decoding of watch events, and bad input from the server (issue 3 part 5).
@Suite struct WatchEventStreamTests {
    let transport = FakeKubeTransport()
    var client: KubeClient { KubeFixtures.client(transport: transport) }
    let path = "/api/v1/persistentvolumeclaims"

    private func events(_ response: FakeResponse) async throws -> (items: [Result<WatchEvent<PersistentVolumeClaim>, KubeError>], end: KubeError?) {
        transport.enqueue(.get, path, response)
        let stream = try await client.watch(PersistentVolumeClaim.self, options: WatchOptions(resourceVersion: "5", timeoutSeconds: 300))
        var items: [Result<WatchEvent<PersistentVolumeClaim>, KubeError>] = []
        do {
            for try await item in stream { items.append(item) }
            return (items, nil)
        } catch let error as KubeError {
            return (items, error)
        }
    }

    @Test func watchRequest_asksForBookmarksAndATimeout_fromTheResourceVersion() async throws {
        _ = try await events(.watch([]))
        let query = try #require(transport.requests.first?.query)
        #expect(query == ["watch": "true", "resourceVersion": "5", "allowWatchBookmarks": "true", "timeoutSeconds": "300"])
    }

    @Test func everyEventType_decodes_evenWhenSplitIntoTinyChunks() async throws {
        let lines = [
            KubeFixtures.event("ADDED", KubeFixtures.pvc("a", rv: "6")),
            KubeFixtures.event("MODIFIED", KubeFixtures.pvc("a", rv: "7")),
            KubeFixtures.bookmark("PersistentVolumeClaim", rv: "8"),
            KubeFixtures.event("DELETED", KubeFixtures.pvc("a", rv: "9")),
            KubeFixtures.errorEvent(410, reason: "Expired", message: "too old resource version: 5 (1000)"),
        ]
        let (items, end) = try await events(.watch(lines, chunkSizes: [1, 7, 3]))
        #expect(end == nil)
        let summary = items.map { item -> String in
            switch item {
            case .success(.added(let o)): return "ADDED \(o.metadata.resourceVersion)"
            case .success(.modified(let o)): return "MODIFIED \(o.metadata.resourceVersion)"
            case .success(.deleted(let o)): return "DELETED \(o.metadata.resourceVersion)"
            case .success(.bookmark(let rv, let end)): return "BOOKMARK \(rv) \(end)"
            case .success(.error(let status)): return "ERROR \(status.code ?? 0) \(status.reason?.rawValue ?? "")"
            case .failure(let error): return "failure \(error)"
            }
        }
        #expect(summary == ["ADDED 6", "MODIFIED 7", "BOOKMARK 8 false", "DELETED 9", "ERROR 410 Expired"])
    }

    @Test func initialEventsEndBookmark_isRecognised() async throws {
        let line = #"{"type":"BOOKMARK","object":{"kind":"PersistentVolumeClaim","apiVersion":"v1","metadata":{"resourceVersion":"12","annotations":{"k8s.io/initial-events-end":"true"}}}}"#
        let (items, _) = try await events(.watch([line]))
        guard case .success(.bookmark("12", true)) = items.first else {
            Issue.record("unexpected \(items)")
            return
        }
    }

    @Test func badEvents_areFailureElements_andTheStreamContinues() async throws {
        let lines = [
            #"{"type":"SURPRISE","object":{}}"#,
            KubeFixtures.event("ADDED", KubeFixtures.pv("not-a-claim", rv: "6")),
            KubeFixtures.event("ADDED", #"{"kind":"PersistentVolumeClaim","apiVersion":"v1","metadata":{"name":"m","finalizers":"x"}}"#),
            #"{"object":{}}"#,
            KubeFixtures.event("BOOKMARK", #"{"kind":"PersistentVolumeClaim","metadata":{}}"#),
            KubeFixtures.event("ADDED", KubeFixtures.pvc("good", rv: "7")),
        ]
        let (items, end) = try await events(.watch(lines))
        #expect(end == nil)
        let resource = PersistentVolumeClaim.resource
        guard items.count == 6 else {
            Issue.record("expected 6 items, got \(items)")
            return
        }
        #expect(items[0].failure == .unknownEventType(resource: resource, type: "SURPRISE"))
        #expect(items[1].failure == .unexpectedKind(resource: resource, kind: "PersistentVolume", apiVersion: "v1"))
        #expect(items[2].failure?.description.contains("ADDED event \"m\": object.metadata.finalizers") == true)
        #expect(items[3].failure?.description.contains("type: required field missing") == true)
        #expect(items[4].failure?.description.contains("BOOKMARK without metadata.resourceVersion") == true)
        guard case .success(.added(let good)) = items[5] else {
            Issue.record("expected the good event")
            return
        }
        #expect(good.metadata.name == "good")
    }

    @Test func truncatedStream_isThrown() async throws {
        let (items, end) = try await events(.body(status: 200, text: KubeFixtures.event("ADDED", KubeFixtures.pvc("a", rv: "6")) + "\n{\"type\":\"MOD"))
        #expect(items.count == 1)
        #expect(end == .truncatedStream(resource: PersistentVolumeClaim.resource, pendingBytes: 12))
    }

    @Test func nonJSONBytes_areAMalformedStream() async throws {
        let (_, end) = try await events(.body(status: 200, text: "<html>proxy error</html>"))
        guard case .malformedStream = end else {
            Issue.record("unexpected \(String(describing: end))")
            return
        }
    }

    @Test func brokenConnection_isThrownAsTransportError() async throws {
        let (items, end) = try await events(.watch([KubeFixtures.event("ADDED", KubeFixtures.pvc("a", rv: "6"))], end: .fail(.connectionLost("reset"))))
        #expect(items.count == 1)
        #expect(end == .transport(.connectionLost("reset"), request: RequestSummary(method: "GET", path: path)))
    }

    @Test func httpGoneAtWatchStart_isThrownByWatch() async throws {
        transport.enqueue(.get, path, .json(410, KubeFixtures.status(410, reason: "Gone")))
        do {
            _ = try await client.watch(PersistentVolumeClaim.self)
            Issue.record("expected 410")
        } catch let error as KubeError {
            #expect(error.isExpired)
        }
    }
}

extension Result where Failure == KubeError {
    var failure: KubeError? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
