import Testing
@testable import RingCore

@Suite("xxh3 placement reference")
struct ReferenceTests {
    /// The vectors come from scripts/ring-reference.py, an independent Python
    /// implementation of the xxh3 rule on the `xxhash` package. They also pin placement
    /// across runs, processes and versions: a change here would move volumes.
    @Test("xxh3 mode matches the independent reference on every vector")
    func xxh3_matchesIndependentReference() throws {
        let lines = try Fixtures.tsv("xxh3-reference")
        #expect(lines.count > 200)
        var failures: [String] = []
        for line in lines {
            try #require(line.count == 4, "malformed fixture line: \(line)")
            let members = line[0].split(separator: ",").map { entry -> Member in
                let parts = entry.split(separator: "*")
                return Member(String(parts[0]), weight: parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
            }
            let vnodes = try #require(Int(line[1]))
            let ring = try RingSnapshot(members: members, configuration: RingConfiguration(virtualNodesPerMember: vnodes, hash: .xxh3))
            let got = try ring.locate(line[2]).name
            if got != line[3] { failures.append("\(line[0]) vnodes \(vnodes) key \(line[2].debugDescription): expected \(line[3]) got \(got)") }
        }
        #expect(failures.isEmpty, "\(failures.count) mismatches:\n\(failures.prefix(20).joined(separator: "\n"))")
    }
}
