// An untyped JSON value: what merge patches are made of, and how the client reads a body
// when it does not know (yet) what it holds.
import Foundation

/// Any JSON value. Integers are kept apart from floating-point numbers so that values such
/// as `resourceVersion`-like counters or sizes round-trip exactly.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The member `key` of an object, or `nil` for other values and missing keys.
    public subscript(key: String) -> JSONValue? {
        get {
            guard case .object(let members) = self else { return nil }
            return members[key]
        }
        set {
            guard case .object(var members) = self else { return }
            members[key] = newValue
            self = .object(members)
        }
    }

    /// The string payload, if this is a string.
    package var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The members, if this is an object.
    package var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            // `try?` is deliberate here: it only probes which JSON type is present; the
            // final `else` reports a real type error if nothing matches.
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue {
    /// Encodes any `Encodable` value into a `JSONValue` tree.
    public init(encoding value: some Encodable) throws {
        let data = try JSONCoding.encoder.encode(value)
        self = try JSONCoding.decoder.decode(JSONValue.self, from: data)
    }

    /// Decodes this tree as `T`.
    public func decode<T: Decodable>(as type: T.Type) throws -> T {
        try JSONCoding.decoder.decode(T.self, from: JSONCoding.encoder.encode(self))
    }

    /// Computes the RFC 7386 JSON merge patch that turns `original` into `modified`, or
    /// `nil` when they are equal.
    ///
    /// Members present in `original` and absent from `modified` become `null` (delete);
    /// nested objects are diffed recursively; anything else (arrays included, as RFC 7386
    /// replaces lists wholesale) is sent whole when it differs. Members that neither side
    /// holds (such as server fields the models do not know) are never mentioned, so a
    /// patch built from two decoded models cannot drop fields the models do not model.
    package static func mergePatch(from original: JSONValue, to modified: JSONValue) -> JSONValue? {
        guard original != modified else { return nil }
        guard case .object(let old) = original, case .object(let new) = modified else {
            return modified
        }
        var patch: [String: JSONValue] = [:]
        for (key, newValue) in new {
            if let oldValue = old[key] {
                if let nested = mergePatch(from: oldValue, to: newValue) {
                    patch[key] = nested
                }
            } else {
                patch[key] = newValue
            }
        }
        for key in old.keys where new[key] == nil {
            patch[key] = .null
        }
        return patch.isEmpty ? nil : .object(patch)
    }
}

/// The JSON encoder and decoder settings shared by the client (sorted keys make bodies
/// reproducible in tests and logs).
enum JSONCoding {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static var decoder: JSONDecoder {
        JSONDecoder()
    }
}
