// PathPattern: parsing, rendering, traversal refusal, the default and its collision fix.
import Engine
import KubeRuntime
import VolumeStorage
import Testing
import TestSupport

@Suite("PathPattern")
struct PathPatternTests {
    static let claim = PathPattern.Values(
        namespace: "team-a", name: "db", uid: "6f1c2a9e", volumeName: "pvc-6f1c2a9e",
        labels: ["app": "shop", "app.kubernetes.io/name": "pg", "empty": ""],
        annotations: ["nfs.io/storage-path": "data"])

    func render(_ pattern: String, labels: [String: String] = [:], annotations: [String: String] = [:]) throws -> RelativePath {
        var values = Self.claim
        values.labels.merge(labels) { $1 }
        values.annotations.merge(annotations) { $1 }
        return try PathPattern(pattern).render(values)
    }

    @Test func defaultPattern_isTheOriginalsNamespaceDashName() throws {
        #expect(try PathPattern(PathPattern.defaultSource) == .default)
        #expect(try PathPattern.default.render(Self.claim) == rel("team-a-db"))
    }

    @Test(arguments: [
        ("${.PVC.namespace}/${.PVC.name}", "team-a/db"),
        ("${.PVC.labels.app}-${.PVC.name}", "shop-db"),
        ("${.PVC.labels.app.kubernetes.io/name}/x", "pg/x"),
        ("${.PVC.annotations.nfs.io/storage-path}", "data"),
        ("vols/${.PV.name}", "vols/pvc-6f1c2a9e"),
        ("${.PVC.namespace}-${.PVC.name}-${.PVC.uid}", "team-a-db-6f1c2a9e"),
        ("cost$center/${.PVC.name}}", "cost$center/db}"),
        ("literal", "literal"),
    ])
    func render_substitutesVariables(_ pattern: String, _ expected: String) throws {
        #expect(try render(pattern) == rel(expected))
    }

    @Test(arguments: [
        ("", PathPatternError.emptyPattern),
        ("/abs/${.PVC.name}", .absolutePattern),
        ("a/${.PVC.name", .unclosedVariable(position: 2)),
        ("${.PVC.nam}", .unknownVariable("${.PVC.nam}", position: 0)),
        ("x${.PV.uid}", .unknownVariable("${.PV.uid}", position: 1)),
        ("${PVC.name}", .unknownVariable("${PVC.name}", position: 0)),
        ("${.PVC.labels.}", .emptyKey(variable: "${.PVC.labels.}", position: 0)),
        ("${.PVC.annotations}", .emptyKey(variable: "${.PVC.annotations}", position: 0)),
        ("a//b", .emptySegment(position: 2)),
        ("a/", .emptySegment(position: 2)),
        ("a/../b", .dotSegment("..", position: 2)),
        ("./a", .dotSegment(".", position: 0)),
        (".hidden/${.PVC.name}", .segmentStartsWithDot(position: 0)),
        ("a/.nfs-cluster-provisioner", .segmentStartsWithDot(position: 2)),
        ("a\0b", .nulByte(position: 1)),
    ])
    func parse_refusesBadPatterns_namingTheProblemAndPosition(_ pattern: String, _ expected: PathPatternError) {
        #expect(throws: expected) { try PathPattern(pattern) }
    }

    @Test(arguments: ["..", ".", "a/../../b", "/abs", "../../etc", ".hidden", "a/b"])
    func render_refusesTraversalThroughLabelAndAnnotationValues(_ value: String) {
        for pattern in ["${.PVC.labels.evil}", "${.PVC.annotations.evil}", "ns/${.PVC.labels.evil}"] {
            #expect(throws: PathPatternError.self, "\(pattern) with '\(value)'") {
                try render(pattern, labels: ["evil": value], annotations: ["evil": value])
            }
        }
    }

    @Test func render_namesTheProblem() {
        #expect(throws: PathPatternError.missingValue(variable: "${.PVC.labels.team}")) { try render("${.PVC.labels.team}") }
        #expect(throws: PathPatternError.missingValue(variable: "${.PVC.annotations.x}")) { try render("a/${.PVC.annotations.x}") }
        #expect(throws: PathPatternError.valueContainsSlash(variable: "${.PVC.labels.p}", value: "a/../../b")) {
            try render("${.PVC.labels.p}", labels: ["p": "a/../../b"])
        }
        #expect(throws: PathPatternError.renderedEmptySegment(segment: 2, pattern: "${.PVC.labels.empty}")) {
            try render("x/${.PVC.labels.empty}")
        }
        #expect(throws: PathPatternError.renderedDotSegment(segment: 1, value: "..")) { try render("${.PVC.labels.p}", labels: ["p": ".."]) }
        #expect(throws: PathPatternError.renderedStartsWithDot(segment: 1, value: ".x-db")) {
            try render("${.PVC.labels.p}-${.PVC.name}", labels: ["p": ".x"])
        }
        #expect(throws: PathPatternError.renderedControlCharacter(segment: 1, pattern: "${.PVC.labels.p}")) {
            try render("${.PVC.labels.p}", labels: ["p": "a\nb"])
        }
        #expect(throws: PathPatternError.renderedSegmentTooLong(segment: 1, bytes: 256)) {
            try render("${.PVC.labels.p}", labels: ["p": String(repeating: "x", count: 256)])
        }
        let long = String(repeating: "y", count: 250)
        let pattern = Array(repeating: "${.PVC.labels.p}", count: 17).joined(separator: "/")
        #expect(throws: PathPatternError.renderedPathTooLong(bytes: 17 * 250 + 16)) {
            try render(pattern, labels: ["p": long])
        }
    }

    @Test func collidingClaims_renderTheSameDefaultName_andDisambiguationTellsThemApart() throws {
        let first = try PathPattern.default.render(.init(namespace: "team-a", name: "db", uid: "1", volumeName: "pvc-1"))
        let second = try PathPattern.default.render(.init(namespace: "team", name: "a-db", uid: "2", volumeName: "pvc-2"))
        #expect(first == second)
        let a = PathPattern.disambiguated(first, namespace: "team-a", name: "db")
        let b = PathPattern.disambiguated(second, namespace: "team", name: "a-db")
        #expect(a != b)
        #expect(a == PathPattern.disambiguated(first, namespace: "team-a", name: "db"), "deterministic")
        #expect(b.description.hasPrefix("team-a-db-"))
        #expect(b.lastComponent?.utf8.count == "team-a-db-".utf8.count + 8)
    }

    @Test func disambiguated_hashIsFNV1a32_andStaysWithin255Bytes() throws {
        // FNV-1a 32 reference values: "" -> 811c9dc5, "a" -> e40c292c.
        #expect(PathPattern.disambiguated(try rel("x"), namespace: "", name: "").description != "x")
        #expect(PathPattern.disambiguated(try rel("n/x"), namespace: "a", name: "") .description.hasPrefix("n/x-"))
        let long = try rel(String(repeating: "é", count: 127))  // 254 bytes
        let shortened = PathPattern.disambiguated(long, namespace: "ns", name: "name")
        #expect((shortened.lastComponent?.utf8.count ?? 0) <= 255)
        #expect(shortened.lastComponent?.hasPrefix("éé") == true)
    }
}
