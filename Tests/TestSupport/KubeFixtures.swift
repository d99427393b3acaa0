// JSON builders for client and watcher tests: objects, lists, watch event lines and
// Status bodies as the API server writes them (docs/kubernetes-api-behaviour.md).
import Engine
package import KubeRuntime
import VolumeStorage
import Foundation
import Logging

/// Builders of API server JSON.
package enum KubeFixtures {
    /// A client on `transport` with a virtual clock, fixed jitter, no rate limit by default.
    package static func client(
        transport: FakeKubeTransport, clock: KubeManualClock = KubeManualClock(),
        rateLimit: RateLimit = .unlimited, retry: RetryPolicy = .default, bearerToken: BearerToken? = .fixed("t0k3n"),
        jitter: Double = 0.5
    ) -> KubeClient {
        let configuration = KubeClientConfiguration(
            server: ServerURL(scheme: "https", host: "kube.test", port: 6443), bearerToken: bearerToken,
            rateLimit: rateLimit, retry: retry)
        return KubeClient(configuration: configuration, transport: transport, clock: clock,
                          jitter: .constant(jitter), logger: Logger(label: "test.kube"))
    }

    /// A PersistentVolumeClaim object.
    package static func pvc(_ name: String, namespace: String = "default", rv: String, uid: String? = nil,
                           storage: String = "1Gi", extra: String = "") -> String {
        """
        {"kind":"PersistentVolumeClaim","apiVersion":"v1","metadata":{"name":"\(name)","namespace":"\(namespace)",\
        "uid":"\(uid ?? "uid-\(name)")","resourceVersion":"\(rv)"},"spec":{"accessModes":["ReadWriteOnce"],\
        "resources":{"requests":{"storage":"\(storage)"}},"storageClassName":"nfs"}\(extra),"status":{"phase":"Pending"}}
        """
    }

    /// A PersistentVolume object.
    package static func pv(_ name: String, rv: String, phase: String = "Available", extra: String = "") -> String {
        """
        {"kind":"PersistentVolume","apiVersion":"v1","metadata":{"name":"\(name)","uid":"uid-\(name)",\
        "resourceVersion":"\(rv)"},"spec":{"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteMany"],\
        "persistentVolumeReclaimPolicy":"Delete","nfs":{"server":"10.0.0.1","path":"/export/\(name)"}\(extra)},\
        "status":{"phase":"\(phase)"}}
        """
    }

    /// A list of `kind` with the given item JSONs.
    package static func list(_ kind: String, rv: String, items: [String], continue token: String? = nil) -> String {
        let meta = "\"resourceVersion\":\"\(rv)\"" + (token.map { ",\"continue\":\"\($0)\"" } ?? "")
        return "{\"kind\":\"\(kind)List\",\"apiVersion\":\"v1\",\"metadata\":{\(meta)},\"items\":[\(items.joined(separator: ","))]}"
    }

    /// A watch event line.
    package static func event(_ type: String, _ object: String) -> String {
        "{\"type\":\"\(type)\",\"object\":\(object)}"
    }

    /// A BOOKMARK event line for `kind`.
    package static func bookmark(_ kind: String, rv: String) -> String {
        event("BOOKMARK", "{\"kind\":\"\(kind)\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"\(rv)\"}}")
    }

    /// A Status body.
    package static func status(_ code: Int, reason: String, message: String = "", retryAfterSeconds: Int? = nil,
                              causes: String? = nil) -> String {
        var details = ""
        if retryAfterSeconds != nil || causes != nil {
            var parts: [String] = []
            if let retryAfterSeconds { parts.append("\"retryAfterSeconds\":\(retryAfterSeconds)") }
            if let causes { parts.append("\"causes\":\(causes)") }
            details = ",\"details\":{\(parts.joined(separator: ","))}"
        }
        return "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\(jsonString(message)),\"reason\":\"\(reason)\"\(details),\"code\":\(code)}"
    }

    /// `text` as a JSON string literal (quotes and backslashes escaped).
    package static func jsonString(_ text: String) -> String {
        var result = "\""
        for character in text.unicodeScalars {
            switch character {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            default: result.unicodeScalars.append(character)
            }
        }
        return result + "\""
    }

    /// An ERROR watch event carrying a Status.
    package static func errorEvent(_ code: Int, reason: String, message: String = "") -> String {
        event("ERROR", status(code, reason: reason, message: message))
    }

    /// Parses a JSON text (for comparing bodies semantically).
    package static func json(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }
}
