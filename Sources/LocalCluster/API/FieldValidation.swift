// The write options every create, update and patch takes besides dryRun: `fieldManager`
// and `fieldValidation`, and the unknown-field check the latter controls.
//
// fieldValidation (https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation):
// `Ignore` says nothing, `Warn` (the default) answers with one `Warning: 299 - "unknown field
// \"spec.x\""` header per unknown field, `Strict` refuses the request with 400
// (`strict decoding error: unknown field "spec.x"`). fieldManager may be up to 128
// printable characters (AM apis/meta/v1/validation ValidateFieldManager). Both are checked
// as the options of the verb, 422 on `CreateOptions`/`UpdateOptions`/`PatchOptions`.
//
// Unlike the real server, which drops unknown fields, LocalCluster keeps them (see
// LocalCluster.md); so that a field already stored is not reported on every later write,
// a write reports only the unknown fields it introduces.

struct WriteOptions: Sendable, Equatable {
    enum Validation: String, Sendable {
        case ignore = "Ignore", warn = "Warn", strict = "Strict"
    }

    var dryRun = false
    var fieldManager: String?
    var fieldValidation = Validation.warn

    static let fieldManagerMaxLength = 128

    /// Reads `dryRun`, `fieldManager` and `fieldValidation`; `optionsKind` names the options
    /// in a 422 (CreateOptions, UpdateOptions, PatchOptions).
    static func parse(_ query: [String: [String]], optionsKind: String) throws(APIStatus) -> WriteOptions {
        var options = WriteOptions()
        options.dryRun = try parseDryRun(query["dryRun"] ?? [], optionsKind: optionsKind)
        var errors: [FieldError] = []
        if let manager = query["fieldManager"]?.first, !manager.isEmpty {
            if manager.utf8.count > fieldManagerMaxLength {
                errors.append(FieldError(type: .tooLong, field: "fieldManager", value: nil,
                                         detail: "may not be more than \(fieldManagerMaxLength) bytes"))
            }
            var position = 0  // a byte offset, as Go's range over a string gives
            for scalar in manager.unicodeScalars {
                if !isPrintable(scalar) {
                    let code = String(scalar.value, radix: 16, uppercase: true)
                    let padded = String(repeating: "0", count: max(0, 4 - code.count)) + code
                    errors.append(.invalid("fieldManager", manager, "invalid character U+\(padded) (at position \(position))"))
                }
                position += String(scalar).utf8.count
            }
            options.fieldManager = manager
        }
        if let value = query["fieldValidation"]?.first, !value.isEmpty {
            if let validation = Validation(rawValue: value) {
                options.fieldValidation = validation
            } else {
                errors.append(.notSupported("fieldValidation", value, ["", "Ignore", "Strict", "Warn"]))
            }
        }
        if !errors.isEmpty { throw APIStatus.invalid(kind: optionsKind, group: "meta.k8s.io", name: "", errors: errors) }
        return options
    }

    /// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation,
             .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }
}

enum FieldValidation {
    /// The paths of members `schema` does not know, as the strict decoder names them:
    /// `spec.foo`, `spec.accessModes[1].x`, `metadata.annotations` members are never unknown.
    static func unknownFields(_ value: JSONValue, schema: TypeSchema, path: String = "") -> [String] {
        func join(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        switch (schema, value) {
        case (.object(let fields), .object(let members)):
            var unknown: [String] = []
            for key in members.keys.sorted() {
                guard let member = members[key] else { continue }
                if let fieldSchema = fields[key] {
                    unknown += unknownFields(member, schema: fieldSchema, path: join(key))
                } else {
                    unknown.append(join(key))
                }
            }
            return unknown
        case (.map(let valueSchema), .object(let members)):
            return members.keys.sorted().flatMap { key in
                unknownFields(members[key] ?? .null, schema: valueSchema, path: join(key))
            }
        case (.list(let item, _), .array(let items)):
            return items.enumerated().flatMap { index, element in
                unknownFields(element, schema: item, path: "\(path)[\(index)]")
            }
        default:
            return []
        }
    }

    /// What a write introduces: the unknown fields of `new` that `old` did not have.
    static func introducedUnknownFields(new: JSONValue, old: JSONValue?, resource: ResourceType) -> [String] {
        let schema = TypeSchema.of(resource)
        let before = Set(old.map { unknownFields($0, schema: schema) } ?? [])
        return unknownFields(new, schema: schema).filter { !before.contains($0) }
    }

    /// The warnings for a write of `new` over `old` (nil for a create), or the 400 of the
    /// strict decoder; nothing is computed for `Ignore`.
    static func validate(new: JSONValue, old: JSONValue?, resource: ResourceType,
                         _ validation: WriteOptions.Validation) throws(APIStatus) -> [String] {
        guard validation != .ignore else { return [] }
        return try check(introducedUnknownFields(new: new, old: old, resource: resource), validation, resource: resource)
    }

    /// Applies the directive: nothing, warnings, or the 400 of the strict decoder.
    static func check(_ unknown: [String], _ validation: WriteOptions.Validation, resource: ResourceType) throws(APIStatus) -> [String] {
        guard !unknown.isEmpty else { return [] }
        let messages = unknown.map { "unknown field \"\($0)\"" }
        switch validation {
        case .ignore:
            return []
        case .warn:
            return messages
        case .strict:
            let info = resource.info
            throw APIStatus.undecodable(kind: info.kind, apiVersion: info.apiVersion,
                                        detail: "strict decoding error: " + messages.joined(separator: ", "))
        }
    }

    /// A `Warning` header value (RFC 7234 warn-code 299, agent "-", quoted text).
    static func warningHeader(_ text: String) -> String {
        let escaped = text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
        return "299 - \"\(escaped)\""
    }
}
