import Engine
import KubeRuntime
import VolumeStorage
import TestSupport
import Testing

/// On 409 re-GET, re-apply, retry (bounded); conditional merge patches that never mention
/// fields the models do not know.
@Suite struct ClientConflictTests {
    let transport = FakeKubeTransport()
    let clock = KubeManualClock()
    var client: KubeClient { KubeFixtures.client(transport: transport, clock: clock) }
    let conflict = FakeResponse.json(409, KubeFixtures.status(
        409, reason: "Conflict",
        message: "Operation cannot be fulfilled on leases.coordination.k8s.io \"lock\": the object has been modified; please apply your changes to the latest version and try again"))

    private func lease(rv: String, holder: String) -> String {
        """
        {"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"lock","namespace":"ns","resourceVersion":"\(rv)"},\
        "spec":{"holderIdentity":"\(holder)","leaseDurationSeconds":15}}
        """
    }

    @Test func retryOnConflict_reGetsAndReappliesTheChange_afterAStaleUpdate() async throws {
        transport.enqueue(.get, nil, .json(200, lease(rv: "1", holder: "a")))
        transport.enqueue(.put, nil, conflict)
        transport.enqueue(.get, nil, .json(200, lease(rv: "2", holder: "b")))
        transport.enqueue(.put, nil, .json(200, lease(rv: "3", holder: "me")))
        var seenHolders: [String?] = []
        let result = try await client.retryOnConflict(Lease.self, name: "lock", namespace: "ns") { lease in
            seenHolders.append(lease.spec?.holderIdentity)
            lease.spec?.holderIdentity = "me"
        }
        #expect(result.metadata.resourceVersion == "3")
        #expect(seenHolders == ["a", "b"])
        let puts = transport.requests.filter { $0.method == .put }
        #expect(try puts.map { try KubeFixtures.json(try #require($0.bodyText))["metadata"]?["resourceVersion"] }
                == [.string("1"), .string("2")])
        #expect(clock.sleeps.count == 1)
    }

    @Test func retryOnConflict_isBounded_andThrowsTheLastConflict() async throws {
        for _ in 0..<3 {
            transport.enqueue(.get, nil, .json(200, lease(rv: "1", holder: "a")))
            transport.enqueue(.put, nil, conflict)
        }
        do {
            _ = try await client.retryOnConflict(Lease.self, name: "lock", namespace: "ns", maxAttempts: 3) { $0.spec?.holderIdentity = "me" }
            Issue.record("expected a conflict")
        } catch let error as KubeError {
            #expect(error.isConflict)
        }
        #expect(transport.requests.count == 6)
    }

    @Test func retryOnConflict_startingFromACachedObject_skipsTheFirstGet_andNoOpWritesNothing() async throws {
        let cached = try KubeFixtures.json(lease(rv: "1", holder: "me")).decode(as: Lease.self)
        let unchanged = try await client.retryOnConflict(Lease.self, name: "lock", namespace: "ns", startingFrom: cached) {
            $0.spec?.holderIdentity = "me"
        }
        #expect(unchanged == cached)
        #expect(transport.requests.isEmpty)
    }

    @Test func modify_sendsAConditionalMergePatchOfOnlyTheChange() async throws {
        let stored = KubeFixtures.pv("pv1", rv: "4", extra: ",\"csi\":{\"driver\":\"unknown.example\"}")
            .replacingOccurrences(of: "\"resourceVersion\":\"4\"", with: "\"resourceVersion\":\"4\",\"finalizers\":[\"a\",\"b\"]")
        transport.enqueue(.get, "/api/v1/persistentvolumes/pv1", .json(200, stored))
        transport.enqueue(.patch, "/api/v1/persistentvolumes/pv1", .json(200, KubeFixtures.pv("pv1", rv: "5")))
        let result = try await client.modify(PersistentVolume.self, name: "pv1") { volume in
            volume.metadata.finalizers.removeAll { $0 == "a" }
            volume.metadata.annotations["example.com/x"] = "y"
        }
        #expect(result.metadata.resourceVersion == "5")
        let patch = try KubeFixtures.json(try #require(transport.requests.last?.bodyText))
        #expect(patch == (try KubeFixtures.json("""
            {"metadata":{"finalizers":["b"],"annotations":{"example.com/x":"y"},"resourceVersion":"4"}}
            """)))
        #expect(transport.requests.last?.header("Content-Type") == "application/merge-patch+json")
    }

    @Test func modify_onConflict_reGetsAndRecomputesThePatch() async throws {
        let cached = try KubeFixtures.json(KubeFixtures.pv("pv1", rv: "4")).decode(as: PersistentVolume.self)
        transport.enqueue(.patch, nil, conflict)
        transport.enqueue(.get, nil, .json(200, KubeFixtures.pv("pv1", rv: "6", phase: "Released")))
        transport.enqueue(.patch, nil, .json(200, KubeFixtures.pv("pv1", rv: "7")))
        _ = try await client.modify(PersistentVolume.self, name: "pv1", startingFrom: cached) { volume in
            volume.metadata.labels["done"] = "true"
        }
        let patches = try transport.requests.filter { $0.method == .patch }.map { try KubeFixtures.json(try #require($0.bodyText)) }
        #expect(patches.map { $0["metadata"]?["resourceVersion"] } == [.string("4"), .string("6")])
        #expect(transport.requests.map(\.method) == [.patch, .get, .patch])
    }

    @Test func modify_ofStatus_targetsTheStatusSubresource() async throws {
        transport.enqueue(.get, nil, .json(200, KubeFixtures.pv("pv1", rv: "4")))
        transport.enqueue(.patch, "/api/v1/persistentvolumes/pv1/status", .json(200, KubeFixtures.pv("pv1", rv: "5", phase: "Failed")))
        _ = try await client.modify(PersistentVolume.self, name: "pv1", subresource: .status) { $0.status?.phase = "Failed" }
        let patch = try KubeFixtures.json(try #require(transport.requests.last?.bodyText))
        #expect(patch == (try KubeFixtures.json(#"{"status":{"phase":"Failed"},"metadata":{"resourceVersion":"4"}}"#)))
    }

    @Test func modify_whenTheObjectIsGone_reportsNotFound() async throws {
        transport.enqueue(.get, nil, .json(404, KubeFixtures.status(404, reason: "NotFound")))
        do {
            _ = try await client.modify(PersistentVolume.self, name: "pv1") { $0.metadata.finalizers = [] }
            Issue.record("expected NotFound")
        } catch let error as KubeError {
            #expect(error.isNotFound)
        }
    }
}
