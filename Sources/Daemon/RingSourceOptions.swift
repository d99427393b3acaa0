import ArgumentParser
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import RingCore

/// Where a ring tool gets its members: inline, a configuration file, or the original's
/// environment (in that order of precedence).
struct RingSourceOptions: ParsableArguments {
    @Option(name: .long, help: "Members inline, comma-separated; `name*weight` for a weight (e.g. 10.0.0.1,10.0.0.2*2).")
    var members: String?

    @Option(name: .long, help: "Hash for --members: crc32 or xxh3 (default crc32, the original's).")
    var hash: String?

    @Option(name: .long, help: "Virtual nodes per member for --members (default 255).")
    var vnodes: Int?

    @Option(name: .long, help: "A configuration file (YAML) to read the members from.")
    var config: String?

    /// The ring described by the options.
    func snapshot(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RingSnapshot {
        if let members {
            return try Self.inlineRing(members, hash: hash, vnodes: vnodes, option: "--members")
        }
        if hash != nil || vnodes != nil {
            throw UsageError("--hash and --vnodes apply to --members; a configuration file sets its own ring")
        }
        let configuration: ProvisionerConfiguration
        if let config {
            configuration = try ProvisionerConfiguration.fromYAMLFile(config)
        } else if environment["NFS_SERVER"] != nil {
            configuration = try ProvisionerConfiguration.fromEnvironment(environment)
        } else {
            throw UsageError("no members given: use --members a,b,c, --config FILE, or set NFS_SERVER and NFS_PATH")
        }
        return try RingSnapshot(members: configuration.ringMembers, configuration: configuration.ring)
    }

    /// Parses `a,b*2,c` with a hash and vnode count.
    static func inlineRing(_ list: String, hash: String?, vnodes: Int?, option: String) throws -> RingSnapshot {
        var members: [Member] = []
        for (i, entry) in list.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            if entry.isEmpty { throw UsageError("\(option): entry \(i + 1) is empty in \(Echo.quoted(list))") }
            if let star = entry.lastIndex(of: "*") {
                guard let weight = Int(entry[entry.index(after: star)...]), weight >= 1 else {
                    throw UsageError("\(option): \(Echo.quoted(String(entry))) has an invalid weight; write name*N with N ≥ 1")
                }
                members.append(Member(String(entry[..<star]), weight: weight))
            } else {
                members.append(Member(String(entry)))
            }
        }
        let ringHash: RingHash
        switch hash?.lowercased() {
        case nil, "crc32": ringHash = .crc32
        case "xxh3": ringHash = .xxh3
        case let other?: throw UsageError("--hash \(Echo.quoted(other)) is not a hash; use crc32 or xxh3")
        }
        if let problem = ProvisionerConfiguration.ringPointsProblem(weights: members.map(\.weight), virtualNodes: vnodes ?? 255) {
            throw UsageError("\(option): the ring \(problem)")
        }
        do {
            return try RingSnapshot(members: members, configuration: RingConfiguration(virtualNodesPerMember: vnodes ?? 255, hash: ringHash))
        } catch {
            throw UsageError("\(option): \(error.description)")
        }
    }
}

/// Claim inputs: arguments, or standard input one per line.
enum ClaimInput {
    static func lines(arguments: [String]) -> [String] {
        if !arguments.isEmpty && arguments != ["-"] { return arguments }
        var lines: [String] = []
        while let line = readLine(strippingNewline: true) { lines.append(line) }
        return lines
    }

    /// Calls `body` with each input and its index as it comes: the arguments, or standard
    /// input read line by line (nothing is kept).
    static func forEachLine(arguments: [String], _ body: (Int, String) throws -> Void) throws {
        if !arguments.isEmpty && arguments != ["-"] {
            for (i, argument) in arguments.enumerated() { try body(i, argument) }
            return
        }
        var index = 0
        while let line = readLine(strippingNewline: true) {
            try body(index, line)
            index += 1
        }
    }

    /// The ring key for an input: `namespace/claim` → `namespace-claim`, or the input
    /// itself with --raw (any UTF-8, the empty string included).
    static func key(for input: String, raw: Bool, line: Int) throws -> String {
        if raw { return input }
        guard let ref = PlacementKey.parseClaimReference(input) else {
            throw UsageError("input \(line) \(Echo.quoted(input)) is not <namespace>/<claim>; use --raw to give ring keys as they are")
        }
        return PlacementKey.forClaim(namespace: ref.namespace, name: ref.name)
    }
}
