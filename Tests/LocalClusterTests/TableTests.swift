// Item 50 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md: Table
// responses (server-side printing, what `kubectl get` shows) for lists, gets and watches.

@testable import LocalCluster
import Synchronization
import Testing

@Suite("Table responses (item 50)")
struct TableTests {
    /// What kubectl 1.32 sends for `kubectl get`.
    static let kubectlAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"

    func table(_ client: TestClient, _ path: String, accept: String = kubectlAccept) async throws -> TestResponse {
        try await client.request(.GET, path, headers: [("Accept", accept)])
    }

    func columnNames(_ table: JSONValue) -> [String] {
        (table["columnDefinitions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }

    func cells(_ table: JSONValue, row: Int = 0) -> [JSONValue] {
        table["rows"]?.arrayValue?[row]["cells"]?.arrayValue ?? []
    }

    @Test func item50_listsOfEveryKindAreTablesWithThePrintersColumns() async throws {
        try await Fixtures.withCluster(configure: { configuration in
            configuration.clock = { Timestamp(seconds: 1_714_564_800) }  // 2024-05-01T12:00:00Z
        }) { cluster, client in
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data", className: "nfs", accessModes: ["ReadWriteMany", "ReadWriteOnce"]))
            var volume = Fixtures.volume("pv-1", reclaimPolicy: "Retain", claimRef: ["namespace": "default", "name": "data", "uid": "1"])
            volume[path: ["spec", "volumeMode"]] = "Filesystem"
            _ = try await client.post(Fixtures.pvPath(), volume)
            var defaultClass = Fixtures.storageClass("nfs", bindingMode: "WaitForFirstConsumer")
            defaultClass[path: ["metadata", "annotations"]] = ["storageclass.kubernetes.io/is-default-class": "true"]
            _ = try await client.post("/apis/storage.k8s.io/v1/storageclasses", defaultClass)
            _ = try await client.post(Fixtures.leasePath(), Fixtures.lease("leader", holder: "replica-a"))
            _ = try await client.post("/api/v1/namespaces/default/events", Fixtures.coreEvent("data.1"))

            let claims = try await table(client, Fixtures.pvcPath())
            #expect(claims.status == 200)
            #expect(claims.headers["Content-Type"].first == "application/json;as=Table;v=v1;g=meta.k8s.io")
            let claimTable = try claims.json()
            #expect(claimTable["kind"] == "Table")
            #expect(claimTable["apiVersion"] == "meta.k8s.io/v1")
            #expect(claimTable[path: ["metadata", "resourceVersion"]] == .string(cluster.resourceVersion))
            #expect(columnNames(claimTable) == ["Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass",
                                                "VolumeAttributesClass", "Age", "VolumeMode"])
            #expect(cells(claimTable) == ["data", "Pending", "", "", "", "nfs", "<unset>", "0s", "Filesystem"])
            #expect(claimTable["rows"]?.arrayValue?.first?["object"]?["kind"] == "PartialObjectMetadata")
            #expect(claimTable["rows"]?.arrayValue?.first?["object"]?[path: ["metadata", "name"]] == "data")

            let volumes = try await table(client, Fixtures.pvPath()).json()
            #expect(columnNames(volumes) == ["Name", "Capacity", "Access Modes", "Reclaim Policy", "Status", "Claim", "StorageClass",
                                             "VolumeAttributesClass", "Reason", "Age", "VolumeMode"])
            #expect(cells(volumes) == ["pv-1", "1Gi", "RWO", "Retain", "Pending", "default/data", "nfs", "<unset>", "", "0s", "Filesystem"])
            let priorities = volumes["columnDefinitions"]?.arrayValue?.map { $0["priority"] } ?? []
            #expect(priorities.last == 1 && priorities.dropLast().allSatisfy { $0 == 0 }, "VolumeMode is a wide column")

            let classes = try await table(client, "/apis/storage.k8s.io/v1/storageclasses").json()
            #expect(columnNames(classes) == ["Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode", "AllowVolumeExpansion", "Age"])
            #expect(cells(classes) == ["nfs (default)", "example.com/nfs", "Delete", "WaitForFirstConsumer", false, "0s"])

            let leases = try await table(client, Fixtures.leasePath()).json()
            #expect(cells(leases) == ["leader", "replica-a", "0s"])

            let events = try await table(client, "/api/v1/namespaces/default/events").json()
            #expect(columnNames(events) == ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message",
                                            "First Seen", "Count", "Name"])
            #expect(cells(events) == ["0s", "Normal", "Provisioning", "persistentvolumeclaim/data", "", "nfs-provisioner",
                                      "External provisioner is provisioning", "0s", 1, "data.1"])
        }
    }

    @Test func item50_aBoundClaimShowsItsVolumeAndATerminatingOneSaysSo() async throws {
        let start = Timestamp(seconds: 1_714_564_800)
        let clock = ManualWallClock(start)
        try await Fixtures.withCluster(configure: { $0.clock = { clock.now } }) { cluster, client in
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data"))
            _ = try cluster.mergePatch(.persistentVolumeClaims, namespace: "default", name: "data", ["spec": ["volumeName": "pv-1"]])
            _ = try cluster.mergePatch(.persistentVolumeClaims, namespace: "default", name: "data",
                                       ["status": ["phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": ["storage": "2Gi"]]],
                                       status: true)
            clock.advance(seconds: 3 * 3600 + 125)
            let bound = try await table(client, Fixtures.pvcPath("default", "data")).json()
            #expect(cells(bound) == ["data", "Bound", "pv-1", "2Gi", "RWO", "nfs", "<unset>", "3h2m", "Filesystem"])
            _ = try await client.delete(Fixtures.pvcPath("default", "data"))
            let terminating = try await table(client, Fixtures.pvcPath("default", "data")).json()
            #expect(cells(terminating).dropFirst().first == "Terminating")
        }
    }

    @Test func item50_includeObjectAndNegotiation() async throws {
        try await Fixtures.withCluster { _, client in
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data"))
            let full = try await table(client, Fixtures.pvcPath() + "?includeObject=Object").json()
            let object = full["rows"]?.arrayValue?.first?["object"]
            #expect(object?["kind"] == "PersistentVolumeClaim" && object?[path: ["spec", "storageClassName"]] == "nfs")
            let none = try await table(client, Fixtures.pvcPath() + "?includeObject=None").json()
            #expect(none["rows"]?.arrayValue?.first?["object"] == .null)
            let bad = try await table(client, Fixtures.pvcPath() + "?includeObject=All")
            #expect(bad.status == 400)
            #expect(try bad.message() == "unrecognized includeObject value: \"All\"")

            let beta = try await table(client, Fixtures.pvcPath(), accept: "application/json;as=Table;v=v1beta1;g=meta.k8s.io")
            #expect(try beta.json()["apiVersion"] == "meta.k8s.io/v1beta1")
            // A Table is only for reads of resources; elsewhere the client's fallback is used, or 406.
            let discovery = try await table(client, "/api/v1")
            #expect(try discovery.json()["kind"] == "APIResourceList")
            let onlyTable = try await table(client, "/api/v1", accept: "application/json;as=Table;v=v1;g=meta.k8s.io")
            #expect(onlyTable.status == 406)
            let otherForm = try await table(client, Fixtures.pvcPath(), accept: "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io")
            #expect(otherForm.status == 406)
        }
    }

    @Test func item50_aWatchSendsOneRowTablesAndTheHeadersOnlyFirst() async throws {
        try await Fixtures.withCluster { _, client in
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("a"))
            let watch = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=10", headers: [("Accept", Self.kubectlAccept)])
            defer { watch.cancel() }
            #expect(await watch.waitForEvents(1).count == 1)
            _ = try await client.post(Fixtures.pvcPath(), Fixtures.claim("b"))
            let events = await watch.waitForEvents(2)
            #expect(events.map { $0["type"] } == ["ADDED", "ADDED"])
            let tables = events.map { $0["object"] ?? .null }
            #expect(tables.allSatisfy { $0["kind"] == "Table" })
            #expect(columnNames(tables[0]).first == "Name")
            #expect(tables[1]["columnDefinitions"] == .null)
            #expect(tables.map { cells($0).first } == ["a", "b"])
            #expect(tables[1][path: ["metadata", "resourceVersion"]] == tables[1]["rows"]?.arrayValue?.first?["object"]?[path: ["metadata", "resourceVersion"]])
        }
    }

    @Test func item50_agesAndAccessModesPrintLikeKubectl() {
        let cases: [(Int64, String)] = [(-5, "<invalid>"), (-1, "0s"), (0, "0s"), (119, "119s"), (120, "2m"), (125, "2m5s"),
                                        (600, "10m"), (10_799, "179m"), (10_800, "3h"), (11_000, "3h3m"), (28_800, "8h"),
                                        (172_800, "2d"), (180_000, "2d2h"), (700_000, "8d"), (63_072_000, "2y"),
                                        (63_158_400, "2y1d"), (252_288_000, "8y")]
        for (seconds, text) in cases {
            #expect(TableConvertor.humanDuration(seconds: seconds) == text, "\(seconds)")
        }
        #expect(TableConvertor.accessModes(["ReadWriteOncePod", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"]) == "RWO,RWX,RWOP")
        #expect(TableConvertor.since(nil, now: Timestamp(seconds: 0)) == "<unknown>")
    }
}

/// A wall clock a test moves by hand.
final class ManualWallClock: Sendable {
    let current: Mutex<Timestamp>
    init(_ start: Timestamp) { current = Mutex(start) }
    var now: Timestamp { current.withLock { $0 } }
    func advance(seconds: Int64) { current.withLock { $0.seconds += seconds } }
}
