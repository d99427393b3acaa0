// Kubernetes resource quantities ("1Gi", "1024Mi", "1073741824", "500m", "1e3").
//
// The binder compares capacities semantically (CH storage/volume/pv_helpers.go
// findMatchingVolume: `volumeQty.Cmp(requestedQty)`), so "1Gi" == "1024Mi" == "1073741824".
// Grammar and suffixes follow AM api/resource/quantity.go (ParseQuantity, parseQuantityString)
// and suffix.go: binary Ki..Ei, decimal n u m k M G T P E, or an exponent e<int>/E<int>.

/// An exactly comparable quantity, held as a count of nano-units (10⁻⁹).
///
/// Values finer than a nano-unit round up in magnitude, as Kubernetes does. Values beyond
/// ±1.7 × 10²⁹ saturate (Kubernetes keeps arbitrary precision there; no storage size is
/// that large).
struct Quantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// How a quantity is written back (AM api/resource/quantity.go Format): chosen by the
    /// suffix it was parsed with.
    enum Format: Sendable, Hashable {
        case binarySI, decimalSI, decimalExponent
    }

    /// The value in units of 10⁻⁹.
    var nanos: Int128
    var format: Format = .decimalSI

    static func == (lhs: Quantity, rhs: Quantity) -> Bool { lhs.nanos == rhs.nanos }
    func hash(into hasher: inout Hasher) { hasher.combine(nanos) }

    static let regexText = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
    /// The message AM quantity.go returns for unparseable text (`ErrFormatWrong`).
    static let formatErrorMessage = "quantities must match the regular expression '\(regexText)'"

    static func < (lhs: Quantity, rhs: Quantity) -> Bool { lhs.nanos < rhs.nanos }

    var sign: Int { nanos > 0 ? 1 : (nanos < 0 ? -1 : 0) }

    var description: String { canonical }

    init(nanos: Int128, format: Format = .decimalSI) {
        self.nanos = nanos
        self.format = format
    }

    /// Parses a quantity string; nil when it does not match the Kubernetes grammar.
    init?(parsing text: String) {
        let bytes = Array(text.utf8)
        var index = 0
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        // Mantissa: digits with at most one '.', at least one digit.
        var digits: [UInt8] = []
        var fractionDigits = 0
        var seenPoint = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                digits.append(byte - UInt8(ascii: "0"))
                if seenPoint { fractionDigits += 1 }
            } else if byte == UInt8(ascii: ".") {
                guard !seenPoint else { return nil }
                seenPoint = true
            } else {
                break
            }
            index += 1
        }
        guard !digits.isEmpty else { return nil }
        let suffix = String(decoding: bytes[index...], as: UTF8.self)
        guard let (base, exponent) = Self.parseSuffix(suffix) else { return nil }

        // value = digits × 10^(-fractionDigits) × base^exponent, in nanos.
        var numerator = Int128(0)
        var saturated = false
        for digit in digits {
            let (times10, o1) = numerator.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int128(digit))
            if o1 || o2 { saturated = true; break }
            numerator = sum
        }
        // Start from nanos: multiply by 10^9, then apply the scale.
        var power10 = 9 - fractionDigits
        var power2 = 0
        if base == 10 { power10 += exponent } else { power2 = exponent }
        var value = numerator
        if !saturated {
            for _ in 0..<max(power2, 0) {
                let (next, overflow) = value.multipliedReportingOverflow(by: 2)
                if overflow { saturated = true; break }
                value = next
            }
        }
        if !saturated {
            if power10 >= 0 {
                for _ in 0..<power10 {
                    let (next, overflow) = value.multipliedReportingOverflow(by: 10)
                    if overflow { saturated = true; break }
                    value = next
                }
            } else {
                // Divide, rounding up in magnitude (quantity.go rounds finer precision up).
                var divisor = Int128(1)
                for _ in 0..<(-power10) {
                    let (next, overflow) = divisor.multipliedReportingOverflow(by: 10)
                    if overflow { divisor = 0; break }
                    divisor = next
                }
                if divisor == 0 {
                    value = value == 0 ? 0 : 1
                } else {
                    let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
                    value = remainder == 0 ? quotient : quotient + 1
                }
            }
        }
        if saturated { value = Int128.max }
        nanos = negative ? -value : value
        if suffix.hasPrefix("e") || (suffix.hasPrefix("E") && suffix != "E") {
            format = .decimalExponent
        } else if base == 2 {
            format = .binarySI
        } else {
            format = .decimalSI
        }
    }

    /// (base, exponent) for a suffix, per AM api/resource/suffix.go.
    static func parseSuffix(_ suffix: String) -> (Int, Int)? {
        switch suffix {
        case "": return (10, 0)
        case "n": return (10, -9)
        case "u": return (10, -6)
        case "m": return (10, -3)
        case "k": return (10, 3)
        case "M": return (10, 6)
        case "G": return (10, 9)
        case "T": return (10, 12)
        case "P": return (10, 15)
        case "E": return (10, 18)
        case "Ki": return (2, 10)
        case "Mi": return (2, 20)
        case "Gi": return (2, 30)
        case "Ti": return (2, 40)
        case "Pi": return (2, 50)
        case "Ei": return (2, 60)
        default:
            guard let first = suffix.first, first == "e" || first == "E" else { return nil }
            var rest = suffix.dropFirst()
            var negative = false
            if let sign = rest.first, sign == "+" || sign == "-" {
                negative = sign == "-"
                rest = rest.dropFirst()
            }
            guard !rest.isEmpty, rest.allSatisfy(\.isASCIIDigit), rest.count <= 4, let exponent = Int(rest) else {
                return nil
            }
            return (10, negative ? -exponent : exponent)
        }
    }

    /// Parses a quantity held in JSON (Kubernetes accepts a string or a bare number).
    static func from(_ value: JSONValue) -> Quantity? {
        switch value {
        case .string(let text): return Quantity(parsing: text.trimmingASCIIWhitespace())
        case .int(let i): return Quantity(parsing: String(i))
        case .double(let d): return Quantity(parsing: JSONValue.formatDouble(d))
        default: return nil
        }
    }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let scalars = unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, scalars[start].properties.isWhitespace { start = scalars.index(after: start) }
        while end > start, scalars[scalars.index(before: end)].properties.isWhitespace { end = scalars.index(before: end) }
        return String(scalars[start..<end])
    }
}

// MARK: - Canonical form

extension Quantity {
    /// The string the apiserver writes back: AM api/resource/quantity.go CanonicalizeBytes.
    /// `1024Mi` → `1Gi`, `1000` → `1k`, `0.5Gi` → `512Mi`, `1500m` → `1500m`, `1e3` → `1e3`.
    var canonical: String {
        if nanos == 0 { return "0" }
        var useFormat = format
        if useFormat == .binarySI {
            let bytes = Int128(1_000_000_000)
            // Small values and values with a fraction are shown in decimal.
            if nanos > -1024 * bytes && nanos < 1024 * bytes || nanos % bytes != 0 { useFormat = .decimalSI }
        }
        let negative = nanos < 0
        let magnitude = negative ? -nanos : nanos
        let sign = negative ? "-" : ""
        switch useFormat {
        case .binarySI:
            var amount = magnitude / 1_000_000_000
            var exponent = 0
            while exponent < 6, amount % 1024 == 0 {
                amount /= 1024
                exponent += 1
            }
            let suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
            return sign + String(amount) + suffixes[exponent]
        case .decimalSI, .decimalExponent:
            var amount = magnitude
            var exponent = -9
            while amount % 10 == 0 {
                amount /= 10
                exponent += 1
            }
            // Make the exponent a multiple of three (int64Amount.AsCanonicalBytes).
            switch ((exponent % 3) + 3) % 3 {
            case 1: amount *= 10; exponent -= 1
            case 2: amount *= 100; exponent -= 2
            default: break
            }
            if useFormat == .decimalExponent {
                return sign + String(amount) + (exponent == 0 ? "" : "e\(exponent)")
            }
            let suffixes: [Int: String] = [-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"]
            if let suffix = suffixes[exponent] { return sign + String(amount) + suffix }
            return sign + String(amount) + "e\(exponent)"
        }
    }
}
