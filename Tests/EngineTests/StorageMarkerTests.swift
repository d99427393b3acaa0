// OwnershipMarker decoding and RelativePath validation.
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Testing

@Suite("OwnershipMarker")
struct StorageMarkerTests {
    static let valid = OwnershipMarker(
        provisioner: "example.com/nfs", claimNamespace: "team-a", claimName: "db", claimUID: "u1",
        volumeName: "pvc-u1", createdAt: Date(timeIntervalSince1970: 1_780_000_000))

    func json(_ fields: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: fields))
    }

    var validFields: [String: Any] {
        ["version": 1, "provisioner": "p", "claimNamespace": "ns", "claimName": "n", "claimUID": "u",
         "volumeName": "pvc-u", "createdAt": "2026-05-28T20:26:40Z"]
    }

    @Test func roundTrip_keepsEveryField_andIsReadableJSON() throws {
        let bytes = Self.valid.encoded()
        #expect(try OwnershipMarker.decode(bytes) == Self.valid)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"claimUID\":\"u1\""))
        #expect(text.contains("\"createdAt\":\"2026-05-28T20:26:40Z\""))
        #expect(text.hasSuffix("\n"))
    }

    @Test func unknownFields_areIgnored() throws {
        var fields = validFields
        fields["addedLater"] = ["x": 1]
        #expect(try OwnershipMarker.decode(json(fields)).claimUID == "u")
    }

    @Test(arguments: ["claimUID", "claimNamespace", "claimName", "volumeName", "provisioner", "createdAt", "version"])
    func missingField_isNamed(_ key: String) throws {
        var fields = validFields
        fields.removeValue(forKey: key)
        #expect(throws: MarkerProblem.missingField(key)) { try OwnershipMarker.decode(json(fields)) }
    }

    @Test func wrongTypes_andEmptyValues_areNamed() throws {
        var fields = validFields
        fields["claimUID"] = 7
        #expect(throws: MarkerProblem.wrongType(field: "claimUID")) { try OwnershipMarker.decode(json(fields)) }
        fields = validFields
        fields["createdAt"] = "yesterday"
        #expect(throws: MarkerProblem.wrongType(field: "createdAt")) { try OwnershipMarker.decode(json(fields)) }
        fields = validFields
        fields["claimUID"] = ""
        #expect(throws: MarkerProblem.emptyField("claimUID")) { try OwnershipMarker.decode(json(fields)) }
    }

    @Test func newerFormat_isRefused() throws {
        var fields = validFields
        fields["version"] = 2
        #expect(throws: MarkerProblem.unsupportedVersion(2)) { try OwnershipMarker.decode(json(fields)) }
    }

    @Test(arguments: ["", "null", "[]", "garbage", "{\"version\":", "\u{0}\u{1}\u{2}", "42"])
    func garbage_isATypedProblem_neverACrash(_ text: String) {
        #expect(throws: MarkerProblem.self) { try OwnershipMarker.decode(Array(text.utf8)) }
    }

    @Test func tooLarge_isRefusedBeforeParsing() {
        let bytes = [UInt8](repeating: UInt8(ascii: " "), count: OwnershipMarker.maxBytes + 1)
        #expect(throws: MarkerProblem.tooLarge(bytes: OwnershipMarker.maxBytes + 1)) { try OwnershipMarker.decode(bytes) }
    }

    @Test func sameClaimName_ignoresTheUID() {
        let recreated = Self.valid.reassigned(claimUID: "u2", volumeName: "pvc-u2", at: Date())
        #expect(recreated.isSameClaimName(as: Self.valid))
        #expect(recreated.claimUID == "u2")
    }
}

@Suite("RelativePath")
struct StorageRelativePathTests {
    @Test func parse_splitsComponents() throws {
        #expect(try RelativePath("a/b/c").components == ["a", "b", "c"])
        #expect(try RelativePath("a/b").parent == RelativePath("a"))
        #expect(RelativePath.root.isRoot)
        #expect(RelativePath.root.description == ".")
    }

    @Test(arguments: [
        ("", PathProblem.empty),
        ("/etc", .absolute),
        ("a//b", .emptyComponent),
        ("a/", .emptyComponent),
        ("..", .dotComponent("..")),
        ("a/../b", .dotComponent("..")),
        ("./a", .dotComponent(".")),
        ("a\0b", .nulByte),
        (String(repeating: "x", count: 256), .componentTooLong(String(repeating: "x", count: 256), bytes: 256)),
    ])
    func parse_refusesUnsafePaths(_ text: String, _ problem: PathProblem) {
        #expect(throws: StorageError.invalidPath(path: text, problem: problem)) { try RelativePath(text) }
    }

    @Test func parse_refusesOverlongPaths() {
        let text = Array(repeating: String(repeating: "x", count: 200), count: 21).joined(separator: "/")
        #expect(throws: StorageError.invalidPath(path: text, problem: .pathTooLong(bytes: 21 * 200 + 20))) {
            try RelativePath(text)
        }
    }

    @Test func appending_validatesTheNewComponent() throws {
        #expect(try RelativePath("a").appending("b") == RelativePath("a/b"))
        #expect(throws: StorageError.self) { try RelativePath("a").appending("..") }
        #expect(throws: StorageError.self) { try RelativePath("a").appending("b/c") }
        #expect(try RelativePath("a/b").isWithin(RelativePath("a")))
        #expect(try !RelativePath("ab").isWithin(RelativePath("a")))
    }
}
