// Watch events as the server sends them: {"type": "...", "object": {...}} (apimachinery
// apis/meta/v1/watch.go:31-40; types pkg/watch/watch.go:57-61), decoded per value with
// clear errors for everything unexpected (issue 3 part 5).
import Foundation

/// One event of a raw watch stream.
package enum WatchEvent<Object: KubeResource>: Sendable {
    case added(Object)
    case modified(Object)
    /// Carries the last state, with the resourceVersion of the deletion.
    case deleted(Object)
    /// A progress marker: only `resourceVersion` is meaningful.
    /// `initialEventsEnd` is the watch-list end marker (`k8s.io/initial-events-end`).
    case bookmark(resourceVersion: String, initialEventsEnd: Bool)
    /// An error reported inside the stream, e.g. 410 Expired; the stream ends after it.
    case error(Status)

    /// The resourceVersion this event moves the watch to, if any.
    package var resourceVersion: String? {
        switch self {
        case .added(let object), .modified(let object), .deleted(let object):
            return object.metadata.resourceVersion.isEmpty ? nil : object.metadata.resourceVersion
        case .bookmark(let rv, _):
            return rv.isEmpty ? nil : rv
        case .error:
            return nil
        }
    }
}

/// Decodes one complete JSON value of a watch stream into a `WatchEvent`.
enum WatchEventDecoder {
    /// The annotation marking the end of the initial events of a watch-list (AM types.go:502-509).
    static let initialEventsEndAnnotation = "k8s.io/initial-events-end"

    /// Decodes `bytes`, checking the event type and the object's kind/apiVersion.
    static func decode<Object: KubeResource>(_ bytes: [UInt8], as type: Object.Type) -> Result<WatchEvent<Object>, KubeError> {
        let resource = Object.resource
        let data = Data(bytes)
        let head: EventHead
        do {
            head = try JSONCoding.decoder.decode(EventHead.self, from: data)
        } catch {
            return .failure(.malformedObject(resource: resource, detail: "watch event: \(describeDecodingError(error)) in \(snippet(bytes))"))
        }
        switch head.type {
        case "ADDED", "MODIFIED", "DELETED", "BOOKMARK":
            // client-go drops events whose object has another kind (reflector.go:1019-1024);
            // here that is an error element. A missing kind/apiVersion is tolerated.
            if let kind = head.object?.kind, kind != resource.kind {
                return .failure(.unexpectedKind(resource: resource, kind: kind, apiVersion: head.object?.apiVersion ?? ""))
            }
            if let apiVersion = head.object?.apiVersion, apiVersion != resource.apiVersion {
                return .failure(.unexpectedKind(resource: resource, kind: head.object?.kind ?? resource.kind, apiVersion: apiVersion))
            }
        case "ERROR":
            break
        default:
            return .failure(.unknownEventType(resource: resource, type: head.type))
        }
        if head.type == "BOOKMARK" {
            let metadata = head.object?.metadata
            let rv = metadata?.resourceVersion ?? ""
            guard !rv.isEmpty else {
                return .failure(.malformedObject(resource: resource, detail: "BOOKMARK without metadata.resourceVersion"))
            }
            let end = metadata?.annotations?[initialEventsEndAnnotation] == "true"
            return .success(.bookmark(resourceVersion: rv, initialEventsEnd: end))
        }
        if head.type == "ERROR" {
            do {
                let body = try JSONCoding.decoder.decode(EventBody<Status>.self, from: data)
                return .success(.error(body.object))
            } catch {
                return .failure(.malformedObject(resource: resource, detail: "ERROR event: \(describeDecodingError(error))"))
            }
        }
        let object: Object
        do {
            object = try JSONCoding.decoder.decode(EventBody<Object>.self, from: data).object
        } catch {
            let name = head.object?.metadata?.name.map { " \"\($0)\"" } ?? ""
            return .failure(.malformedObject(resource: resource, detail: "\(head.type) event\(name): \(describeDecodingError(error))"))
        }
        switch head.type {
        case "ADDED": return .success(.added(object))
        case "MODIFIED": return .success(.modified(object))
        default: return .success(.deleted(object))
        }
    }

    /// The first bytes of a value, for error messages.
    static func snippet(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(120), as: UTF8.self)
        return "\"" + text + (bytes.count > 120 ? "..." : "") + "\""
    }

    private struct EventHead: Decodable {
        var type: String
        var object: ObjectHead?
    }

    private struct ObjectHead: Decodable {
        var kind: String?
        var apiVersion: String?
        var metadata: MetadataHead?
    }

    private struct MetadataHead: Decodable {
        var name: String?
        var resourceVersion: String?
        var annotations: [String: String]?
    }

    private struct EventBody<Payload: Decodable>: Decodable {
        var object: Payload
    }
}
