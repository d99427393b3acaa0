import Foundation
import RingCore
import Testing
import TestSupport
import Yams
@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage

/// A YAML "billion laughs": `levels` anchors, each a list of `width` aliases of the one
/// before, so the last stands for width^levels scalars. A few hundred bytes.
func aliasBomb(levels: Int, width: Int, indent: String = "") -> (text: String, last: String) {
    var lines = ["\(indent)b0: &b0 [lol]"]
    for level in 1...levels {
        lines.append("\(indent)b\(level): &b\(level) [" + Array(repeating: "*b\(level - 1)", count: width).joined(separator: ", ") + "]")
    }
    return (lines.joined(separator: "\n") + "\n", "b\(levels)")
}

@Suite("Bounded YAML: size, nesting and alias expansion are checked before composing", .timeLimit(.minutes(1)))
struct BoundedYAMLTests {
    @Test("an alias bomb under an unknown key of a configuration file is refused, in one short line")
    func configuration_aliasBomb_isRefused() {
        // 10^9 scalars once expanded; before the limits, describing the key never ended.
        let bomb = aliasBomb(levels: 9, width: 10)
        let text = "provisionerName: example.com/nfs\n" + bomb.text + "*\(bomb.last): x\nmembers:\n  - address: a\n    export: /e\n"
        #expect(text.utf8.count < 1000)
        do {
            _ = try ProvisionerConfiguration.fromYAML(text, source: "bomb.yaml")
            Issue.record("accepted an alias bomb")
        } catch {
            #expect(error.description.contains("once its aliases are expanded"), "\(error.description)")
            #expect(error.description.utf8.count < 400 && !error.description.contains("\n"))
        }
    }

    @Test("an alias bomb as a key inside a flow mapping, or as a value, is refused")
    func aliasBomb_asFlowKeyOrValue_isRefused() {
        let bomb = aliasBomb(levels: 8, width: 10)
        for tail in ["x: {*\(bomb.last): 1}\n", "x: [*\(bomb.last),*\(bomb.last)]\n", "x: *\(bomb.last)\n"] {
            #expect(throws: BoundedYAML.Failure.tooManyNodes(limit: 200_000), "\(tail)") {
                try BoundedYAML.compose(bomb.text + tail, limits: .configuration)
            }
        }
    }

    @Test("an unknown key that is an alias of a list is named by its kind, not expanded")
    func unknownAliasKey_isNotExpanded() {
        let text = "provisionerName: example.com/nfs\nanchor: &k [a, b, c]\n"
        do {
            _ = try ProvisionerConfiguration.fromYAML(text, source: "k.yaml")
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("anchor is not a known setting"), "\(error.description)")
        }
        let keyed = "provisionerName: example.com/nfs\nlist: &k [a, b, c]\n? *k\n: 1\n"
        do {
            _ = try ProvisionerConfiguration.fromYAML(keyed, source: "k.yaml")
            Issue.record("accepted")
        } catch {
            #expect(!error.description.contains("a, b") && !error.description.contains("[a"), "\(error.description)")
        }
    }

    @Test("aliases within the limit still work, in block and flow context")
    func smallAliases_stillWork() throws {
        let c = try ProvisionerConfiguration.fromYAML("""
            provisionerName: example.com/nfs
            members:
              - address: a
                export: &export /exports/k8s
                weight: &w 2
              - {address: b, export: *export, weight: *w}
            """, source: "aliases.yaml")
        #expect(c.members.map(\.export) == ["/exports/k8s", "/exports/k8s"])
        #expect(c.members.map(\.weight) == [2, 2])
    }

    @Test("a document over the size limit is refused before it is composed")
    func oversizedDocument_isRefused() throws {
        let text = "provisionerName: example.com/nfs\n# " + String(repeating: "x", count: 1 << 20) + "\n"
        #expect(throws: BoundedYAML.Failure.tooLarge(bytes: text.utf8.count, limit: 1 << 20)) {
            try BoundedYAML.compose(text, limits: .configuration)
        }
        let dir = try TempDirectory(prefix: "ncp-large")
        let path = try dir.writeFile("config.yaml", text)
        do {
            _ = try ProvisionerConfiguration.fromYAMLFile(path)
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("larger than 1048576 bytes"), "\(error.description)")
        }
    }

    @Test("deep nesting is refused, not composed recursively until the stack runs out")
    func deepNesting_isRefused() async {
        for text in [String(repeating: "[", count: 20_000), String(repeating: "- ", count: 20_000) + "x",
                     (0..<300).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n")] {
            #expect(throws: BoundedYAML.Failure.tooDeep(limit: 100)) { try BoundedYAML.compose(text, limits: .configuration) }
        }
        // Ordinary nesting passes (a kubeconfig is 6 levels deep), and so does the deepest
        // document the limit admits, composed here on a task's (small) stack as the daemon does.
        #expect(throws: Never.self) { try BoundedYAML.compose("a:\n  b:\n    - c: [1, {d: [2]}]\n", limits: .configuration) }
        let deepest = String(repeating: "[", count: 98) + "x" + String(repeating: "]", count: 98)
        #expect(BoundedYAML.estimatedDepth(deepest) == 100)
        let composed = await Task { (try? BoundedYAML.compose(deepest, limits: .configuration)) != nil }.value
        #expect(composed)
    }

    @Test("syntax errors are one line with the position, never a copy of the source line")
    func syntaxErrors_areOneShortLine() {
        let longKey = String(repeating: "k", count: 500_000)
        for text in ["members: [\n", "\(longKey): [\n", "a: b\na: c\n", "a: \"\u{7}\n"] {
            do {
                _ = try ProvisionerConfiguration.fromYAML(text, source: "bad.yaml")
                Issue.record("accepted \(text.prefix(40))")
            } catch {
                #expect(!error.description.contains("\n"), "\(error.description)")
                #expect(error.description.utf8.count < 500, "\(error.description.prefix(600))")
                #expect(!error.description.contains(String(repeating: "k", count: 200)))
            }
        }
    }

    /// Random documents with anchors and aliases, block and flow, from fixed seeds: the
    /// expansion BoundedYAML counts on its placeholder copy is exactly the expanded size of
    /// the tree Yams composes, and what it returns is what Yams returns.
    @Test("fuzz: the counted expansion equals the composed tree's, and the result equals Yams'", arguments: [1, 2, 3] as [UInt64])
    func fuzz_countMatchesYams(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        var composed = 0
        var withAliases = 0
        for _ in 0..<150 {
            var generator = RandomYAML(rng: &rng)
            let text = generator.document()
            let expected: Node?
            do {
                expected = try Yams.compose(yaml: text)
            } catch {
                #expect(throws: BoundedYAML.Failure.self, "Yams refuses, so must we:\n\(text)") {
                    try BoundedYAML.compose(text, limits: .init(maximumBytes: 1 << 20, maximumNodes: 1 << 30))
                }
                continue
            }
            guard let expected else { continue }
            composed += 1
            if text.contains("*a") { withAliases += 1 }
            let size = Self.expandedSize(expected)
            let got = try BoundedYAML.compose(text, limits: .init(maximumBytes: 1 << 20, maximumNodes: size))
            #expect(got == expected, "\(text)")
            #expect(throws: BoundedYAML.Failure.tooManyNodes(limit: size - 1), "size \(size):\n\(text)") {
                try BoundedYAML.compose(text, limits: .init(maximumBytes: 1 << 20, maximumNodes: size - 1))
            }
        }
        #expect(composed > 50, "the generator should make mostly valid documents")
        #expect(withAliases > 20, "and many with aliases")
    }

    @Test("aliases in every position libyaml accepts are counted: flow keys without a space, block keys, merge keys, sequences", arguments: [
        "a: &a [1, 2]\nb: {*a:1}\n",
        "a: &a [1, 2]\nb: {*a:*a, \"q\":*a}\n",
        "a: &a [1, 2]\nb: [*a\n  , *a]\nc: {? *a\n  : 1}\n",
        "a: &a x\n*a : 2\n",
        "a: &a [1]\nb: [*a,*a,*a]\n",
        "base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n",
        "- &a [q]\n- *a\n- [*a, \"*a\", '*a', a*a]\n",
        "a: &a 1\nb: |\n  *a in a block scalar\nc: *a # *a in a comment\n",
        "a: &x 1\nb: &x [1, 2, 3]\nc: *x\n",
    ])
    func handcraftedAliases_areCountedExactly(text: String) throws {
        let expected = try #require(try Yams.compose(yaml: text))
        let size = Self.expandedSize(expected)
        #expect(try BoundedYAML.compose(text, limits: .init(maximumBytes: 1 << 20, maximumNodes: size)) == expected)
        #expect(throws: BoundedYAML.Failure.tooManyNodes(limit: size - 1)) {
            try BoundedYAML.compose(text, limits: .init(maximumBytes: 1 << 20, maximumNodes: size - 1))
        }
    }

    static func expandedSize(_ node: Node) -> Int {
        switch node {
        case .scalar, .alias: 1
        case .sequence(let s): 1 + s.reduce(0) { $0 + expandedSize($1) }
        case .mapping(let m): 1 + m.reduce(0) { $0 + expandedSize($1.key) + expandedSize($1.value) }
        }
    }

    @Test("a kubeconfig whose exec is an alias bomb is refused without decoding it")
    func kubeconfig_execBomb_isRefused() throws {
        let dir = try TempDirectory(prefix: "kube-bomb")
        let bomb = aliasBomb(levels: 9, width: 10, indent: "  ")
        let path = try dir.write("config", """
            current-context: c
            bombs:
            \(bomb.text)clusters:
            - name: k
              cluster: {server: "https://k.example"}
            contexts:
            - name: c
              context: {cluster: k, user: u}
            users:
            - name: u
              user:
                exec: *\(bomb.last)
            """)
        do {
            _ = try Kubeconfig.load(paths: [path])
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("once its aliases are expanded"), "\(error.description)")
        }
        // Without the bomb, exec is refused by name, its content never read.
        let plain = try dir.write("plain", """
            current-context: c
            clusters:
            - name: k
              cluster: {server: "https://k.example"}
            contexts:
            - name: c
              context: {cluster: k, user: u}
            users:
            - name: u
              user:
                exec: {command: aws, args: [[[[x]]]], env: null}
            """)
        #expect(throws: KubeConfigError.unsupported(path: plain, entry: "user \"u\"", field: "exec",
                                                   hint: "credential plugins are not implemented; use token, tokenFile or client-certificate")) {
            try Kubeconfig.load(paths: [plain])
        }
    }

    @Test("insecure-skip-tls-verify together with a certificate authority is refused, as client-go does")
    func kubeconfig_insecureWithCA_isRefused() throws {
        let dir = try TempDirectory(prefix: "kube-insecure")
        let ca = Data(KubeTestPKI.caCertificate.utf8).base64EncodedString()
        for cluster in ["{server: \"https://k.example\", insecure-skip-tls-verify: true, certificate-authority-data: \(ca)}",
                        "{server: \"https://k.example\", insecure-skip-tls-verify: true, certificate-authority: ca.pem}"] {
            let path = try dir.write("config", "current-context: c\nclusters:\n- name: k\n  cluster: \(cluster)\ncontexts:\n- name: c\n  context: {cluster: k}\n")
            do {
                _ = try Kubeconfig.load(paths: [path])
                Issue.record("accepted \(cluster)")
            } catch {
                #expect(error.description.contains("insecure-skip-tls-verify: cannot be used together with certificate-authority"), "\(error.description)")
            }
        }
        let insecure = try dir.write("insecure", "current-context: c\nclusters:\n- name: k\n  cluster: {server: \"https://k.example\", insecure-skip-tls-verify: true}\ncontexts:\n- name: c\n  context: {cluster: k}\n")
        #expect(try Kubeconfig.load(paths: [insecure]).tls.insecureSkipVerify)
    }
}

/// Random small YAML documents with anchors and aliases (for the fuzz test above).
struct RandomYAML {
    var rng: SeededGenerator
    var anchors: [String] = []
    var serial = 0

    init(rng: inout SeededGenerator) {
        self.rng = SeededGenerator(seed: rng.next())
    }

    mutating func roll(_ n: UInt64) -> Int { Int(rng.next() % n) }

    mutating func document() -> String {
        switch roll(3) {
        case 0: return node(depth: 0)
        case 1: return (0..<(1 + roll(4))).map { i in "k\(i): \(node(depth: 1))" }.joined(separator: "\n") + "\n"
        default: return (0..<(1 + roll(4))).map { _ in "- \(node(depth: 1))" }.joined(separator: "\n") + "\n"
        }
    }

    /// A flow node, maybe anchored, maybe an alias of an anchor already complete.
    mutating func node(depth: Int) -> String {
        if !anchors.isEmpty && roll(3) == 0 { return "*" + anchors[roll(UInt64(anchors.count))] }
        let anchor: String? = roll(3) == 0 ? (roll(5) == 0 && !anchors.isEmpty ? anchors[0] : "a\(serial)") : nil
        serial += 1
        var body: String
        switch depth >= 3 ? 0 : roll(4) {
        case 0, 1:
            body = ["x", "\"*q\"", "'&r'", "s\(serial)", "a*b", "2"][roll(6)]
        case 2:
            body = "[" + (0..<roll(4)).map { _ in node(depth: depth + 1) }.joined(separator: ", ") + "]"
        default:
            body = "{" + (0..<roll(4)).map { i in
                if !anchors.isEmpty && roll(6) == 0 {
                    // An alias key, with or without a space before the colon, or none after it.
                    let key = "*" + anchors[roll(UInt64(anchors.count))]
                    return [key + " : ", key + ": ", key + ":"][roll(3)] + node(depth: depth + 1)
                }
                return "m\(i): \(node(depth: depth + 1))"
            }.joined(separator: ", ") + "}"
        }
        guard let anchor else { return body }
        if !anchors.contains(anchor) { anchors.append(anchor) }
        return "&\(anchor) \(body)"
    }
}
