import ArgumentParser
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import RingCore

struct RingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring",
        abstract: "Operator tools for the placement ring: where claims go, what a change would move, how even it is.",
        subcommands: [Locate.self, Plan.self, Balance.self]
    )
}

extension OutputFormat: ExpressibleByArgument {}

extension RingCommand {
    struct Locate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the member (and spill-over candidates) of each claim.",
            discussion: """
                Claims are <namespace>/<claim> arguments, or one per line on standard input; one answer per \
                line in the same order. With --raw each input is the ring key itself (any UTF-8 string, \
                the empty one included).
                """)

        @OptionGroup var source: RingSourceOptions
        @Flag(help: "Take each input as the ring key itself instead of <namespace>/<claim>.")
        var raw = false
        @Option(help: "How many spill-over candidates to show (default 3, capped at the member count).")
        var candidates: Int = 3
        @Option(help: "table or json.")
        var output: OutputFormat = .table
        @Argument(help: "Claims as <namespace>/<claim>; none or '-' reads standard input.")
        var claims: [String] = []

        /// Rows per block: the table is printed a block at a time (columns widen as
        /// needed, never narrow) and JSON one element at a time, so any number of claims
        /// takes the memory of one block.
        static let blockRows = 1000

        func run() async throws {
            guard candidates >= 1 else { throw UsageError("--candidates must be at least 1") }
            let ring = try source.snapshot()
            var out = BufferedOutput()
            var table = TextTable(columns: ["claim", "key", "member", "candidates"])
            var widths: [Int] = []
            var printedHeader = false
            var jsonCount = 0
            func flushTable() {
                widths = table.widths(atLeast: widths)
                for line in table.renderedLines(widths: widths, header: !printedHeader) { out.write(line + "\n") }
                printedHeader = true
                table.rows.removeAll(keepingCapacity: true)
                out.flush()
            }
            if output == .json { out.write("[") }
            try ClaimInput.forEachLine(arguments: claims) { index, input in
                let key = try ClaimInput.key(for: input, raw: raw, line: index + 1)
                let order = try ring.candidates(key, count: candidates).map(\.name)
                switch output {
                case .table:
                    table.add([input, key.debugDescription, order.first ?? "-", order.joined(separator: ", ")])
                    if table.rows.count >= Self.blockRows { flushTable() }
                case .json:
                    let element: [String: Any] = ["input": input, "key": key, "member": order.first ?? NSNull(), "candidates": order]
                    let data = try JSONSerialization.data(withJSONObject: element, options: [.sortedKeys, .withoutEscapingSlashes])
                    out.write((jsonCount == 0 ? "\n  " : ",\n  ") + String(decoding: data, as: UTF8.self))
                    jsonCount += 1
                    if jsonCount % Self.blockRows == 0 { out.flush() }
                }
            }
            switch output {
            case .table: flushTable()
            case .json: out.write(jsonCount == 0 ? "]\n" : "\n]\n")
            }
            out.flush()
        }
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show which claims a proposed ring would move, per member, before you change anything.",
            discussion: """
                The current ring comes from --members/--config/the environment, the proposed one from \
                --proposed-members or --proposed-config. Claims (<namespace>/<claim>, one per line) come from \
                --claims-file, or standard input.
                """)

        @OptionGroup var source: RingSourceOptions
        @Option(help: "Proposed members inline (a,b*2,c).")
        var proposedMembers: String?
        @Option(help: "Hash of --proposed-members (default: the current ring's).")
        var proposedHash: String?
        @Option(help: "Virtual nodes of --proposed-members (default: the current ring's).")
        var proposedVnodes: Int?
        @Option(help: "Proposed configuration file.")
        var proposedConfig: String?
        @Option(help: "File with the claims, one <namespace>/<claim> per line ('-' = standard input).")
        var claimsFile: String = "-"
        @Flag(help: "Take each line as the ring key itself.")
        var raw = false
        @Flag(help: "List every claim that would move.")
        var showClaims = false
        @Option(help: "table or json.")
        var output: OutputFormat = .table

        func run() async throws {
            let current = try source.snapshot()
            let proposed: RingSnapshot
            if let proposedMembers {
                proposed = try RingSourceOptions.inlineRing(
                    proposedMembers, hash: proposedHash ?? current.configuration.hash.rawValue,
                    vnodes: proposedVnodes ?? current.configuration.virtualNodesPerMember, option: "--proposed-members")
            } else if let proposedConfig {
                let c = try ProvisionerConfiguration.fromYAMLFile(proposedConfig)
                proposed = try RingSnapshot(members: c.ringMembers, configuration: c.ring)
            } else {
                throw UsageError("give the proposed ring with --proposed-members or --proposed-config")
            }
            let lines: [String]
            if claimsFile == "-" {
                lines = ClaimInput.lines(arguments: [])
            } else {
                do {
                    lines = try String(contentsOfFile: claimsFile, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: !raw).map(String.init)
                } catch {
                    throw UsageError("cannot read --claims-file \(claimsFile): \(error.localizedDescription)")
                }
            }
            let inputs = raw ? lines : lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            let keys = try inputs.enumerated().map { try ClaimInput.key(for: $1, raw: raw, line: $0 + 1) }
            let plan = try RingPlan(current: current, proposed: proposed, keys: keys)
            let inputOfKey = Dictionary(zip(keys, inputs), uniquingKeysWith: { a, _ in a })
            switch output {
            case .json:
                try printJSON([
                    "claims": plan.report.totalKeys, "moved": plan.report.movedKeys, "fraction": plan.report.fraction,
                    "hashSpaceMoved": plan.hashSpaceMoved.map { $0 as Any } ?? NSNull(),
                    "members": plan.members.map { m in
                        ["member": m.member, "claimsBefore": m.claimsBefore, "claimsAfter": m.claimsAfter,
                         "movingOut": m.movingOut, "movingIn": m.movingIn,
                         "shareBefore": m.shareBefore.map { $0 as Any } ?? NSNull(),
                         "shareAfter": m.shareAfter.map { $0 as Any } ?? NSNull()] as [String: Any]
                    },
                    "moves": plan.report.moves.map { ["from": $0.from, "to": $0.to, "count": $0.count] },
                    "movedClaims": plan.report.movedKeyList.map { ["claim": inputOfKey[$0.key] ?? $0.key, "from": $0.from, "to": $0.to] },
                ])
            case .table:
                print("\(plan.report.movedKeys) of \(plan.report.totalKeys) claims would map to another member (\(percent(plan.report.fraction))); "
                      + "hash space changing owner: \(percent(plan.hashSpaceMoved)).")
                print("Existing volumes never move (their PVs record their server); this is where re-created claims would look.\n")
                var t = TextTable(columns: ["member", "claims now", "after", "moving out", "moving in", "share now", "share after"], numeric: [1, 2, 3, 4, 5, 6])
                for m in plan.members {
                    t.add([m.member, "\(m.claimsBefore)", "\(m.claimsAfter)", "\(m.movingOut)", "\(m.movingIn)", percent(m.shareBefore), percent(m.shareAfter)])
                }
                print(t.rendered())
                if showClaims && !plan.report.movedKeyList.isEmpty {
                    print("")
                    var c = TextTable(columns: ["claim", "from", "to"])
                    for k in plan.report.movedKeyList { c.add([inputOfKey[k.key] ?? k.key, k.from, k.to]) }
                    print(c.rendered())
                }
            }
        }
    }

    struct Balance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ownership shares and spread of a member list at several virtual-node counts: the tool to tune the ring.")

        @OptionGroup var source: RingSourceOptions
        @Option(help: "Virtual-node counts to compare, comma-separated.")
        var compare: String = "20,50,100,255,500,1000"
        @Option(help: "table or json.")
        var output: OutputFormat = .table

        func run() async throws {
            let ring = try source.snapshot()
            var counts: [Int] = []
            for part in compare.split(separator: ",") {
                guard let v = Int(part.trimmingCharacters(in: .whitespaces)), v >= 1 else {
                    throw UsageError("--compare: \(Echo.quoted(String(part))) is not a virtual-node count (an integer ≥ 1)")
                }
                counts.append(v)
            }
            if !counts.contains(ring.configuration.virtualNodesPerMember) { counts.append(ring.configuration.virtualNodesPerMember) }
            counts.sort()
            var rows: [[String: Any]] = []
            var t = TextTable(columns: ["vnodes", "max/mean", "min/mean", "CV", "busiest member"], numeric: [0, 1, 2, 3])
            for v in counts {
                if let problem = ProvisionerConfiguration.ringPointsProblem(weights: ring.members.map(\.weight), virtualNodes: v) {
                    throw UsageError("--compare \(v): the ring \(problem)")
                }
                let s: RingSnapshot
                do {
                    s = try RingSnapshot(members: ring.members, configuration: RingConfiguration(virtualNodesPerMember: v, hash: ring.configuration.hash))
                } catch { throw UsageError("--compare \(v): \(error.description)") }
                let stats = BalanceStatistics(s.ownership())
                t.add(["\(v)\(v == ring.configuration.virtualNodesPerMember ? " *" : "")", String(format: "%.3f", stats.maxOverMean),
                       String(format: "%.3f", stats.minOverMean), String(format: "%.3f", stats.coefficientOfVariation), stats.busiest])
                rows.append(["virtualNodes": v, "maxOverMean": stats.maxOverMean, "minOverMean": stats.minOverMean,
                             "coefficientOfVariation": stats.coefficientOfVariation, "busiest": stats.busiest,
                             "shares": Dictionary(uniqueKeysWithValues: s.ownership().map { ($0.member.name, $0.share) })])
            }
            let shares = ring.ownership()
            switch output {
            case .json:
                try printJSON(["hash": ring.configuration.hash.rawValue, "members": ring.members.map(\.name), "byVirtualNodes": rows])
            case .table:
                print("\(ring.members.count) members, \(ring.configuration.hash) ring; * = the configured \(ring.configuration.virtualNodesPerMember) virtual nodes.")
                print("max/mean 1.10 means the busiest member gets 10% more claims than an even split.\n")
                print(t.rendered())
                print("")
                var m = TextTable(columns: ["member", "weight", "share", "of even share"], numeric: [1, 2, 3])
                let totalWeight = Double(ring.members.reduce(0) { $0 + $1.weight })
                for s in shares {
                    let even = Double(s.member.weight) / totalWeight
                    m.add([s.member.name, "\(s.member.weight)", percent(s.share), String(format: "%.3f", s.share / even)])
                }
                print(m.rendered())
            }
        }
    }
}

/// max/mean, min/mean and coefficient of variation of ownership, weight-adjusted.
struct BalanceStatistics {
    var maxOverMean = 0.0, minOverMean = 0.0, coefficientOfVariation = 0.0
    var busiest = "-"

    init(_ shares: [MemberShare]) {
        guard !shares.isEmpty else { return }
        let totalWeight = Double(shares.reduce(0) { $0 + $1.member.weight })
        // Each member's share relative to what its weight entitles it to.
        let ratios = shares.map { $0.share / (Double($0.member.weight) / totalWeight) }
        maxOverMean = ratios.max() ?? 0
        minOverMean = ratios.min() ?? 0
        let variance = ratios.reduce(0) { $0 + ($1 - 1) * ($1 - 1) } / Double(ratios.count)
        coefficientOfVariation = variance.squareRoot()
        busiest = shares[ratios.firstIndex(of: maxOverMean) ?? 0].member.name
    }
}
