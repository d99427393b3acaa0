// Values echoed into one-line error messages: control characters escaped, length capped.

/// Makes outside text safe to echo in a one-line message (an exit-2 error, a log line, an
/// Event): line breaks and other control characters are escaped (`\n`, `\t`, `\u{1B}`), so
/// the message stays one line whatever the value holds, and a value longer than `limit`
/// characters is cut, saying how long it was, so a 20 MB value does not make a 20 MB
/// message.
public enum Echo {
    /// The default cap for one echoed value, in Unicode scalars.
    public static let valueLimit = 120
    /// The default cap for a whole message.
    public static let lineLimit = 2000

    /// `text` escaped and capped at `limit` Unicode scalars.
    public static func value(_ text: String, limit: Int = valueLimit) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                return out + "…(\(text.utf8.count) bytes in all)"
            }
            out += escaped(scalar)
            count += 1
        }
        return out
    }

    /// `text` escaped, capped and in double quotes.
    public static func quoted(_ text: String, limit: Int = valueLimit) -> String {
        "\"" + value(text, limit: limit) + "\""
    }

    /// A whole message made one line: the last guard before a message is printed.
    public static func line(_ text: String, limit: Int = lineLimit) -> String {
        value(text, limit: limit)
    }

    /// True when `text` holds a character ``value(_:limit:)`` would escape.
    package static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: isControl)
    }

    /// C0 controls, DEL, C1 controls (NEL among them) and the Unicode line and paragraph
    /// separators: everything a terminal or a log reader may take as a line break or an
    /// escape sequence.
    package static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v < 0x20 || (0x7F...0x9F).contains(v) || v == 0x2028 || v == 0x2029
    }

    private static func escaped(_ scalar: Unicode.Scalar) -> String {
        guard isControl(scalar) else { return String(scalar) }
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default: return "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        }
    }
}
