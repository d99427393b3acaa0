// YAML documents composed within limits: size, nesting and the node count after aliases.
package import Yams

/// Composes a YAML document only after checking that it stays within ``Limits``.
///
/// YAML aliases (`*name`) repeat the node their anchor (`&name`) names, so a few hundred
/// bytes can stand for billions of nodes ("billion laughs"). Yams composes aliases by
/// sharing, which is cheap, but everything that walks the result — hashing a key that is
/// an alias (Yams does this to find duplicate keys), decoding, describing a node — pays
/// for the full expansion. Yams offers no limit, so this type checks before composing:
///
/// 1. the size in bytes;
/// 2. the nesting depth, estimated from the text without parsing (an over-estimate: Yams
///    composes recursively, so a deep document would exhaust the stack);
/// 3. the number of nodes the document holds once every alias is expanded. It is counted
///    on a copy of the text in which each alias is replaced by a plain placeholder scalar
///    (`*name` becomes a scalar no other text contains, and the structure stays the same:
///    wherever libyaml accepts an alias, it accepts that scalar);
///    that copy has no aliases, so composing it is linear, and the count adds the
///    expanded size of the anchored node for each placeholder.
///
/// Only then is the real text composed. Errors are one line: Yams' own messages quote
/// the source line, which may be megabytes long, so they are rebuilt from the position
/// and the problem.
package enum BoundedYAML {
    /// What a document may hold.
    package struct Limits: Sendable, Hashable {
        /// The longest document, in bytes.
        package var maximumBytes: Int
        /// The most nodes (scalars, sequences, mappings) once aliases are expanded.
        package var maximumNodes: Int
        /// The deepest nesting, as estimated by ``BoundedYAML/estimatedDepth(_:)``.
        package var maximumDepth: Int

        package init(maximumBytes: Int, maximumNodes: Int, maximumDepth: Int = 100) {
            self.maximumBytes = maximumBytes
            self.maximumNodes = maximumNodes
            self.maximumDepth = maximumDepth
        }

        /// A provisioner configuration file: 1 MiB, 200,000 nodes.
        package static let configuration = Limits(maximumBytes: 1 << 20, maximumNodes: 200_000)
        /// A kubeconfig: 4 MiB (embedded certificates), 200,000 nodes.
        package static let kubeconfig = Limits(maximumBytes: 4 << 20, maximumNodes: 200_000)
    }

    /// Why a document was refused; every description is one line.
    package enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        case tooLarge(bytes: Int, limit: Int)
        case tooDeep(limit: Int)
        case tooManyNodes(limit: Int)
        /// Not YAML: the position and libyaml's problem.
        case syntax(String)

        package var description: String {
            switch self {
            case .tooLarge(let bytes, let limit):
                return "the document is \(bytes) bytes, more than the limit of \(limit)"
            case .tooDeep(let limit):
                return "the document nests deeper than \(limit) levels"
            case .tooManyNodes(let limit):
                return "the document holds more than \(limit) values once its aliases are expanded "
                    + "(each *alias repeats what its &anchor names); write the values out or use fewer aliases"
            case .syntax(let text):
                return text
            }
        }
    }

    /// The document's root node, or nil when the document is empty.
    package static func compose(_ text: String, limits: Limits) throws(Failure) -> Node? {
        let bytes = text.utf8.count
        if bytes > limits.maximumBytes { throw .tooLarge(bytes: bytes, limit: limits.maximumBytes) }
        if estimatedDepth(text) > limits.maximumDepth { throw .tooDeep(limit: limits.maximumDepth) }
        let aliases = aliasCandidates(text)
        if aliases.isEmpty {
            let root = try composeReporting(text)
            if let root { _ = try count(root, placeholders: nil, limit: limits.maximumNodes) }
            return root
        }
        try checkExpansion(text, aliases: aliases, limit: limits.maximumNodes)
        return try composeReporting(text)
    }

    /// A one-line account of a Yams error: position and problem, never the source text.
    package static func describe(_ error: any Error) -> String {
        guard let yaml = error as? YamlError else { return Echo.line(String(describing: error), limit: 300) }
        func at(_ mark: Mark) -> String { "line \(mark.line), column \(mark.column)" }
        func context(_ c: YamlError.Context?) -> String {
            guard let c else { return "" }
            return Echo.value(c.text, limit: 80) + " (\(at(c.mark))): "
        }
        switch yaml {
        case .scanner(let c, let problem, let mark, _), .parser(let c, let problem, let mark, _),
             .composer(let c, let problem, let mark, _):
            return "\(at(mark)): \(context(c))\(Echo.value(problem, limit: 120))"
        case .reader(let problem, let offset, _, _):
            return "\(Echo.value(problem, limit: 120))\(offset.map { " at character \($0)" } ?? "")"
        case .duplicatedKeysInMapping(let duplicates, let c):
            let keys = duplicates.prefix(5).map { Echo.quoted($0, limit: 60) }.joined(separator: ", ")
            return "\(at(c.mark)): duplicate key\(duplicates.count == 1 ? "" : "s") \(keys)"
        default:
            return Echo.line(String(describing: yaml), limit: 300)
        }
    }

    // MARK: - Checks

    private static func composeReporting(_ text: String) throws(Failure) -> Node? {
        do {
            return try Parser(yaml: text).singleRoot()
        } catch {
            throw .syntax(describe(error))
        }
    }

    /// An upper bound of the nesting depth, from the text alone: per line, twice the
    /// indentation plus one (a block sequence may sit at its parent mapping's indentation)
    /// plus every block indicator (`- `, `? `, `: `) on the line, plus the flow brackets
    /// (`[`, `{`) open at that point. Brackets and indicators inside strings count too:
    /// the bound is generous, never short.
    package static func estimatedDepth(_ text: String) -> Int {
        var deepest = 0
        var flow = 0
        // The block estimate of the line where the outermost open flow collection began: its
        // continuation lines may be indented less than the block structure around it.
        var flowBase = 0
        var indentation = 0
        var atLineStart = true
        var indicators = 0
        var previous: UInt8 = 0x0A
        func block() -> Int { 2 * (indentation + 1) + indicators }
        func note() { deepest = max(deepest, (flow > 0 ? max(flowBase, block()) : block()) + flow) }
        for byte in text.utf8 {
            switch byte {
            case 0x0A, 0x0D:
                note()
                indentation = 0
                indicators = 0
                atLineStart = true
            case 0x20 where atLineStart:
                indentation += 1
            default:
                atLineStart = false
                switch byte {
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    if flow == 0 { flowBase = block() }
                    flow += 1
                    note()
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    flow = max(0, flow - 1)
                case 0x20, 0x09:
                    if previous == UInt8(ascii: "-") || previous == UInt8(ascii: "?") || previous == UInt8(ascii: ":") {
                        indicators += 1
                    }
                default:
                    break
                }
            }
            previous = byte
        }
        note()
        return deepest
    }

    /// Byte ranges of everything that may be an alias: `*` followed by anchor characters
    /// (libyaml's anchors are ASCII letters, digits, `_` and `-`). Inside strings and
    /// comments these are not aliases; counting them anyway only makes the check stricter.
    static func aliasCandidates(_ text: String) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "*") {
                var j = i + 1
                while j < bytes.count, isAnchorCharacter(bytes[j]) { j += 1 }
                if j > i + 1 {
                    ranges.append(i..<j)
                    i = j
                    continue
                }
            }
            i += 1
        }
        return ranges
    }

    private static func isAnchorCharacter(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }

    /// Counts the expanded document on a copy whose aliases are placeholders.
    private static func checkExpansion(_ text: String, aliases: [Range<Int>], limit: Int) throws(Failure) {
        // A prefix no part of the text contains, so a scalar that starts with it is ours.
        var n = 0
        var prefix = "yamlalias0x"
        while text.contains(prefix) {
            n += 1
            prefix = "yamlalias\(n)x"
        }
        let bytes = Array(text.utf8)
        var copy: [UInt8] = []
        copy.reserveCapacity(bytes.count + aliases.count * (prefix.utf8.count + 8))
        var names: [String] = []
        var at = 0
        for (index, range) in aliases.enumerated() {
            copy.append(contentsOf: bytes[at..<range.lowerBound])
            // The space ends the placeholder where the alias ended (`[*a,*b]`, `*a #`).
            copy.append(contentsOf: Array("\(prefix)\(index) ".utf8))
            names.append(String(decoding: bytes[(range.lowerBound + 1)..<range.upperBound], as: UTF8.self))
            at = range.upperBound
            // An alias may be followed by `:` and a value at once in a flow mapping
            // (`{*a:1}`), where a plain scalar would run on (`x :1` is one scalar): give the
            // colon a space after it, so it is a value indicator for the placeholder too.
            // (Inside a string or a comment this changes only text.)
            if at + 1 < bytes.count, bytes[at] == UInt8(ascii: ":"), ![0x20, 0x09, 0x0A, 0x0D].contains(bytes[at + 1]) {
                copy.append(contentsOf: Array(": ".utf8))
                at += 1
            }
        }
        copy.append(contentsOf: bytes[at...])
        let placeholders = Placeholders(prefix: prefix, names: names)
        let parser: Parser
        let root: Node?
        do {
            parser = try Parser(yaml: String(decoding: copy, as: UTF8.self))
            root = try parser.singleRoot()
        } catch {
            throw .syntax(describe(error))
        }
        // The parser keeps the anchors alive (nodes hold them weakly) while they are read.
        try withExtendedLifetime(parser) { () throws(Failure) in
            if let root { _ = try count(root, placeholders: placeholders, limit: limit) }
        }
    }

    private final class Placeholders {
        let prefix: String
        let names: [String]
        /// Expanded size of each anchor defined so far (a later anchor of the same name
        /// replaces an earlier one, as in YAML).
        var sizes: [String: Int] = [:]

        init(prefix: String, names: [String]) {
            self.prefix = prefix
            self.names = names
        }

        /// The alias a scalar stands for, if it is a placeholder.
        func alias(_ scalar: Node.Scalar) -> String? {
            guard scalar.style == .plain, scalar.string.hasPrefix(prefix),
                  let index = Int(scalar.string.dropFirst(prefix.count)), names.indices.contains(index) else { return nil }
            return names[index]
        }
    }

    /// The expanded size of `node`, in document order; throws once `limit` is passed.
    private static func count(_ node: Node, placeholders: Placeholders?, limit: Int) throws(Failure) -> Int {
        let holder = placeholders ?? Placeholders(prefix: "", names: [])
        return try count(node, holder, usePlaceholders: placeholders != nil, limit: limit)
    }

    private static func count(_ node: Node, _ p: Placeholders, usePlaceholders: Bool, limit: Int) throws(Failure) -> Int {
        var size: Int
        switch node {
        case .scalar(let scalar):
            if usePlaceholders, let name = p.alias(scalar) {
                // An undefined alias is Yams' error to report when the real text is composed.
                size = p.sizes[name] ?? 1
            } else {
                size = 1
            }
        case .sequence(let sequence):
            size = 1
            for child in sequence {
                size += try count(child, p, usePlaceholders: usePlaceholders, limit: limit)
                if size > limit { throw .tooManyNodes(limit: limit) }
            }
        case .mapping(let mapping):
            size = 1
            for (key, value) in mapping {
                size += try count(key, p, usePlaceholders: usePlaceholders, limit: limit)
                size += try count(value, p, usePlaceholders: usePlaceholders, limit: limit)
                if size > limit { throw .tooManyNodes(limit: limit) }
            }
        case .alias:
            size = 1
        }
        if size > limit { throw .tooManyNodes(limit: limit) }
        if usePlaceholders, let anchor = node.anchor { p.sizes[anchor.rawValue] = size }
        return size
    }
}
