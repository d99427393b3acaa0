// Field-level validation errors, worded as AM util/validation/field/errors.go writes them.

/// One validation failure at a field path (becomes a `details.causes[]` entry of a 422).
struct FieldError: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case required, invalid, notSupported, forbidden, duplicate, tooLong, tooMany

        /// `field.ErrorType.String()`.
        var text: String {
            switch self {
            case .required: "Required value"
            case .invalid: "Invalid value"
            case .notSupported: "Unsupported value"
            case .forbidden: "Forbidden"
            case .duplicate: "Duplicate value"
            case .tooLong: "Too long"
            case .tooMany: "Too many"
            }
        }

        /// The `metav1.CauseType` of the cause.
        var causeType: String {
            switch self {
            case .required: "FieldValueRequired"
            case .invalid: "FieldValueInvalid"
            case .notSupported: "FieldValueNotSupported"
            case .forbidden: "FieldValueForbidden"
            case .duplicate: "FieldValueDuplicate"
            case .tooLong: "FieldValueTooLong"
            case .tooMany: "FieldValueTooMany"
            }
        }
    }

    var type: Kind
    var field: String
    /// The rendered bad value (`%#v` in Go: strings quoted), or nil when not shown.
    var value: String?
    var detail: String

    /// `field.Error.ErrorBody()`: the type, the value (for value-carrying types), the detail.
    var body: String {
        var text = type.text
        switch type {
        case .required, .forbidden, .tooLong, .tooMany: break
        default: if let value { text += ": \(value)" }
        }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }

    /// `field.Error.Error()`: `<field>: <body>`.
    var text: String { "\(field): \(body)" }

    static func quoted(_ s: String) -> String { JSONValue.string(s).encodedString() }

    static func required(_ field: String, _ detail: String = "") -> FieldError {
        FieldError(type: .required, field: field, value: nil, detail: detail)
    }

    static func invalid(_ field: String, _ value: String, _ detail: String) -> FieldError {
        FieldError(type: .invalid, field: field, value: quoted(value), detail: detail)
    }

    static func invalidRaw(_ field: String, _ renderedValue: String, _ detail: String) -> FieldError {
        FieldError(type: .invalid, field: field, value: renderedValue, detail: detail)
    }

    static func notSupported(_ field: String, _ value: String, _ supported: [String]) -> FieldError {
        FieldError(type: .notSupported, field: field, value: quoted(value),
                   detail: "supported values: " + supported.map(quoted).joined(separator: ", "))
    }

    static func forbidden(_ field: String, _ detail: String) -> FieldError {
        FieldError(type: .forbidden, field: field, value: nil, detail: detail)
    }

    static func tooLong(_ field: String, _ maxLength: Int) -> FieldError {
        FieldError(type: .tooLong, field: field, value: nil, detail: "may not be more than \(maxLength) bytes")
    }

    static func duplicate(_ field: String, _ value: String) -> FieldError {
        FieldError(type: .duplicate, field: field, value: quoted(value), detail: "")
    }

    /// `ValidateImmutableField`.
    static func immutable(_ field: String, _ value: String) -> FieldError {
        invalid(field, value, "field is immutable")
    }
}
