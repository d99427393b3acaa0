// URL paths → what they address (DOC api-concepts "Standard API terminology"; KK
// staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go for the path layout).

enum Route: Equatable, Sendable {
    case version
    /// `/api`: the core API versions.
    case coreVersions
    /// `/apis`: the API groups.
    case groups
    /// `/apis/<group>`.
    case group(String)
    /// `/api/v1` or `/apis/<group>/<version>`: the resources of a group version.
    case resourceList(group: String, version: String)
    /// `/healthz`, `/livez`, `/readyz`.
    case health
    /// `/openapi/v3`: where the OpenAPI v3 documents are.
    case openAPIIndex
    /// `/openapi/v3/api/v1`, `/openapi/v3/apis/<group>/<version>`: one group version's document.
    case openAPIDocument(String)
    /// A collection; `namespace` nil for cluster-scoped resources and all-namespaces lists.
    case collection(ResourceType, namespace: String?)
    case item(ResourceType, namespace: String?, name: String, subresource: String?)
}

struct RoutedPath: Equatable {
    var route: Route
    /// The deprecated `/watch/` prefix was used.
    var legacyWatch = false
}

enum Router {
    /// Routes a request path; nil for a path the server does not serve (404).
    static func route(_ path: String) -> RoutedPath? {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).map { percentDecode(String($0)) }
        guard segments.first == "" else { return nil }
        segments.removeFirst()
        if segments.last == "" { segments.removeLast() }
        if segments.contains("") { return nil }
        switch segments.first {
        case "version" where segments.count == 1: return RoutedPath(route: .version)
        case "healthz", "livez", "readyz": return segments.count == 1 ? RoutedPath(route: .health) : nil
        case "openapi":
            guard segments.count >= 2, segments[1] == "v3" else { return nil }
            if segments.count == 2 { return RoutedPath(route: .openAPIIndex) }
            let document = segments.dropFirst(2).joined(separator: "/")
            return OpenAPI.groupVersionPaths.contains(document) ? RoutedPath(route: .openAPIDocument(document)) : nil
        case "api":
            if segments.count == 1 { return RoutedPath(route: .coreVersions) }
            guard segments[1] == "v1" else { return nil }
            if segments.count == 2 { return RoutedPath(route: .resourceList(group: "", version: "v1")) }
            return resourcePath(group: "", version: "v1", Array(segments.dropFirst(2)))
        case "apis":
            if segments.count == 1 { return RoutedPath(route: .groups) }
            let group = segments[1]
            guard ResourceType.allCases.contains(where: { $0.info.group == group && !group.isEmpty }) else { return nil }
            if segments.count == 2 { return RoutedPath(route: .group(group)) }
            let version = segments[2]
            guard ResourceType.allCases.contains(where: { $0.info.group == group && $0.info.version == version }) else {
                return nil
            }
            if segments.count == 3 { return RoutedPath(route: .resourceList(group: group, version: version)) }
            return resourcePath(group: group, version: version, Array(segments.dropFirst(3)))
        default:
            return nil
        }
    }

    static func resourcePath(group: String, version: String, _ rest: [String]) -> RoutedPath? {
        var rest = rest
        var legacyWatch = false
        if rest.first == "watch" {
            legacyWatch = true
            rest.removeFirst()
        }
        func resource(_ plural: String) -> ResourceType? { ResourceType.lookup(group: group, version: version, plural: plural) }
        var routed: Route?
        if rest.first == "namespaces", rest.count >= 3, let type = resource(rest[2]), type.info.namespaced {
            let namespace = rest[1]
            switch rest.count {
            case 3: routed = .collection(type, namespace: namespace)
            case 4: routed = .item(type, namespace: namespace, name: rest[3], subresource: nil)
            case 5: routed = .item(type, namespace: namespace, name: rest[3], subresource: rest[4])
            default: routed = nil
            }
        } else if let first = rest.first, let type = resource(first) {
            switch rest.count {
            case 1: routed = .collection(type, namespace: nil)
            case 2 where !type.info.namespaced: routed = .item(type, namespace: nil, name: rest[1], subresource: nil)
            case 3 where !type.info.namespaced: routed = .item(type, namespace: nil, name: rest[1], subresource: rest[2])
            default: routed = nil
            }
        }
        guard let routed else { return nil }
        if case .item(let type, _, _, let subresource?) = routed {
            guard subresource == "status", type.info.hasStatusSubresource, !legacyWatch else { return nil }
        }
        return RoutedPath(route: routed, legacyWatch: legacyWatch)
    }

    /// Decodes `%XX` escapes (and leaves malformed ones as they are).
    static func percentDecode(_ text: String, plusIsSpace: Bool = false) -> String {
        guard text.contains("%") || (plusIsSpace && text.contains("+")) else { return text }
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var index = 0
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), index + 2 < utf8.count, let high = hex(utf8[index + 1]), let low = hex(utf8[index + 2]) {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Splits `a=1&b=2&a=3` into values per key, decoding `%XX` and `+`.
    static func parseQuery(_ query: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecode(String(parts[0]), plusIsSpace: true)
            let value = parts.count > 1 ? percentDecode(String(parts[1]), plusIsSpace: true) : ""
            result[key, default: []].append(value)
        }
        return result
    }
}
