import Engine
import KubeRuntime
import VolumeStorage
import TestSupport
import Testing

/// Complete JSON values whatever the chunk boundaries.
@Suite struct WatchStreamDecoderTests {
    /// Events with braces and quotes inside strings, escapes, multi-byte UTF-8, nested
    /// arrays, and uneven whitespace between values.
    static let stream = """
        {"type":"ADDED","object":{"metadata":{"name":"a","annotations":{"x":"{not [a] brace}\\\\","q":"say \\"hi\\" }"}}}}
        {"type":"MODIFIED","object":{"metadata":{"name":"ünï-cödé-✓"},"spec":{"l":[[1,2],[],{"k":[]}]}}}\r
          \t{"type":"DELETED","object":{"metadata":{"name":"c"}}}{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}

        """

    static var expectedValues: [String] {
        [
            #"{"type":"ADDED","object":{"metadata":{"name":"a","annotations":{"x":"{not [a] brace}\\","q":"say \"hi\" }"}}}}"#,
            #"{"type":"MODIFIED","object":{"metadata":{"name":"ünï-cödé-✓"},"spec":{"l":[[1,2],[],{"k":[]}]}}}"#,
            #"{"type":"DELETED","object":{"metadata":{"name":"c"}}}"#,
            #"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}"#,
        ]
    }

    private func decodeAll(_ chunks: [[UInt8]]) throws -> [String] {
        var decoder = JSONStreamDecoder()
        var values: [String] = []
        for chunk in chunks {
            decoder.append(chunk)
            while let value = try decoder.next() {
                values.append(String(decoding: value, as: UTF8.self))
            }
        }
        #expect(decoder.pendingByteCount == 0)
        return values
    }

    @Test func everySingleSplitOffset_yieldsTheSameValues() throws {
        let bytes = Array(Self.stream.utf8)
        for offset in 0...bytes.count {
            let values = try decodeAll([Array(bytes[..<offset]), Array(bytes[offset...])])
            #expect(values == Self.expectedValues, "split at byte \(offset)")
        }
    }

    @Test func everyPairOfSplitOffsets_yieldsTheSameValues() throws {
        let bytes = Array(Self.stream.utf8)
        for first in stride(from: 0, through: bytes.count, by: 3) {
            for second in first...bytes.count {
                let chunks = [Array(bytes[..<first]), Array(bytes[first..<second]), Array(bytes[second...])]
                let values = try decodeAll(chunks)
                #expect(values == Self.expectedValues, "split at \(first) and \(second)")
                if values != Self.expectedValues { return }
            }
        }
    }

    @Test func oneByteChunks_andOneWholeChunk_yieldTheSameValues() throws {
        let bytes = Array(Self.stream.utf8)
        #expect(try decodeAll(bytes.map { [$0] }) == Self.expectedValues)
        #expect(try decodeAll([bytes]) == Self.expectedValues)
    }

    @Test func truncatedStream_leavesPendingBytes() throws {
        var decoder = JSONStreamDecoder()
        decoder.append(Array(#"{"type":"ADDED"}  {"type":"MODI"#.utf8))
        #expect(try decoder.next() != nil)
        #expect(try decoder.next() == nil)
        #expect(decoder.pendingByteCount == 13)
    }

    @Test func garbageBetweenValues_isAnError_andStaysOne() throws {
        var decoder = JSONStreamDecoder()
        decoder.append(Array(#"{"a":1} oops {"b":2}"#.utf8))
        #expect(try decoder.next() != nil)
        #expect(throws: JSONStreamError.self) { try decoder.next() }
        #expect(throws: JSONStreamError.self) { try decoder.next() }
    }

    @Test func oversizedValue_isAnError() throws {
        var decoder = JSONStreamDecoder(maxValueBytes: 64)
        decoder.append(Array(("{\"a\":\"" + String(repeating: "x", count: 100)).utf8))
        #expect(throws: JSONStreamError.valueTooLarge(limit: 64)) { try decoder.next() }
    }

    @Test func manyValues_areDecodedInLinearTime_withoutLosingAny() throws {
        var decoder = JSONStreamDecoder()
        var count = 0
        for index in 0..<5000 {
            decoder.append(Array("{\"i\":\(index)}\n".utf8))
            while try decoder.next() != nil { count += 1 }
        }
        #expect(count == 5000)
    }
}
