// Item 37 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md:
// every injected fault is delivered as specified and counted; the request log.

import AsyncHTTPClient
import LocalCluster
import Testing

@Suite("Fault injection (item 37)")
struct FaultInjectionTests {
    @Test func item37_conflictOnChosenWritesThenNormalService() async throws {
        try await Fixtures.withCluster { cluster, client in
            let claim = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data")).json()
            let rule = cluster.injectFault(FaultRule(method: "PUT", path: .contains("/persistentvolumeclaims/"),
                                                     trigger: .times(2), action: .conflict))
            let path = Fixtures.pvcPath("default", "data")
            for _ in 0..<2 {
                let response = try await client.put(path, claim)
                #expect(response.status == 409)
                #expect(try response.message() == "Operation cannot be fulfilled on persistentvolumeclaims \"data\": the object has been modified; please apply your changes to the latest version and try again")
            }
            #expect(try await client.put(path, claim).status == 200)
            #expect(try await client.get(path).status == 200)
            #expect(cluster.fireCount(rule) == 2)
        }
    }

    @Test func item37_tooManyRequestsAsJSONStatusWithRetryAfter() async throws {
        try await Fixtures.withCluster { cluster, client in
            cluster.injectFault(FaultRule(verb: .list, action: .tooManyRequests(retryAfterSeconds: 3)))
            let response = try await client.get(Fixtures.pvcPath())
            #expect(response.status == 429)
            #expect(response.headers["Retry-After"].first == "3")
            #expect(try response.reason() == "TooManyRequests")
            #expect(try response.json()[path: ["details", "retryAfterSeconds"]] == 3)
        }
    }

    @Test func item37_tooManyRequestsAsPlainTextWithRetryAfter() async throws {
        try await Fixtures.withCluster { cluster, client in
            let rule = cluster.injectFault(FaultRule(verb: .get, action: .tooManyRequestsPlainText(retryAfterSeconds: 1)))
            let response = try await client.get(Fixtures.pvcPath("default", "x"))
            #expect(response.status == 429)
            #expect(response.headers["Retry-After"].first == "1")
            #expect(response.headers["Content-Type"].first?.hasPrefix("text/plain") == true)
            #expect(response.text == "Too many requests, please try again later.\n")
            #expect(throws: (any Error).self) { try JSONValue.parse(response.body) }
            #expect(cluster.fireCount(rule) == 1)
        }
    }

    @Test func item37_serverErrorsCarryAStatus() async throws {
        try await Fixtures.withCluster { cluster, client in
            let cases: [(FaultAction, Int, String)] = [
                (.internalError, 500, "InternalError"),
                (.serviceUnavailable(retryAfterSeconds: 2), 503, "ServiceUnavailable"),
                (.gatewayTimeout(), 504, "Timeout"),
            ]
            for (action, code, reason) in cases {
                let rule = cluster.injectFault(FaultRule(path: .contains("/persistentvolumes"), action: action))
                let response = try await client.get(Fixtures.pvPath())
                #expect(response.status == code)
                #expect(try response.reason() == reason)
                #expect(try response.json()["code"] == .int(Int64(code)))
                #expect(cluster.fireCount(rule) == 1)
            }
            #expect(try await client.get(Fixtures.pvPath()).status == 200)
        }
    }

    @Test func item37_aWatchDroppedAfterKEventsEndsWithoutTheLastChunk() async throws {
        try await Fixtures.withCluster { cluster, client in
            for index in 0..<4 { _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("c\(index)")) }
            cluster.injectFault(FaultRule(verb: .watch, action: .watch(.drop(afterEvents: 2))))
            let dropped = try await RawHTTP.get(port: cluster.port, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=10")
            #expect(dropped.closedByPeer)
            #expect(dropped.head.hasPrefix("HTTP/1.1 200"))
            let decoded = try #require(dropped.chunks())
            #expect(!decoded.terminated)
            #expect(dropped.lines().count == 2)

            cluster.injectFault(FaultRule(verb: .watch, action: .watch(.drop(afterEvents: 0))))
            let immediately = try await RawHTTP.get(port: cluster.port, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=10")
            #expect(immediately.closedByPeer)
            #expect(immediately.lines().isEmpty)
            #expect(try #require(immediately.chunks()).terminated == false)
        }
    }

    @Test func item37_anErrorEventMidStreamThenACleanEnd() async throws {
        try await Fixtures.withCluster { cluster, client in
            for index in 0..<3 { _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("c\(index)")) }
            cluster.injectFault(FaultRule(verb: .watch, action: .watch(.error(afterEvents: 1))))
            let expired = try await RawHTTP.get(port: cluster.port, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=10",
                                                until: RawHTTP.endsChunkedBody)
            let lines = expired.lines()
            #expect(lines.count == 2)
            let error = try JSONValue.parse(lines[1])
            #expect(error.eventType == "ERROR")
            #expect(error.eventObject["code"] == 410)
            #expect(error.eventObject["reason"] == "Expired")
            #expect(error.eventObject["message"]?.stringValue?.hasPrefix("too old resource version:") == true)
            #expect(try #require(expired.chunks()).terminated)

            let custom = APIStatus(code: 500, reason: "InternalError", message: "etcd went away")
            cluster.injectFault(FaultRule(verb: .watch, action: .watch(.error(afterEvents: 0, status: custom))))
            let other = try await RawHTTP.get(port: cluster.port, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=10",
                                              until: RawHTTP.endsChunkedBody)
            #expect(other.lines().count == 1)
            #expect(try JSONValue.parse(other.lines()[0]).eventObject["message"] == "etcd went away")
        }
    }

    @Test func item37_splitChunksAreValidFramingAndReassembleToTheSameEvents() async throws {
        try await Fixtures.withCluster { cluster, client in
            for index in 0..<3 { _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("c\(index)")) }
            let path = Fixtures.pvcPath() + "?watch=true&timeoutSeconds=1&resourceVersion=1"
            let plain = try await RawHTTP.get(port: cluster.port, path, until: RawHTTP.endsChunkedBody)
            for size in [1, 7] {
                let rule = cluster.injectFault(FaultRule(verb: .watch, action: .watch(.split(chunkSize: size))))
                let split = try await RawHTTP.get(port: cluster.port, path, until: RawHTTP.endsChunkedBody)
                let decoded = try #require(split.chunks(), "chunked framing must stay valid")
                #expect(decoded.terminated)
                #expect(decoded.sizes.allSatisfy { $0 <= size })
                #expect(decoded.sizes.count >= decoded.payload.count / size)
                #expect(decoded.payload == plain.chunks()?.payload)
                #expect(split.lines().count == 3)
                #expect(cluster.fireCount(rule) == 1)
            }
            // async-http-client decodes the same events from 1-byte chunks.
            // 1 ms per byte takes seconds for three events (more on a loaded machine): give
            // this watch a server timeout that cannot cut it short.
            cluster.injectFault(FaultRule(verb: .watch, action: .watch(.split(chunkSize: 1, delay: .milliseconds(1)))))
            let watch = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=8&resourceVersion=1")
            defer { watch.cancel() }
            #expect(await watch.waitForEnd())
            #expect(watch.failure == nil)
            #expect(watch.events.map(\.eventObject.name) == ["c0", "c1", "c2"])
        }
    }

    @Test func item37_probabilityIsDrawnFromTheSeededGenerator() async throws {
        func fireCount(seed: UInt64) async throws -> Int {
            try await Fixtures.withCluster(configure: { $0.seed = seed }) { cluster, client in
                let rule = cluster.injectFault(FaultRule(verb: .list, trigger: .probability(0.5), action: .internalError))
                var failures = 0
                for _ in 0..<40 where try await client.get(Fixtures.pvPath()).status == 500 { failures += 1 }
                #expect(failures == cluster.fireCount(rule))
                return failures
            }
        }
        let first = try await fireCount(seed: 42)
        #expect(first > 0 && first < 40)
        #expect(try await fireCount(seed: 42) == first)
    }

    @Test func item37_closedConnectionsDelaysAndMatchingByVerb() async throws {
        try await Fixtures.withCluster { cluster, client in
            let drop = cluster.injectFault(FaultRule(method: "GET", path: .contains("/persistentvolumes"), verb: .list,
                                                     action: .closeConnection))
            await #expect(throws: (any Error).self) { _ = try await client.get(Fixtures.pvPath()) }
            #expect(cluster.fireCount(drop) == 1)
            // A watch on the same path is another verb: unaffected.
            let raw = try await RawHTTP.get(port: cluster.port, Fixtures.pvPath() + "?watch=true&timeoutSeconds=1",
                                            until: RawHTTP.endsChunkedBody)
            #expect(raw.head.hasPrefix("HTTP/1.1 200"))
            let delay = cluster.injectFault(FaultRule(path: .predicate { $0.hasSuffix("/storageclasses") },
                                                      action: .delay(.milliseconds(20))))
            #expect(try await client.get("/apis/storage.k8s.io/v1/storageclasses").status == 200)
            #expect(cluster.fireCount(delay) == 1)
            cluster.removeAllFaults()
            #expect(try await client.get(Fixtures.pvPath()).status == 200)
            #expect(cluster.fireCount(drop) == 1)
        }
    }

    @Test func item37_theRequestLogRecordsMethodPathQueryStatusAndFault() async throws {
        try await Fixtures.withCluster { cluster, client in
            let rule = cluster.injectFault(FaultRule(verb: .create, action: .internalError))
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("a"))
            _ = try await client.get(Fixtures.pvcPath() + "?limit=5")
            _ = try await client.get("/nowhere")
            let log = cluster.requestLog
            #expect(log.count == 3)
            #expect(log[0] == RequestRecord(method: "POST", path: Fixtures.pvcPath(), query: "", verb: .create, status: 500, fault: rule))
            #expect(log[1].query == "limit=5" && log[1].verb == .list && log[1].status == 200 && log[1].fault == nil)
            #expect(log[2].status == 404 && log[2].verb == nil)
            cluster.clearRequestLog()
            #expect(cluster.requestLog.isEmpty)
        }
    }
}
