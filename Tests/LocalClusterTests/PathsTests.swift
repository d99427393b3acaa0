// Items 1-2 of "What LocalCluster reproduces" in docs/kubernetes-api-behaviour.md:
// paths, groups, discovery, 404s.

import LocalCluster
import Testing

@Suite("Paths and discovery (items 1-2)")
struct PathsTests {
    @Test func item01_servesJSONOnEveryGroupPathAndVersion() async throws {
        try await Fixtures.withCluster { _, client in
            let version = try await client.get("/version")
            #expect(version.status == 200)
            #expect(version.headers["Content-Type"].first == "application/json")
            let info = try version.json()
            for key in ["major", "minor", "gitVersion", "gitCommit", "gitTreeState", "buildDate", "goVersion", "compiler", "platform"] {
                #expect(info[key]?.stringValue != nil, "version.Info lacks \(key)")
            }

            let lists: [(String, String)] = [
                ("/api/v1/namespaces/default/persistentvolumeclaims", "PersistentVolumeClaimList"),
                ("/api/v1/persistentvolumes", "PersistentVolumeList"),
                ("/apis/storage.k8s.io/v1/storageclasses", "StorageClassList"),
                ("/apis/coordination.k8s.io/v1/namespaces/default/leases", "LeaseList"),
                ("/api/v1/namespaces/default/events", "EventList"),
                ("/apis/events.k8s.io/v1/namespaces/default/events", "EventList"),
            ]
            for (path, kind) in lists {
                let response = try await client.get(path)
                #expect(response.status == 200, "\(path)")
                #expect(try response.json()["kind"]?.stringValue == kind, "\(path)")
            }
            let coreEvents = try await client.get("/api/v1/namespaces/default/events")
            #expect(try coreEvents.json()["apiVersion"]?.stringValue == "v1")
            let eventsV1 = try await client.get("/apis/events.k8s.io/v1/namespaces/default/events")
            #expect(try eventsV1.json()["apiVersion"]?.stringValue == "events.k8s.io/v1")

            #expect(try await client.get("/api").json()["versions"] == ["v1"])
            let groups = try await client.get("/apis").json()["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(Set(groups) == ["storage.k8s.io", "coordination.k8s.io", "events.k8s.io"])
            let resources = try await client.get("/api/v1").json()["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(resources.contains("persistentvolumeclaims/status"))
        }
    }

    @Test func item01_unknownPathsAre404WithAStatus() async throws {
        try await Fixtures.withCluster { _, client in
            for path in ["/apis/apps/v1/deployments", "/api/v1/namespaces/default/configmaps", "/api/v2/persistentvolumes",
                         "/api/v1/namespaces/default/persistentvolumes", "/nonsense", "/api/v1/persistentvolumes/x/scale"] {
                let response = try await client.get(path)
                #expect(response.status == 404, "\(path)")
                #expect(try response.reason() == "NotFound")
                #expect(try response.message() == "the server could not find the requested resource")
                #expect(try response.json()["kind"] == "Status")
            }
        }
    }

    @Test func item02_claimsAreListedPerNamespaceAndAcrossNamespaces() async throws {
        try await Fixtures.withCluster { _, client in
            #expect(try await client.post(Fixtures.pvcPath("alpha"), Fixtures.claim("a", namespace: "alpha")).status == 201)
            #expect(try await client.post(Fixtures.pvcPath("beta"), Fixtures.claim("b", namespace: "beta")).status == 201)

            let all = try await client.get("/api/v1/persistentvolumeclaims").json()
            #expect(all["items"]?.arrayValue?.map(\.name) == ["a", "b"])
            let alpha = try await client.get(Fixtures.pvcPath("alpha")).json()
            #expect(alpha["items"]?.arrayValue?.map(\.name) == ["a"])

            let watch = WatchReader.start(client, "/api/v1/persistentvolumeclaims?watch=true&timeoutSeconds=5")
            defer { watch.cancel() }
            let events = await watch.waitForEvents(2)
            #expect(events.map(\.eventObject.name).sorted() == ["a", "b"])

            // Cluster-scoped PVs: no namespaced path, a POST body namespace is dropped.
            #expect(try await client.get("/api/v1/namespaces/alpha/persistentvolumes").status == 404)
            var volume = Fixtures.volume("pv1")
            volume[path: ["metadata", "namespace"]] = "alpha"
            let created = try await client.post(Fixtures.pvPath(), volume).json()
            #expect(created[path: ["metadata", "namespace"]] == nil)
        }
    }
}
