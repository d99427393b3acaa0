// resource.Quantity: kept exactly as the server wrote it, parsed only for comparisons.
//
// Grammar from apimachinery pkg/api/resource/quantity.go (doc comment of Quantity):
//   <quantity> ::= <signedNumber><suffix>
//   <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei | n | u | m | "" | k | M | G | T | P | E
//                | (e | E)<signedNumber>
// The server re-serialises quantities in canonical form, so "1Gi" and "1073741824" are
// the same amount but different strings: equality of the wire form (`==`) is exact, and
// `compare`/`isSemanticallyEqual` compare amounts (what the PV binder does with
// `volumeQty.Cmp(requestedQty)`).
public import Foundation

/// A Kubernetes quantity such as `10Gi`, `500m` or `1e3`.
public struct Quantity: Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The exact text the server sent (or the caller gave).
    public let text: String

    /// Wraps `text` without validating it (decoding never fails on a bad quantity; the
    /// error surfaces from ``value()`` where the amount is needed).
    public init(unchecked text: String) {
        self.text = text
    }

    /// Validates and wraps `text`.
    /// - Throws: ``QuantityError`` naming the text and what is wrong with it.
    public init(_ text: String) throws(QuantityError) {
        _ = try Quantity.parse(text)
        self.text = text
    }

    public init(stringLiteral value: String) {
        self.text = value
    }

    /// A plain byte count, e.g. `Quantity(bytes: 1 << 30)` is `"1073741824"`.
    public init(bytes: Int64) {
        self.text = String(bytes)
    }

    public var description: String { text }

    /// The amount this quantity denotes.
    public func value() throws(QuantityError) -> Decimal {
        try Quantity.parse(text)
    }

    /// Compares amounts, so `"1Gi"` equals `"1073741824"`.
    public func compare(_ other: Quantity) throws(QuantityError) -> ComparisonResult {
        let lhs = try value()
        let rhs = try other.value()
        if lhs < rhs { return .orderedAscending }
        if lhs > rhs { return .orderedDescending }
        return .orderedSame
    }

    /// True when both quantities denote the same amount.
    package func isSemanticallyEqual(to other: Quantity) throws(QuantityError) -> Bool {
        try compare(other) == .orderedSame
    }

    /// The amount rounded up to a whole number (bytes for storage sizes), or an error if
    /// it is negative or does not fit an `Int64`.
    package func wholeUnitsRoundedUp() throws(QuantityError) -> Int64 {
        var amount = try value()
        guard amount >= 0 else { throw QuantityError(text: text, problem: "is negative") }
        var rounded = Decimal()
        NSDecimalRound(&rounded, &amount, 0, .up)
        guard rounded <= Decimal(Int64.max) else {
            throw QuantityError(text: text, problem: "does not fit in 64 bits")
        }
        return NSDecimalNumber(decimal: rounded).int64Value
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // The server always writes a string; accept a bare JSON number too (hand-written
        // manifests), keeping its text. `try?` only probes which JSON type is present; the
        // last decode reports a real type error.
        if let text = try? container.decode(String.self) {
            self.text = text
        } else if let number = try? container.decode(Int64.self) {
            self.text = String(number)
        } else {
            let number = try container.decode(Double.self)
            self.text = String(number)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// A quantity that does not follow the Kubernetes grammar.
public struct QuantityError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The offending text.
    public var text: String
    /// What is wrong with it.
    public var problem: String

    public var description: String { "quantity \"\(text)\" \(problem)" }
}

extension Quantity {
    private static let binarySuffixes: [String: Int] = ["Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6]
    private static let decimalSuffixes: [String: Int] = [
        "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
    ]

    static func parse(_ text: String) throws(QuantityError) -> Decimal {
        func fail(_ problem: String) -> QuantityError { QuantityError(text: text, problem: problem) }
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw fail("is empty") }
        guard bytes.count <= 64 else { throw fail("is longer than 64 characters") }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-") {
            negative = bytes[0] == UInt8(ascii: "-")
            index = 1
        }
        var mantissa = Decimal(0)
        var digits = 0
        var fractionDigits = 0
        var seenPoint = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= 48, byte <= 57 {
                mantissa = mantissa * 10 + Decimal(Int(byte - 48))
                digits += 1
                if seenPoint { fractionDigits += 1 }
            } else if byte == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else {
                break
            }
            index += 1
        }
        guard digits > 0 else { throw fail("has no digits") }
        guard digits <= 36 else { throw fail("has more than 36 digits") }
        let suffix = String(decoding: bytes[index...], as: UTF8.self)
        var exponent = -fractionDigits
        var multiplier = Decimal(1)
        if let power = binarySuffixes[suffix] {
            for _ in 0..<power { multiplier *= 1024 }
        } else if let power = decimalSuffixes[suffix] {
            exponent += power
        } else if let first = suffix.first, first == "e" || first == "E" {
            let rest = suffix.dropFirst()
            guard let power = Int(rest), !rest.isEmpty, rest.allSatisfy({ "+-0123456789".contains($0) }) else {
                throw fail("has an invalid exponent \"\(suffix)\"")
            }
            guard abs(power) <= 60 else { throw fail("has an exponent outside -60...60") }
            exponent += power
        } else {
            throw fail("has an unknown suffix \"\(suffix)\" (expected one of Ki Mi Gi Ti Pi Ei n u m k M G T P E or an exponent)")
        }
        var amount = Decimal(sign: .plus, exponent: exponent, significand: mantissa) * multiplier
        if negative { amount.negate() }
        return amount
    }
}
