// Splits a byte stream into complete JSON values, wherever the chunks split them. The API
// server writes one JSON object per event followed by "\n" (apimachinery
// runtime/serializer/json/json.go:227-259), but HTTP chunks need not align with events:
// one event may span many chunks and one chunk may hold many events. Like client-go's
// framer (apimachinery util/framer/framer.go:117-127) this does not rely on newlines at
// all; it tracks nesting depth and string state and cuts after each top-level value.

/// Incremental splitter of concatenated JSON objects/arrays.
///
/// Append bytes as they arrive, then take complete values with ``next()`` until it returns
/// nil. Each byte is scanned once (the scan position survives across appends). Only the
/// framing is checked here; the content of a value is validated by the JSON decoder.
package struct JSONStreamDecoder: Sendable {
    /// Largest single value accepted. Default 16 MiB (the API server limits objects to
    /// about 1.5 MiB; a bigger value means a broken stream, not a big object).
    package let maxValueBytes: Int

    private var buffer: [UInt8] = []
    /// Start of the value being scanned (or of unscanned whitespace).
    private var start = 0
    /// Next byte to scan.
    private var position = 0
    private var depth = 0
    private var inString = false
    private var escaped = false
    /// Set after a framing error; the stream cannot be resynchronised.
    private var failed: JSONStreamError?

    package init(maxValueBytes: Int = 16 << 20) {
        self.maxValueBytes = maxValueBytes
    }

    /// Adds received bytes.
    package mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete top-level value, or nil if more bytes are needed.
    ///
    /// - Throws: ``JSONStreamError`` when the bytes cannot be a sequence of JSON objects
    ///   or arrays (a scalar or a stray closing bracket at top level, or a value larger
    ///   than ``maxValueBytes``). After an error the decoder keeps failing.
    package mutating func next() throws(JSONStreamError) -> [UInt8]? {
        if let failed { throw failed }
        while position < buffer.count {
            let byte = buffer[position]
            if depth == 0 {
                // Between values: skip whitespace; a value must start with { or [.
                switch byte {
                case 0x20, 0x09, 0x0A, 0x0D:
                    position += 1
                    start = position
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    start = position
                    depth = 1
                    position += 1
                    continue
                default:
                    return try fail(.unexpectedByte(byte, offset: position))
                }
            }
            position += 1
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 {
                    let value = Array(buffer[start..<position])
                    start = position
                    compact()
                    return value
                }
            default:
                break
            }
            if position - start > maxValueBytes {
                return try fail(.valueTooLarge(limit: maxValueBytes))
            }
        }
        if depth > 0, position - start > maxValueBytes {
            return try fail(.valueTooLarge(limit: maxValueBytes))
        }
        compact()
        return nil
    }

    /// Bytes of an incomplete value still buffered (non-zero at the end of a stream means
    /// it was truncated).
    package var pendingByteCount: Int {
        var count = buffer.count - start
        // Trailing whitespace between values is not a partial value.
        if depth == 0 { count = buffer[start...].filter { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }.count }
        return count
    }

    private mutating func fail(_ error: JSONStreamError) throws(JSONStreamError) -> [UInt8]? {
        failed = error
        throw error
    }

    /// Drops consumed bytes once they make up most of the buffer (amortised O(1)).
    private mutating func compact() {
        guard start > 0, start >= buffer.count / 2 else { return }
        buffer.removeFirst(start)
        position -= start
        start = 0
    }
}

/// A byte stream that is not a sequence of JSON objects or arrays.
package enum JSONStreamError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A byte that cannot start a value at top level (offset within the current buffer).
    case unexpectedByte(UInt8, offset: Int)
    /// A value exceeded the size limit.
    case valueTooLarge(limit: Int)

    package var description: String {
        switch self {
        case .unexpectedByte(let byte, _):
            let shown = byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16)
            return "unexpected \(shown) between JSON values"
        case .valueTooLarge(let limit):
            return "a JSON value exceeds \(limit) bytes"
        }
    }
}
