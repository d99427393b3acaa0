// Unit tests of the pieces under the server: JSON, quantities, patches, selectors, times.

@testable import LocalCluster
import Testing

@Suite("JSON")
struct JSONTests {
    @Test func parse_roundTripsValuesAndEscapes() throws {
        let text = #"{"a":[1,-2.5,true,false,null],"b":"x\"\\\/\n\u00e9\ud83d\ude00","c":{},"d":9223372036854775807,"e":1e3}"#
        let value = try JSONValue.parse(text)
        #expect(value["a"] == [1, -2.5, true, false, nil])
        #expect(value["b"] == "x\"\\/\né😀")
        #expect(value["d"] == .int(Int64.max))
        #expect(value["e"] == 1000)
        #expect(try JSONValue.parse(value.encodedString()) == value)
    }

    @Test func parse_rejectsMalformedTextWithAnOffset() {
        for text in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\u{01}\"", "tru", "[1] 2", "{\"a\":}", "\"\\x\""] {
            #expect(throws: JSONParseError.self, "\(text)") { try JSONValue.parse(text) }
        }
        let deep = String(repeating: "[", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
    }

    @Test func encode_escapesHTMLCharactersLikeGo() {
        #expect(JSONValue.string("<a&b>").encodedString() == #""\u003ca\u0026b\u003e""#)
        let object: JSONValue = ["metadata": ["name": "x"], "kind": "Status", "apiVersion": "v1", "zeta": 1]
        #expect(object.encodedString() == #"{"kind":"Status","apiVersion":"v1","metadata":{"name":"x"},"zeta":1}"#)
    }

    static func unicodeEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// The escaping written out one scalar at a time, as Go's encoder does.
    static func referenceEncoding(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}": out += Self.unicodeEscape(scalar.value)
            default: out += scalar.value < 0x20 ? Self.unicodeEscape(scalar.value) : String(scalar)
            }
        }
        return out + "\""
    }

    @Test func encode_stringsEscapeExactlyLikeTheScalarByScalarDefinition() throws {
        var rng = SeededRandom(seed: 3)
        let pieces = ["a", "Z", "9", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1f}", "\u{7f}", "<", ">", "&", "é", "\u{2028}",
                      "\u{2029}", "\u{2027}", "\u{202a}", "€", "😀", "\u{e2}", "pvc-1234"]
        for _ in 0..<2000 {
            let text = (0..<Int(rng.next() % 12)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
            #expect(JSONValue.string(text).encodedString() == Self.referenceEncoding(text), "\(text.debugDescription)")
            #expect(try JSONValue.parse(JSONValue.string(text).encodedString()) == .string(text))
        }
        let object: JSONValue = ["spec": 1, "b": 2, "kind": "K", "a": 3, "status": 4, "metadata": 5, "apiVersion": "v"]
        #expect(object.encodedString() == #"{"kind":"K","apiVersion":"v","metadata":5,"spec":1,"status":4,"a":3,"b":2}"#)
    }
}

@Suite("Quantity")
struct QuantityTests {
    func quantity(_ text: String) throws -> Quantity { try #require(Quantity(parsing: text), "\(text)") }

    @Test func equalQuantitiesCompareEqualWhateverTheirSuffix() throws {
        let gibibyte = try quantity("1Gi")
        #expect(try quantity("1024Mi") == gibibyte)
        #expect(try quantity("1073741824") == gibibyte)
        #expect(try quantity("1048576Ki") == gibibyte)
        #expect(try quantity("1G") < gibibyte)
        #expect(try quantity("1.5Gi") == quantity("1536Mi"))
        #expect(try quantity("500m") < quantity("1"))
        #expect(try quantity("1e3") == quantity("1k"))
    }

    @Test func invalidTextDoesNotParse() {
        for text in ["", "Gi", "1GB", "1.2.3", "abc", "1 Gi", "--1", "1e", "1Gii"] {
            #expect(Quantity(parsing: text) == nil, "\(text)")
        }
    }

    @Test func canonicalFormFollowsTheSuffixFormat() {
        let cases = ["1024Mi": "1Gi", "1536Mi": "1536Mi", "1.5Gi": "1536Mi", "1000": "1k", "1500m": "1500m",
                     "0.5": "500m", "2147483648": "2147483648", "1e3": "1e3", "100Ki": "100Ki", "0": "0", "512": "512"]
        for (input, expected) in cases {
            #expect(Quantity(parsing: input)?.canonical == expected, "\(input)")
        }
    }
}

@Suite("Patches")
struct PatchUnitTests {
    @Test func mergePatchFollowsRFC7386() {
        let target: JSONValue = ["a": "b", "c": ["d": "e", "f": "g"], "list": [1, 2]]
        let patch: JSONValue = ["a": "z", "c": ["f": nil], "list": [3]]
        #expect(JSONMergePatch.apply(patch, to: target) == ["a": "z", "c": ["d": "e"], "list": [3]])
    }

    @Test func jsonPatchMoveCopyAndErrors() throws {
        let doc: JSONValue = ["a": ["b": 1], "list": [1, 2, 3]]
        let moved = try JSONPatch.apply([
            ["op": "move", "from": "/a/b", "path": "/moved"],
            ["op": "copy", "from": "/list/0", "path": "/list/-"],
            ["op": "remove", "path": "/list/1"],
        ], to: doc)
        #expect(moved == ["a": [:], "moved": 1, "list": [1, 3, 1]])
        #expect(throws: PatchError.operationFailed("add operation does not apply: doc is missing path: \"/x/y\": missing value")) {
            try JSONPatch.apply([["op": "add", "path": "/x/y", "value": 1]], to: doc)
        }
        #expect(throws: PatchError.malformed("Unexpected kind: frobnicate")) {
            try JSONPatch.apply([["op": "frobnicate", "path": "/a"]], to: doc)
        }
        #expect(throws: PatchError.self) { try JSONPatch.apply([["op": "remove", "path": "/list/01"]], to: doc) }
    }
}

@Suite("Selectors and names")
struct SelectorTests {
    @Test func labelSelectorsParseAndMatch() throws {
        let selector = try LabelSelector.parse("tier in (gold, silver), !legacy, app=db, version>2")
        #expect(selector.matches(["tier": "gold", "app": "db", "version": "3"]))
        #expect(!selector.matches(["tier": "gold", "app": "db", "version": "2"]))
        #expect(!selector.matches(["tier": "gold", "app": "db", "version": "3", "legacy": ""]))
        #expect(throws: APIStatus.self) { try LabelSelector.parse("a in (b") }
        #expect(throws: APIStatus.self) { try LabelSelector.parse("a=b=c") }
    }

    @Test func dnsNamesFollowRFC1123() {
        #expect(NameValidation.dns1123Subdomain("pvc-0123.example").isEmpty)
        #expect(!NameValidation.dns1123Subdomain("Upper").isEmpty)
        #expect(!NameValidation.dns1123Subdomain("a..b").isEmpty)
        #expect(!NameValidation.dns1123Subdomain("-a").isEmpty)
        #expect(NameValidation.dns1123Label(String(repeating: "a", count: 63)).isEmpty)
        #expect(NameValidation.dns1123Label(String(repeating: "a", count: 64)) == ["must be no more than 63 characters"])
        #expect(NameValidation.qualifiedName("example.com/my-finalizer").isEmpty)
        #expect(!NameValidation.qualifiedName("a/b/c").isEmpty)
    }
}

@Suite("Timestamps")
struct TimestampTests {
    @Test func formatsAndParsesRFC3339() throws {
        let stamp = Timestamp(seconds: 1_714_564_800, microseconds: 123_456)
        #expect(stamp.rfc3339 == "2024-05-01T12:00:00Z")
        #expect(stamp.rfc3339Micro == "2024-05-01T12:00:00.123456Z")
        #expect(Timestamp.parse("2024-05-01T14:00:00.123456+02:00", fractionDigits: 6) == stamp)
        #expect(Timestamp.parse("2024-05-01T12:00:00Z", fractionDigits: nil)?.seconds == stamp.seconds)
        #expect(Timestamp.parse("2024-05-01T12:00:00.5Z", fractionDigits: 6) == nil)
        #expect(Timestamp.parse("2024-05-01T12:00:00.123456789Z", fractionDigits: nil)?.microseconds == 123_456)
        #expect(Timestamp.parse("1969-12-31T23:59:59Z", fractionDigits: nil)?.seconds == -1)
        #expect(Timestamp(seconds: -1).rfc3339 == "1969-12-31T23:59:59Z")
        for bad in ["2024-13-01T00:00:00Z", "2024-05-01 12:00:00Z", "2024-05-01T12:00:00", "x"] {
            #expect(Timestamp.parse(bad, fractionDigits: nil) == nil, "\(bad)")
        }
    }
}

@Suite("Store")
struct StoreTests {
    @Test func snapshotsAtOlderRevisionsUndoLaterWrites() throws {
        let store = ObjectStore(historyLimit: 100)
        let key = ObjectKey(namespace: "ns", name: "a")
        let first = try store.write(.leases, key, dryRun: false) { _ in .put(["v": 1]) }.object
        _ = try store.write(.leases, key, dryRun: false) { _ in .put(["v": 2]) }
        _ = try store.write(.leases, ObjectKey(namespace: "ns", name: "b"), dryRun: false) { _ in .put(["v": 3]) }
        _ = try store.write(.leases, key, dryRun: false) { _ in .delete }
        let filter = ObjectFilter(resource: .leases)
        let old = try #require(store.objects(matching: filter, at: first.resourceVersionNumber))
        #expect(old.objects.map(\.1["v"]) == [1])
        #expect(try #require(store.objects(matching: filter, at: nil)).objects.map(\.1["v"]) == [3])
        store.compact()
        #expect(store.objects(matching: filter, at: first.resourceVersionNumber) == nil)
    }

    @Test func aWatcherThatFallsBehindIsClosed() throws {
        let store = ObjectStore(historyLimit: 100)
        let registration = try store.subscribe(ObjectFilter(resource: .leases), start: .now, bufferSize: 2).get()
        for index in 0..<5 {
            _ = try store.write(.leases, ObjectKey(namespace: "ns", name: "l\(index)"), dryRun: false) { _ in .put(["i": .int(Int64(index))]) }
        }
        #expect(store.state.withLock { $0.subscriptions.isEmpty })
        guard case .terminated = registration.continuation.yield(.end) else {
            Issue.record("the overflowed watcher's stream is still open")
            return
        }
    }
}
