// Strategic merge patch (`application/strategic-merge-patch+json`): a JSON merge patch that
// knows the type's lists. Objects merge member by member and `null` deletes, as in a merge
// patch; a list is replaced whole unless its field has a merge strategy (`TypeSchema`):
// then scalars are united and objects are merged by their key. Directives:
//
// - `"$patch": "replace"` in an object: the object is replaced by the rest of the patch;
//   `"$patch": "delete"` removes it; `"$patch": "merge"` is the default.
// - an element `{"$patch": "replace"}` in a list: the list is replaced by the other elements;
//   an element `{"<key>": v, "$patch": "delete"}` removes the element with that key.
// - `"$deleteFromPrimitiveList/<field>": [v, ...]` removes those values from a merged set.
// - `"$setElementOrder/<field>": [...]` orders a merged list (the listed elements in that
//   order, followed by the others in their current order).
// - `"$retainKeys": [k, ...]` keeps only those members of the current object.
//
// The semantics follow k8s.io/apimachinery/pkg/util/strategicpatch (StrategicMergePatch,
// mergeMap, mergeSlice) as documented in
// https://github.com/kubernetes/community/blob/master/contributors/devel/sig-api-machinery/strategic-merge-patch.md.
// Fields the schema does not know merge like a JSON merge patch (lists replaced).

enum StrategicMergePatch {
    static let directive = "$patch"
    static let deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList/"
    static let setElementOrderPrefix = "$setElementOrder/"
    static let retainKeys = "$retainKeys"

    /// Applies `patch` (an object) to `target` (an object) of the given schema.
    static func apply(_ patch: JSONValue, to target: JSONValue, schema: TypeSchema) throws(PatchError) -> JSONValue {
        guard let patchMembers = patch.objectValue else {
            throw .malformed("json: cannot unmarshal \(JSONPatch.typeName(patch)) into Go value of type map[string]interface {}")
        }
        return .object(try mergeObject(target.objectValue ?? [:], patchMembers, schema: schema))
    }

    static func isDirective(_ key: String) -> Bool {
        key == directive || key == retainKeys || key.hasPrefix(deleteFromPrimitiveListPrefix) || key.hasPrefix(setElementOrderPrefix)
    }

    static func mergeObject(_ original: [String: JSONValue], _ patch: [String: JSONValue], schema: TypeSchema)
        throws(PatchError) -> [String: JSONValue]
    {
        var patch = patch
        if let marker = patch.removeValue(forKey: directive) {
            switch marker.stringValue {
            case "replace": return try stripped(patch)
            case "delete": return [:]
            case "merge": break
            default: throw unknownDirective(marker, in: patch)
            }
        }
        var result = original
        if let retain = patch.removeValue(forKey: retainKeys) {
            guard let keys = retain.arrayValue?.compactMap(\.stringValue), keys.count == retain.arrayValue?.count else {
                throw .malformed("invalid patch: doesn't support retainKeys: \(retain.encodedString())")
            }
            for key in patch.keys where !isDirective(key) && !keys.contains(key) {
                throw .operationFailed("patch content doesn't match retainKeys list")
            }
            result = result.filter { keys.contains($0.key) }
        }
        var orders: [(String, [JSONValue])] = []
        for key in patch.keys.sorted() {
            let value = patch[key] ?? .null
            if key.hasPrefix(deleteFromPrimitiveListPrefix) {
                let field = String(key.dropFirst(deleteFromPrimitiveListPrefix.count))
                guard let values = value.arrayValue else {
                    throw .malformed("invalid patch: the value of \(key) must be a list of scalars")
                }
                if let current = result[field]?.arrayValue {
                    result[field] = .array(current.filter { !values.contains($0) })
                }
                continue
            }
            if key.hasPrefix(setElementOrderPrefix) {
                guard let order = value.arrayValue else {
                    throw .malformed("invalid patch: the value of \(key) must be a list")
                }
                orders.append((String(key.dropFirst(setElementOrderPrefix.count)), order))
                continue
            }
            if value.isNull {
                result.removeValue(forKey: key)
                continue
            }
            let fieldSchema = schema.member(key) ?? .any
            guard let current = result[key], !current.isNull else {
                if let added = try strippedValue(value, schema: fieldSchema) { result[key] = added }
                continue
            }
            switch (current, value) {
            case (.object(let currentMembers), .object(let patchMembers)):
                if patchMembers[directive]?.stringValue == "delete" {
                    result.removeValue(forKey: key)
                } else {
                    result[key] = .object(try mergeObject(currentMembers, patchMembers, schema: fieldSchema))
                }
            case (.array(let currentItems), .array(let patchItems)):
                result[key] = .array(try mergeList(currentItems, patchItems, schema: fieldSchema))
            default:
                if let replaced = try strippedValue(value, schema: fieldSchema) { result[key] = replaced } else { result.removeValue(forKey: key) }
            }
        }
        for (field, order) in orders {
            guard let items = result[field]?.arrayValue else { continue }
            result[field] = .array(ordered(items, by: order, schema: schema.member(field) ?? .any))
        }
        return result
    }

    static func mergeList(_ original: [JSONValue], _ patch: [JSONValue], schema: TypeSchema) throws(PatchError) -> [JSONValue] {
        // `{"$patch": "replace"}` among the elements: the list becomes the other elements.
        if let index = patch.firstIndex(where: { $0[directive]?.stringValue == "replace" }) {
            var rest = patch
            rest.remove(at: index)
            return try strippedList(rest, schema: itemSchema(schema))
        }
        guard case .list(let item, let strategy) = schema else {
            return try strippedList(patch, schema: .any)
        }
        switch strategy {
        case .atomic:
            return try strippedList(patch, schema: item)
        case .mergeSet:
            var result = original
            for value in patch where !result.contains(value) {
                guard value.objectValue == nil, value.arrayValue == nil else {
                    throw .malformed("invalid patch: the elements of a merged list of scalars must be scalars, got \(value.encodedString())")
                }
                result.append(value)
            }
            return result
        case .mergeByKey(let key):
            var result = original
            for element in patch {
                guard var members = element.objectValue else {
                    throw .malformed("invalid patch: the elements of a list merged by \(key) must be objects, got \(element.encodedString())")
                }
                guard let keyValue = members[key] else {
                    throw .operationFailed("map: \(element.encodedString()) does not contain declared merge key: \(key)")
                }
                let index = result.firstIndex { $0[key] == keyValue }
                switch members[directive]?.stringValue {
                case "delete":
                    result.removeAll { $0[key] == keyValue }
                    continue
                case "replace":
                    members.removeValue(forKey: directive)
                    let replacement = JSONValue.object(try stripped(members))
                    if let index { result[index] = replacement } else { result.append(replacement) }
                    continue
                default:
                    break
                }
                if let index, let current = result[index].objectValue {
                    result[index] = .object(try mergeObject(current, members, schema: item))
                } else if let added = try strippedValue(element, schema: item) {
                    result.append(added)
                }
            }
            return result
        }
    }

    static func strippedList(_ items: [JSONValue], schema: TypeSchema) throws(PatchError) -> [JSONValue] {
        var kept: [JSONValue] = []
        for item in items {
            if let value = try strippedValue(item, schema: schema) { kept.append(value) }
        }
        return kept
    }

    static func itemSchema(_ schema: TypeSchema) -> TypeSchema {
        if case .list(let item, _) = schema { return item }
        return .any
    }

    /// `$setElementOrder`: the elements the order names, in its order, then the rest.
    static func ordered(_ items: [JSONValue], by order: [JSONValue], schema: TypeSchema) -> [JSONValue] {
        var mergeKey: String?
        if case .list(_, .mergeByKey(let key)) = schema { mergeKey = key }
        func identity(_ value: JSONValue) -> JSONValue { mergeKey.flatMap { value[$0] } ?? value }
        var remaining = items
        var result: [JSONValue] = []
        for wanted in order {
            let target = identity(wanted)
            if let index = remaining.firstIndex(where: { identity($0) == target }) {
                result.append(remaining.remove(at: index))
            }
        }
        return result + remaining
    }

    /// A value taken from the patch as it is: directives and nulls removed (nil when
    /// nothing is left of an object marked for deletion).
    static func strippedValue(_ value: JSONValue, schema: TypeSchema) throws(PatchError) -> JSONValue? {
        switch value {
        case .object(let members):
            if let marker = members[directive] {
                switch marker.stringValue {
                case "delete": return nil
                case "replace", "merge": break
                default: throw unknownDirective(marker, in: members)
                }
            }
            return .object(try stripped(members))
        case .array(let items):
            var kept: [JSONValue] = []
            for item in items {
                if let value = try strippedValue(item, schema: itemSchema(schema)) { kept.append(value) }
            }
            return .array(kept)
        case .null:
            return nil
        default:
            return value
        }
    }

    static func stripped(_ members: [String: JSONValue]) throws(PatchError) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (key, value) in members where !isDirective(key) {
            if let kept = try strippedValue(value, schema: .any) { out[key] = kept }
        }
        return out
    }

    static func unknownDirective(_ marker: JSONValue, in members: [String: JSONValue]) -> PatchError {
        var rest = members
        rest.removeValue(forKey: directive)
        return .malformed("Unknown patch type: \(marker.stringValue ?? marker.encodedString()) in map: \(JSONValue.object(rest).encodedString())")
    }
}
