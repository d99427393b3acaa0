// JSON Merge Patch (RFC 7386) and JSON Patch (RFC 6902).
//
// The apiserver applies both to the JSON of the current object (AS
// endpoints/handlers/patch.go, applyPatch/applyJSPatch, using evanphx/json-patch); error
// texts below follow that library's wording so clients see familiar messages.

/// Why a patch could not be applied.
enum PatchError: Error, Equatable {
    /// The patch document itself is malformed (the server answers 400 BadRequest).
    case malformed(String)
    /// A JSON Patch operation failed, including a failed `test` (the server answers 422).
    case operationFailed(String)
}

enum JSONMergePatch {
    /// Applies an RFC 7386 merge patch: objects merge member by member, `null` deletes a
    /// member, anything else (including arrays) replaces the target wholesale.
    static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value.isNull {
                result.removeValue(forKey: key)
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }
}

enum JSONPatch {
    /// Applies an RFC 6902 patch document (an array of operations) in order; the first
    /// failing operation fails the whole patch and nothing is applied.
    static func apply(_ patch: JSONValue, to document: JSONValue) throws(PatchError) -> JSONValue {
        guard let operations = patch.arrayValue else {
            throw .malformed("json: cannot unmarshal \(typeName(patch)) into Go value of type jsonpatch.Patch")
        }
        var doc = document
        for operation in operations {
            guard case .object(let fields) = operation else {
                throw .malformed("json: cannot unmarshal \(typeName(operation)) into Go value of type jsonpatch.Operation")
            }
            guard let op = fields["op"]?.stringValue else { throw .malformed("Unexpected kind: unknown") }
            guard let pathText = fields["path"]?.stringValue else {
                throw .operationFailed("\(op) operation failed to decode path")
            }
            let path = try pointer(pathText, op: op)
            switch op {
            case "add":
                guard let value = fields["value"] else { throw .operationFailed("add operation failed to decode value") }
                doc = try add(value, at: path, in: doc, pathText: pathText)
            case "remove":
                (doc, _) = try remove(at: path, in: doc, pathText: pathText, op: "remove")
            case "replace":
                guard let value = fields["value"] else { throw .operationFailed("replace operation failed to decode value") }
                (doc, _) = try remove(at: path, in: doc, pathText: pathText, op: "replace")
                doc = try add(value, at: path, in: doc, pathText: pathText)
            case "move", "copy":
                guard let fromText = fields["from"]?.stringValue else {
                    throw .operationFailed("\(op) operation failed to decode from")
                }
                let from = try pointer(fromText, op: op)
                let value: JSONValue
                if op == "move" {
                    (doc, value) = try remove(at: from, in: doc, pathText: fromText, op: "move")
                } else {
                    guard let found = get(from, in: doc) else {
                        throw .operationFailed("copy operation does not apply: doc is missing from path: \"\(fromText)\": missing value")
                    }
                    value = found
                }
                doc = try add(value, at: path, in: doc, pathText: pathText)
            case "test":
                let expected = fields["value"] ?? .null
                let actual = get(path, in: doc)
                // A missing member tests equal to null (evanphx/json-patch semantics).
                guard (actual ?? .null) == expected else {
                    throw .operationFailed("testing value \(pathText) failed: test failed")
                }
            default:
                throw .malformed("Unexpected kind: \(op)")
            }
        }
        return doc
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "bool"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Splits an RFC 6901 pointer into unescaped reference tokens.
    static func pointer(_ text: String, op: String) throws(PatchError) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else {
            throw .operationFailed("\(op) operation does not apply: invalid path \"\(text)\"")
        }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).replacing("~1", with: "/").replacing("~0", with: "~")
        }
    }

    static func arrayIndex(_ token: String, count: Int, allowEnd: Bool) -> Int? {
        if allowEnd, token == "-" { return count }
        guard !token.isEmpty, token.allSatisfy(\.isASCIIDigit), token == "0" || !token.hasPrefix("0"),
            let index = Int(token)
        else { return nil }
        return index <= (allowEnd ? count : count - 1) ? index : nil
    }

    static func get(_ path: [String], in doc: JSONValue) -> JSONValue? {
        var current = doc
        for token in path {
            switch current {
            case .object(let members):
                guard let next = members[token] else { return nil }
                current = next
            case .array(let elements):
                guard let index = arrayIndex(token, count: elements.count, allowEnd: false) else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }

    static func add(_ value: JSONValue, at path: [String], in doc: JSONValue, pathText: String) throws(PatchError) -> JSONValue {
        guard let token = path.first else { return value }
        let rest = Array(path.dropFirst())
        switch doc {
        case .object(var members):
            if rest.isEmpty {
                members[token] = value
            } else {
                guard let child = members[token] else {
                    throw .operationFailed("add operation does not apply: doc is missing path: \"\(pathText)\": missing value")
                }
                members[token] = try add(value, at: rest, in: child, pathText: pathText)
            }
            return .object(members)
        case .array(var elements):
            guard let index = arrayIndex(token, count: elements.count, allowEnd: rest.isEmpty) else {
                throw .operationFailed("add operation does not apply: doc is missing path: \"\(pathText)\": missing value")
            }
            if rest.isEmpty {
                elements.insert(value, at: index)
            } else {
                elements[index] = try add(value, at: rest, in: elements[index], pathText: pathText)
            }
            return .array(elements)
        default:
            throw .operationFailed("add operation does not apply: doc is missing path: \"\(pathText)\": missing value")
        }
    }

    static func remove(at path: [String], in doc: JSONValue, pathText: String, op: String) throws(PatchError) -> (JSONValue, JSONValue) {
        guard let token = path.first else {
            throw .operationFailed("\(op) operation does not apply: doc is missing path: \"\(pathText)\": missing value")
        }
        let rest = Array(path.dropFirst())
        let missing = PatchError.operationFailed("\(op) operation does not apply: doc is missing path: \"\(pathText)\": missing value")
        switch doc {
        case .object(var members):
            guard let child = members[token] else { throw missing }
            if rest.isEmpty {
                members.removeValue(forKey: token)
                return (.object(members), child)
            }
            let (newChild, removed) = try remove(at: rest, in: child, pathText: pathText, op: op)
            members[token] = newChild
            return (.object(members), removed)
        case .array(var elements):
            guard let index = arrayIndex(token, count: elements.count, allowEnd: false) else { throw missing }
            if rest.isEmpty {
                let removed = elements.remove(at: index)
                return (.array(elements), removed)
            }
            let (newChild, removed) = try remove(at: rest, in: elements[index], pathText: pathText, op: op)
            elements[index] = newChild
            return (.array(elements), removed)
        default:
            throw missing
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
