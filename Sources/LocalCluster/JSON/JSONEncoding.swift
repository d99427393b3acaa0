// Serialising JSONValue the way the apiserver's JSON serializer writes.
//
// Go's encoding/json (used by apimachinery's serializer, runtime/serializer/json/json.go)
// escapes `<`, `>`, `&`, U+2028 and U+2029 by default; LocalCluster does the same so that a
// client's decoder meets the escapes real servers send.

extension JSONValue {
    /// Members written first, in this order, when present; the rest follow alphabetically.
    /// (Go writes struct fields in declaration order: TypeMeta, then ObjectMeta, spec, status.)
    static let leadingKeys = ["kind", "apiVersion", "type", "metadata", "spec", "status", "items", "object"]
    static let leadingRank: [String: Int] = {
        var rank: [String: Int] = [:]
        for (index, key) in leadingKeys.enumerated() { rank[key] = index }
        return rank
    }()

    static func canonicalOrder(_ keys: some Sequence<String>) -> [String] {
        keys.sorted { a, b in
            switch (leadingRank[a], leadingRank[b]) {
            case (let x?, let y?): return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a < b
            }
        }
    }

    /// The compact JSON encoding as bytes.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }

    /// The compact JSON encoding as a string.
    public func encodedString() -> String { String(decoding: encoded(), as: UTF8.self) }

    func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): out.append(contentsOf: Self.formatDouble(d).utf8)
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in Self.canonicalOrder(members.keys).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                members[key, default: .null].write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func formatDouble(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d.rounded() == d, abs(d) < 1e21 {
            if abs(d) < 9.2e18 { return String(Int64(d)) }
        }
        return d.description
    }

    static let hexDigits = Array("0123456789abcdef".utf8)

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: "\\\"".utf8)
            case "\\": out.append(contentsOf: "\\\\".utf8)
            case "\n": out.append(contentsOf: "\\n".utf8)
            case "\r": out.append(contentsOf: "\\r".utf8)
            case "\t": out.append(contentsOf: "\\t".utf8)
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                writeUnicodeEscape(scalar.value, into: &out)
            default:
                if scalar.value < 0x20 {
                    writeUnicodeEscape(scalar.value, into: &out)
                } else {
                    out.append(contentsOf: String(scalar).utf8)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func writeUnicodeEscape(_ value: UInt32, into out: inout [UInt8]) {
        out.append(contentsOf: "\\u".utf8)
        for shift in stride(from: 12, through: 0, by: -4) {
            out.append(hexDigits[Int((value >> UInt32(shift)) & 0xF)])
        }
    }
}
