// Items 38-39 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md:
// Lease validation and MicroTime; core/v1 and events.k8s.io/v1 Events.

import LocalCluster
import Testing

@Suite("Leases and Events (items 38-39)")
struct LeaseAndEventTests {
    @Test func item38_leaseTimesAreMicroTimeAndEmptyHolderIsKept() async throws {
        try await Fixtures.withCluster { _, client in
            var lease = Fixtures.lease("lock", holder: "", renewTime: "2024-05-01T14:00:00.123456+02:00")
            lease[path: ["spec", "acquireTime"]] = "2024-05-01T12:00:00.000001Z"
            let created = try await client.post(Fixtures.leasePath(), lease)
            #expect(created.status == 201)
            let object = try created.json()
            #expect(object[path: ["spec", "renewTime"]] == "2024-05-01T12:00:00.123456Z")
            #expect(object[path: ["spec", "acquireTime"]] == "2024-05-01T12:00:00.000001Z")
            #expect(object[path: ["spec", "holderIdentity"]] == "")
            #expect(created.text.contains("\"holderIdentity\":\"\""))
        }
    }

    @Test func item38_invalidLeasesAreRejected() async throws {
        try await Fixtures.withCluster { _, client in
            var zero = Fixtures.lease("a")
            zero[path: ["spec", "leaseDurationSeconds"]] = 0
            let duration = try await client.post(Fixtures.leasePath(), zero)
            #expect(duration.status == 422)
            #expect(try duration.message() == "Lease.coordination.k8s.io \"a\" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0")

            var negative = Fixtures.lease("b")
            negative[path: ["spec", "leaseTransitions"]] = -1
            #expect(try await client.post(Fixtures.leasePath(), negative).status == 422)

            // MicroTime needs exactly six fraction digits: anything else fails decoding (400).
            let seconds = try await client.post(Fixtures.leasePath(), Fixtures.lease("c", renewTime: "2024-05-01T12:00:00Z"))
            #expect(seconds.status == 400)
            #expect(try seconds.message().hasPrefix("Lease in version \"v1\" cannot be handled as a Lease: parsing time \"2024-05-01T12:00:00Z\""))
            var wrongType = Fixtures.lease("d")
            wrongType[path: ["spec", "leaseDurationSeconds"]] = "15"
            let typed = try await client.post(Fixtures.leasePath(), wrongType)
            #expect(typed.status == 400)
            #expect(try typed.message().contains("cannot unmarshal string into Go struct field spec.leaseDurationSeconds of type int32"))
        }
    }

    @Test func item39_coreEventsFollowTheNamespaceRules() async throws {
        try await Fixtures.withCluster { _, client in
            let path = "/api/v1/namespaces/default/events"
            #expect(try await client.post(path, Fixtures.coreEvent("claim.1")).status == 201)
            // A PV (cluster-scoped) event lives in "default".
            let pvEvent = Fixtures.coreEvent("pv.1", involvedNamespace: nil, involvedKind: "PersistentVolume")
            #expect(try await client.post(path, pvEvent).status == 201)
            let elsewhere = Fixtures.coreEvent("pv.2", namespace: "other", involvedNamespace: nil, involvedKind: "PersistentVolume")
            let rejected = try await client.post("/api/v1/namespaces/other/events", elsewhere)
            #expect(rejected.status == 422)
            #expect(try rejected.json()[path: ["details", "causes"]]?.arrayValue?.first?["field"] == "involvedObject.namespace")
            let mismatch = Fixtures.coreEvent("claim.2", namespace: "default", involvedNamespace: "team")
            #expect(try await client.post(path, mismatch).status == 422)

            // PATCH (merge) of an event, as a recorder bumping its count.
            let bumped = try await client.mergePatch(path + "/claim.1", ["count": 2, "lastTimestamp": "2024-05-01T12:05:00Z"])
            #expect(bumped.status == 200)
            #expect(try bumped.json()["count"] == 2)
            let fieldSelected = try await client.get(path + "?fieldSelector=involvedObject.kind%3DPersistentVolume").json()
            #expect(fieldSelected["items"]?.arrayValue?.map(\.name) == ["pv.1"])
        }
    }

    @Test func item39_eventsV1RequiresTheReportingFields() async throws {
        try await Fixtures.withCluster { _, client in
            let path = "/apis/events.k8s.io/v1/namespaces/default/events"
            let valid: JSONValue = [
                "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "claim.1", "namespace": "default"],
                "eventTime": "2024-05-01T12:00:00.000000Z", "reportingController": "example.com/nfs",
                "reportingInstance": "nfs-0", "action": "Provisioning", "reason": "Provisioning", "type": "Normal",
                "regarding": ["kind": "PersistentVolumeClaim", "namespace": "default", "name": "data"], "note": "started",
            ]
            #expect(try await client.post(path, valid).status == 201)
            var missing = valid
            missing[path: ["metadata", "name"]] = "claim.2"
            for key in ["eventTime", "reportingController", "reportingInstance", "action"] { missing[key] = nil }
            let response = try await client.post(path, missing)
            #expect(response.status == 422)
            let fields = try response.json()[path: ["details", "causes"]]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []
            #expect(Set(fields).isSuperset(of: ["eventTime", "reportingController", "reportingInstance", "action"]))
        }
    }
}
