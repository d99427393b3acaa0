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
        var leading: [String] = []
        var rest: [String] = []
        for key in keys {
            if leadingRank[key] != nil { leading.append(key) } else { rest.append(key) }
        }
        if leading.count > 1 { leading.sort { leadingRank[$0, default: 0] < leadingRank[$1, default: 0] } }
        rest.sort()
        return leading + rest
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

    /// Writes a JSON string: the bytes as they are, except the escapes (quote, backslash,
    /// control characters, `<`, `>`, `&`, U+2028, U+2029), copied in runs between them.
    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = s
        text.withUTF8 { bytes in
            var start = 0
            var index = 0
            func flush() {
                if start < index { out.append(contentsOf: bytes[start..<index]) }
            }
            while index < bytes.count {
                let byte = bytes[index]
                let short: UInt8?
                switch byte {
                case UInt8(ascii: "\""): short = UInt8(ascii: "\"")
                case UInt8(ascii: "\\"): short = UInt8(ascii: "\\")
                case UInt8(ascii: "\n"): short = UInt8(ascii: "n")
                case UInt8(ascii: "\r"): short = UInt8(ascii: "r")
                case UInt8(ascii: "\t"): short = UInt8(ascii: "t")
                default: short = nil
                }
                if let short {
                    flush()
                    out.append(UInt8(ascii: "\\"))
                    out.append(short)
                    index += 1
                    start = index
                } else if byte < 0x20 || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "&") {
                    flush()
                    writeUnicodeEscape(UInt32(byte), into: &out)
                    index += 1
                    start = index
                } else if byte == 0xE2, index + 2 < bytes.count, bytes[index + 1] == 0x80, bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9 {
                    // U+2028 and U+2029 (E2 80 A8, E2 80 A9 in UTF-8).
                    flush()
                    writeUnicodeEscape(bytes[index + 2] == 0xA8 ? 0x2028 : 0x2029, into: &out)
                    index += 3
                    start = index
                } else {
                    index += 1
                }
            }
            flush()
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
