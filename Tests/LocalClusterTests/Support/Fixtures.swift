// Objects and cluster set-ups shared by the LocalCluster tests.

import LocalCluster

enum Fixtures {
    /// A cluster for one test: random port, no controllers unless asked, short waits.
    static func cluster(controllers: Bool = false, configure: (inout LocalClusterConfiguration) -> Void = { _ in })
        async throws -> LocalCluster
    {
        var configuration = LocalClusterConfiguration()
        configuration.runsControllers = controllers
        configuration.controllerResyncPeriod = .milliseconds(200)
        configuration.tooLargeResourceVersionWait = .milliseconds(200)
        configuration.bookmarks = .never
        configure(&configuration)
        return try await LocalCluster.start(configuration)
    }

    /// Runs `body` against a fresh cluster and always shuts it down.
    static func withCluster<T>(
        controllers: Bool = false, configure: (inout LocalClusterConfiguration) -> Void = { _ in },
        _ body: (LocalCluster, TestClient) async throws -> T
    ) async throws -> T {
        let started = try await cluster(controllers: controllers, configure: configure)
        do {
            let result = try await body(started, TestClient(started))
            await started.shutdown()
            return result
        } catch {
            await started.shutdown()
            throw error
        }
    }

    static func claim(_ name: String, namespace: String = "default", storage: String = "1Gi",
                      className: String? = "nfs", accessModes: [String] = ["ReadWriteOnce"]) -> JSONValue
    {
        var spec: JSONValue = [
            "accessModes": .array(accessModes.map(JSONValue.string)),
            "resources": ["requests": ["storage": .string(storage)]],
        ]
        if let className { spec["storageClassName"] = .string(className) }
        return [
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": spec,
        ]
    }

    static func volume(_ name: String, storage: String = "1Gi", className: String = "nfs",
                       accessModes: [String] = ["ReadWriteOnce"], reclaimPolicy: String = "Delete",
                       claimRef: JSONValue? = nil, provisionedBy: String? = nil) -> JSONValue
    {
        var object: JSONValue = [
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": ["name": .string(name)],
            "spec": [
                "capacity": ["storage": .string(storage)],
                "accessModes": .array(accessModes.map(JSONValue.string)),
                "persistentVolumeReclaimPolicy": .string(reclaimPolicy),
                "storageClassName": .string(className),
                "nfs": ["server": "10.0.0.1", "path": .string("/exports/\(name)")],
            ],
        ]
        if let claimRef { object[path: ["spec", "claimRef"]] = claimRef }
        if let provisionedBy {
            object[path: ["metadata", "annotations"]] = ["pv.kubernetes.io/provisioned-by": .string(provisionedBy)]
        }
        return object
    }

    static func storageClass(_ name: String = "nfs", provisioner: String = "example.com/nfs",
                             bindingMode: String? = nil, reclaimPolicy: String? = nil) -> JSONValue
    {
        var object: JSONValue = [
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": ["name": .string(name)], "provisioner": .string(provisioner),
        ]
        if let bindingMode { object["volumeBindingMode"] = .string(bindingMode) }
        if let reclaimPolicy { object["reclaimPolicy"] = .string(reclaimPolicy) }
        return object
    }

    static func lease(_ name: String, namespace: String = "default", holder: String = "a",
                      renewTime: String = "2024-05-01T12:00:00.000000Z") -> JSONValue
    {
        [
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": [
                "holderIdentity": .string(holder), "leaseDurationSeconds": 15,
                "acquireTime": .string(renewTime), "renewTime": .string(renewTime), "leaseTransitions": 0,
            ],
        ]
    }

    static func coreEvent(_ name: String, namespace: String = "default", involvedNamespace: String? = "default",
                          involvedKind: String = "PersistentVolumeClaim") -> JSONValue
    {
        var involved: JSONValue = ["kind": .string(involvedKind), "name": "data", "uid": "1234", "apiVersion": "v1"]
        if let involvedNamespace { involved["namespace"] = .string(involvedNamespace) }
        return [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "involvedObject": involved, "reason": "Provisioning", "message": "External provisioner is provisioning",
            "type": "Normal", "source": ["component": "nfs-provisioner"], "count": 1,
            "firstTimestamp": "2024-05-01T12:00:00Z", "lastTimestamp": "2024-05-01T12:00:00Z",
        ]
    }

    static func pvcPath(_ namespace: String = "default", _ name: String? = nil) -> String {
        "/api/v1/namespaces/\(namespace)/persistentvolumeclaims" + (name.map { "/\($0)" } ?? "")
    }

    static func pvPath(_ name: String? = nil) -> String {
        "/api/v1/persistentvolumes" + (name.map { "/\($0)" } ?? "")
    }

    static func leasePath(_ namespace: String = "default", _ name: String? = nil) -> String {
        "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases" + (name.map { "/\($0)" } ?? "")
    }
}

extension JSONValue {
    var name: String { string(at: "metadata", "name") ?? "" }
    var rv: String { string(at: "metadata", "resourceVersion") ?? "" }
    var eventType: String { self["type"]?.stringValue ?? "" }
    var eventObject: JSONValue { self["object"] ?? .null }
}

/// Polls `condition` every few milliseconds until it holds or `timeout` passes. Only for
/// effects that have no notification to await.
func poll(timeout: Duration = .seconds(30), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        do { try await Task.sleep(for: .milliseconds(5)) } catch { return false }
    }
    return condition()
}
