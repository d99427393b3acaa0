// `/version` and minimal discovery (`/api`, `/apis`, group and resource lists).
// Shapes: AM pkg/version/types.go (Info), AM apis/meta/v1/types.go (APIVersions,
// APIGroupList, APIGroup, APIResourceList).

enum Discovery {
    static func version(_ version: LocalClusterConfiguration.Version) -> JSONValue {
        [
            "major": .string(version.major), "minor": .string(version.minor), "gitVersion": .string(version.gitVersion),
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.24.0", "compiler": "gc",
            "platform": "linux/amd64",
        ]
    }

    static func coreVersions(serverAddress: String) -> JSONValue {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]],
        ]
    }

    static var groupNames: [String] {
        var seen: [String] = []
        for type in ResourceType.allCases where !type.info.group.isEmpty && !seen.contains(type.info.group) {
            seen.append(type.info.group)
        }
        return seen
    }

    static func group(_ name: String) -> JSONValue {
        let versions = Set(ResourceType.allCases.filter { $0.info.group == name }.map(\.info.version)).sorted()
        let entries: [JSONValue] = versions.map { ["groupVersion": .string("\(name)/\($0)"), "version": .string($0)] }
        return [
            "kind": "APIGroup", "apiVersion": "v1", "name": .string(name), "versions": .array(entries),
            "preferredVersion": entries.first ?? .null,
        ]
    }

    static func groups() -> JSONValue {
        var list = groupNames.map(group)
        for index in list.indices {
            list[index]["kind"] = nil
            list[index]["apiVersion"] = nil
        }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(list)]
    }

    static func resourceList(group: String, version: String) -> JSONValue {
        var resources: [JSONValue] = []
        for type in ResourceType.allCases where type.info.group == group && type.info.version == version {
            let info = type.info
            let verbs: JSONValue = info.readOnly
                ? ["get", "list", "watch"]
                : ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
            var entry: JSONValue = [
                "name": .string(info.plural), "singularName": .string(info.kind.lowercased()),
                "namespaced": .bool(info.namespaced), "kind": .string(info.kind), "verbs": verbs,
            ]
            if !info.shortNames.isEmpty { entry["shortNames"] = .array(info.shortNames.map(JSONValue.string)) }
            if !info.categories.isEmpty { entry["categories"] = .array(info.categories.map(JSONValue.string)) }
            resources.append(entry)
            if info.hasStatusSubresource {
                resources.append([
                    "name": .string("\(info.plural)/status"), "singularName": "", "namespaced": .bool(info.namespaced),
                    "kind": .string(info.kind), "verbs": ["get", "patch", "update"],
                ])
            }
        }
        let groupVersion = group.isEmpty ? version : "\(group)/\(version)"
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion), "resources": .array(resources)]
    }
}
