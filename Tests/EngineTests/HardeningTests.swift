import Foundation
import RingCore
import Testing
import TestSupport
import TestTraits
@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage

/// Issue 12's inputs and names: ring size, echoed values, byte-wise path rules, member
/// names, long default names, ReadWriteOncePod, Lease names.
@Suite("Hardening: names, paths and limits", .timeLimit(.minutes(2)), .shutsDownTestBeds)
struct HardeningTests {
    func configurationError(_ text: String) -> String? {
        do {
            _ = try ProvisionerConfiguration.fromYAML(text, source: "c.yaml")
            return nil
        } catch {
            return error.description
        }
    }

    // MARK: ring points (item 4)

    @Test("a ring the pod cannot hold is refused before it is built, naming the limit")
    func ringPoints_overTheLimit_areRefused() {
        for text in ["provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: /e\n    weight: 65535\n",
                     "provisionerName: x.com/nfs\nring:\n  virtualNodes: 16777216\nmembers:\n  - address: a\n    export: /e\n",
                     "provisionerName: x.com/nfs\nring:\n  virtualNodes: 9223372036854775807\nmembers:\n  - address: a\n    export: /e\n    weight: 3\n"] {
            let message = configurationError(text)
            #expect(message?.contains("more than the limit of 1048576") == true, "\(message ?? "accepted")")
            #expect(message?.contains("c.yaml: ring") == true)
        }
        #expect(ProvisionerConfiguration.ringPointsProblem(weights: [4096], virtualNodes: 256) == nil, "exactly 2^20")
        #expect(ProvisionerConfiguration.ringPointsProblem(weights: [4096, 1], virtualNodes: 256) != nil)
        #expect(ProvisionerConfiguration.ringPointsProblem(weights: Array(repeating: 4, count: 1000), virtualNodes: 255) == nil,
                "1,000 servers of weight 4 at 255 virtual nodes fit")
        #expect(ProvisionerConfiguration.ringPoints(weights: [Int.max, 2], virtualNodes: 2) == nil, "overflow is not a small number")
    }

    // MARK: echoed values (item 6)

    @Test("values echoed into errors are one line and capped: provisionerName, export, PROVISIONER_NAME, NFS_SERVER")
    func echoedValues_areOneLineAndCapped() {
        let huge = String(repeating: "v", count: 100_000)
        let messages = [
            configurationError("provisionerName: \"example.com/nfs\\nSECOND LINE\"\nmembers:\n  - address: a\n    export: /e\n"),
            configurationError("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: \"relative\\n\\u001b[31mred\"\n"),
            configurationError("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: \(huge)\n"),
            configurationError("provisionerName: x.com/nfs\n\(huge): 1\n"),
            Self.environmentError(["PROVISIONER_NAME": "example.com/nfs\r\nX", "NFS_SERVER": "a", "NFS_PATH": "/x"]),
            Self.environmentError(["PROVISIONER_NAME": "x.com/nfs", "NFS_SERVER": "a:\u{2028}:a", "NFS_PATH": "/x:/y:/z"]),
        ]
        for message in messages {
            guard let message else { Issue.record("accepted"); continue }
            #expect(!message.unicodeScalars.contains { Echo.isControl($0) }, "\(message.debugDescription)")
            #expect(message.utf8.count < 700, "\(message.prefix(800))")
        }
        #expect(messages[0]?.contains("\"example.com/nfs\\nSECOND LINE\"") == true, "\(messages[0] ?? "")")
        #expect(messages[2]?.contains("(100000 bytes in all)") == true, "\(messages[2] ?? "")")
    }

    static func environmentError(_ environment: [String: String]) -> String? {
        do {
            _ = try ProvisionerConfiguration.fromEnvironment(environment)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("Echo escapes every control character and cuts long values, saying how long they were")
    func echo_escapesAndCaps() {
        #expect(Echo.quoted("a\nb\tc\u{1B}[0m\u{85}\u{2029}") == "\"a\\nb\\tc\\u{1B}[0m\\u{85}\\u{2029}\"")
        #expect(Echo.value(String(repeating: "é", count: 500), limit: 3) == "ééé…(1000 bytes in all)")
        #expect(Echo.value("short") == "short")
    }

    // MARK: path rules on bytes (item 7)

    static let values = PathPattern.Values(namespace: "team-a", name: "db", uid: "u1", volumeName: "pvc-u1",
                                           labels: ["dot": ".\u{301}x", "slash": "a/\u{301}b"])

    @Test("a leading dot followed by a combining mark is still a leading dot, in a pattern or in a value")
    func leadingDot_isCheckedOnBytes() throws {
        #expect(".\u{301}x".hasPrefix(".") == false, "the Character view hides the dot")
        #expect(throws: PathPatternError.segmentStartsWithDot(position: 0)) { try PathPattern(".\u{301}x") }
        #expect(throws: PathPatternError.segmentStartsWithDot(position: 2)) { try PathPattern("a/.\u{301}${.PVC.name}") }
        #expect(throws: PathPatternError.renderedStartsWithDot(segment: 1, value: ".\u{301}x")) {
            try PathPattern("${.PVC.labels.dot}").render(Self.values)
        }
        #expect(throws: PathPatternError.valueContainsSlash(variable: "${.PVC.labels.slash}", value: "a/\u{301}b")) {
            try PathPattern("${.PVC.labels.slash}").render(Self.values)
        }
    }

    @Test("a '/' or NUL followed by a combining mark is still a separator or a NUL in a pattern")
    func patternSeparators_areScalars() throws {
        let pattern = try PathPattern("${.PVC.namespace}/\u{301}${.PVC.name}")
        #expect(pattern.segments.count == 2)
        #expect(try pattern.render(Self.values).components == ["team-a", "\u{301}db"])
        #expect(throws: PathPatternError.nulByte(position: 1)) { try PathPattern("a\0\u{301}b") }
    }

    // MARK: member names (item 8)

    @Test("member names must be single path components", arguments: [
        (["NFS_SERVER": "..", "NFS_PATH": "/x"], "NFS_SERVER entry 1"),
        (["NFS_SERVER": "a:.", "NFS_PATH": "/x:/y"], "NFS_SERVER entry 2"),
    ])
    func environmentMemberNames_arePathComponents(environment: [String: String], field: String) {
        var env = environment
        env["PROVISIONER_NAME"] = "example.com/nfs"
        let message = Self.environmentError(env)
        #expect(message?.contains("environment: \(field) is") == true, "\(message ?? "accepted")")
        #expect(message?.contains("path component") == true)
    }

    @Test("in a file: '..', '/', control characters, over 255 bytes, and '..' in a mount path are refused")
    func fileMemberNames_arePathComponents() {
        for (name, words) in [("..", "parent"), ("a/b", "contains '/'"), ("\"a\\tb\"", "control character"),
                              (String(repeating: "n", count: 256), "256 bytes long")] {
            let message = configurationError("provisionerName: x.com/nfs\nmembers:\n  - name: \(name)\n    address: a\n    export: /e\n")
            #expect(message?.contains("members[0].name") == true && message?.contains(words) == true, "\(name): \(message ?? "accepted")")
        }
        let message = configurationError("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: /e\n    mountPath: /mnt/../etc\n")
        #expect(message?.contains("members[0].mountPath") == true && message?.contains("'..'") == true, "\(message ?? "accepted")")
        #expect(configurationError("provisionerName: x.com/nfs\nmembers:\n  - name: .hidden\n    address: a\n    export: /e\n") == nil)
    }

    // MARK: long names with the default pattern (item 9)

    @Test("the default pattern shortens a name over 255 bytes deterministically; other patterns still refuse it")
    func defaultPattern_longNames_areShortened() throws {
        let namespace = String(repeating: "n", count: 63)
        let name = String(repeating: "c", count: 253)
        let values = PathPattern.Values(namespace: namespace, name: name, uid: "u", volumeName: "pvc-u")
        let path = try PathPattern.default.render(values)
        let full = "\(namespace)-\(name)"
        let last = try #require(path.lastComponent)
        #expect(last.utf8.count == 255)
        #expect(last == String(full.prefix(246)) + "-" + PathPattern.hash8(full))
        #expect(try PathPattern.default.render(values) == path, "deterministic")
        // The collision alternative of a shortened name is another name.
        #expect(PathPattern.disambiguated(path, namespace: namespace, name: name) != path)
        // Two long names sharing their first 246 bytes differ.
        let other = try PathPattern.default.render(.init(namespace: namespace, name: String(repeating: "c", count: 252) + "d", uid: "v", volumeName: "pvc-v"))
        #expect(other != path)
        // Names that fit are untouched.
        #expect(try PathPattern.default.render(.init(namespace: namespace, name: String(repeating: "c", count: 191), uid: "u", volumeName: "pvc-u"))
            .lastComponent == "\(namespace)-" + String(repeating: "c", count: 191))
        // A pattern of the class's own is the author's layout: refused, naming the segment.
        #expect(throws: PathPatternError.renderedSegmentTooLong(segment: 1, bytes: 319)) {
            try PathPattern("${.PVC.namespace}-${.PVC.name}-x").render(values)
        }
    }

    @Test("a claim with a 63-character namespace and a 253-character name is provisioned with the default pattern")
    func longClaimNames_areProvisioned() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        let run = try bed.startEngine(bed.configuration(members: ["a"]))
        let namespace = "n" + String(repeating: "a", count: 62)
        let name = "c" + String(repeating: "b", count: 252)
        try await bed.createClaim(namespace, name, className: "nfs")
        let pv = try await bed.waitForBound(namespace, name)
        let record = try VolumeRecord(annotations: pv.metadata.annotations)
        #expect(record.directory.lastComponent == PathPattern.shortened("\(namespace)-\(name)"))
        #expect(bed.volumeDirectories("a") == [PathPattern.shortened("\(namespace)-\(name)")])
        try await run.stop()
    }

    // MARK: ReadWriteOncePod (item 10)

    @Test("a ReadWriteOncePod claim is refused with a ProvisioningFailed event; nothing is created")
    func readWriteOncePod_isRefused() async throws {
        let bed = try await EngineTestBed.start()
        try await bed.createClass("nfs")
        let run = try bed.startEngine(bed.configuration(members: ["a"]))
        try await bed.createClaim("x", "single", className: "nfs", accessModes: ["ReadWriteOncePod"])
        try await bed.createClaim("x", "shared", className: "nfs", accessModes: ["ReadWriteOnce"])
        try await bed.waitUntil("ProvisioningFailed naming ReadWriteOncePod") {
            try await bed.events(about: "single", namespace: "x").contains {
                $0.reason == "ProvisioningFailed" && ($0.message ?? "").contains("ReadWriteOncePod is not supported")
            }
        }
        _ = try await bed.waitForBound("x", "shared")
        #expect(bed.volumeDirectories("a") == ["x-shared"])
        #expect(try await bed.claim("x", "single")?.status?.phase == "Pending")
        try await run.stop()
    }

    // MARK: Lease names (item 14)

    @Test("Lease names: the common case keeps the original's name; names that collided get different Leases")
    func leaseNames_areInjective() {
        #expect(ProvisionerName.leaseName(for: "example.com/nfs") == "example.com-nfs")
        #expect(ProvisionerName.leaseName(for: "cluster.local/nfs-cluster-provisioner") == "cluster.local-nfs-cluster-provisioner")
        #expect(ProvisionerName.leaseName(for: "nfs") == "nfs")
        let colliding = ["x.io/a_b", "x.io/a-b", "x.io-a/b", "X.io/a-b", "x.io/A-b", "x.io/a.-b"]
        let leases = colliding.map(ProvisionerName.leaseName(for:))
        #expect(Set(leases).count == colliding.count, "\(leases)")
        #expect(ProvisionerName.leaseName(for: "x.io/a-b") == "x.io-a-b", "a prefix without '-' keeps the plain name")
        #expect(ProvisionerName.leaseName(for: "x.io/a_b") == "x.io-a-b-" + PathPattern.hash8("x.io/a_b"))
    }

    @Test("fuzz: distinct valid provisioner names give distinct valid Lease names", arguments: [7, 8] as [UInt64])
    func fuzz_leaseNames(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        // A small alphabet so that the plain rule's collisions ('/', '-', '_', case) come up.
        let alphabet = Array("aB-_.")
        var names = Set<String>()
        while names.count < 1500 {
            func part(_ n: Int) -> String { String((0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }) }
            let local = "a" + part(Int(rng.next() % 4)) + "a"
            let name = rng.next() % 3 == 0 ? local : "x" + part(Int(rng.next() % 3)).replacingOccurrences(of: "_", with: "-") + ".io/" + local
            if (try? ProvisionerName.validate(name, source: "t")) != nil { names.insert(name) }
        }
        let longest = [String(repeating: "a", count: 63), String(repeating: "b", count: 63), String(repeating: "c", count: 63),
                       String(repeating: "d", count: 61)].joined(separator: ".") + "/" + String(repeating: "e", count: 63)
        try ProvisionerName.validate(longest, source: "t")
        names.insert(longest)
        var byLease: [String: String] = [:]
        for name in names {
            let lease = ProvisionerName.leaseName(for: name)
            #expect(ProvisionerName.isObjectName(lease), "\(name) -> \(lease)")
            if let other = byLease[lease] { Issue.record("\(name) and \(other) share Lease \(lease)") }
            byLease[lease] = name
        }
    }
}
