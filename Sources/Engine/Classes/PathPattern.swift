// The StorageClass parameter `pathPattern`: parsing and validation of the template.
import KubeRuntime
import VolumeStorage

/// A directory layout template, the StorageClass parameter `pathPattern`.
///
/// Syntax of nfs-subdir-external-provisioner (provisioner.go, `pathPattern` and its regex
/// `\${\.PVC\.((labels|annotations)\.(.*?)|.*?)}`), plus two variables of our own:
///
/// | variable | value |
/// |---|---|
/// | `${.PVC.namespace}` | the claim's namespace |
/// | `${.PVC.name}` | the claim's name |
/// | `${.PVC.uid}` | the claim's uid (ours) |
/// | `${.PV.name}` | the volume's name, `pvc-<claim uid>` (ours) |
/// | `${.PVC.labels.<key>}` | a label of the claim; the key ends at the first `}` |
/// | `${.PVC.annotations.<key>}` | an annotation of the claim |
///
/// Anything else is literal text; `/` separates nested directories; a `$` not followed by
/// `{` is literal.
///
/// Parsing refuses (naming the problem and the offset, in Unicode scalars): an empty or absolute
/// pattern, an unclosed `${`, an unknown variable, an empty key, empty segments (`a//b`,
/// trailing `/`), `.`/`..` segments, a segment whose literal text starts with `.`, and
/// NUL. Rendering refuses (naming the segment and the variable): missing labels and
/// annotations, values containing `/`, NUL or control characters, and rendered segments
/// that are empty, `.`, `..`, start with `.` (reserved for the provisioner's own names,
/// ``ReservedNames``), are over 255 bytes, or a path over 4096 bytes. nfs-subdir renders
/// these unchecked: an annotation `.` renders the export root, and with `onDelete: delete`
/// deleting that claim removes the whole share (docs/original-provisioner.md, "Lessons
/// from the other NFS provisioners").
///
/// ```swift
/// let pattern = try PathPattern("${.PVC.namespace}/${.PVC.labels.app}-${.PVC.name}")
/// let path = try pattern.render(.init(namespace: "team-a", name: "db", uid: "6f1c", volumeName: "pvc-6f1c",
///                                     labels: ["app": "shop"]))       // team-a/shop-db
/// ```
package struct PathPattern: Sendable, Hashable, CustomStringConvertible {
    /// The Go original's directory name, `<namespace>-<pvcName>` (nfs-cluster-provisioner.go,
    /// `Provision`), so that data it created is found again and a re-created StatefulSet
    /// claim reuses its directory. Two claims rendering the same name (`team-a`/`db` and
    /// `team`/`a-db`) are told apart by the ownership marker; the second one gets
    /// ``disambiguated(_:namespace:name:)``.
    package static let defaultSource = "${.PVC.namespace}-${.PVC.name}"
    package static let `default` = PathPattern(
        unchecked: defaultSource,
        segments: [[.variable(.namespace), .literal("-"), .variable(.name)]])

    /// A template variable.
    package enum Variable: Sendable, Hashable, CustomStringConvertible {
        case namespace
        case name
        case uid
        case volumeName
        case label(String)
        case annotation(String)

        /// As written in a pattern: `${.PVC.labels.app}`.
        package var description: String {
            switch self {
            case .namespace: "${.PVC.namespace}"
            case .name: "${.PVC.name}"
            case .uid: "${.PVC.uid}"
            case .volumeName: "${.PV.name}"
            case .label(let key): "${.PVC.labels.\(key)}"
            case .annotation(let key): "${.PVC.annotations.\(key)}"
            }
        }
    }

    /// Part of a segment.
    package enum Piece: Sendable, Hashable {
        case literal(String)
        case variable(Variable)
    }

    /// The pattern as given.
    package let source: String
    /// One entry per directory level, each a sequence of pieces.
    package let segments: [[Piece]]

    private init(unchecked source: String, segments: [[Piece]]) {
        self.source = source
        self.segments = segments
    }

    /// Parses and validates a pattern.
    ///
    /// The pattern is read as Unicode scalars, not Characters: a `/`, `$`, `{`, `}` or NUL
    /// followed by a combining mark is one Character but still that byte on disk.
    package init(_ source: String) throws(PathPatternError) {
        let scalars = Array(source.unicodeScalars)
        if scalars.isEmpty { throw .emptyPattern }
        if scalars[0] == "/" { throw .absolutePattern }
        var segments: [[Piece]] = []
        var pieces: [Piece] = []
        var literal = String.UnicodeScalarView()
        var segmentStart = 0
        var index = 0

        func flushLiteral() {
            if !literal.isEmpty { pieces.append(.literal(String(literal))) }
            literal = String.UnicodeScalarView()
        }
        func closeSegment(at position: Int) throws(PathPatternError) {
            flushLiteral()
            try Self.validateSegment(pieces, position: segmentStart)
            segments.append(pieces)
            pieces = []
            segmentStart = position + 1
        }

        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\0" { throw .nulByte(position: index) }
            if scalar == "/" {
                try closeSegment(at: index)
                index += 1
                continue
            }
            if scalar == "$", index + 1 < scalars.count, scalars[index + 1] == "{" {
                guard let close = scalars[(index + 2)...].firstIndex(of: "}") else {
                    throw .unclosedVariable(position: index)
                }
                var text = String.UnicodeScalarView()
                text.append(contentsOf: scalars[(index + 2)..<close])
                flushLiteral()
                pieces.append(.variable(try Self.variable(String(text), position: index)))
                index = close + 1
                continue
            }
            literal.append(scalar)
            index += 1
        }
        try closeSegment(at: index)
        self.init(unchecked: source, segments: segments)
    }

    package var description: String { source }

    /// All variables used, in order of appearance.
    package var variables: [Variable] {
        segments.flatMap { $0 }.compactMap { if case .variable(let v) = $0 { v } else { nil } }
    }

    // MARK: - Parsing helpers

    private static func variable(_ text: String, position: Int) throws(PathPatternError) -> Variable {
        switch text {
        case ".PVC.namespace": return .namespace
        case ".PVC.name": return .name
        case ".PVC.uid": return .uid
        case ".PV.name": return .volumeName
        default: break
        }
        for (prefix, make) in [(".PVC.labels.", Variable.label), (".PVC.annotations.", Variable.annotation)]
        where text.hasPrefix(prefix) {
            let key = String(text.dropFirst(prefix.count))
            if key.isEmpty { throw .emptyKey(variable: "${\(text)}", position: position) }
            return make(key)
        }
        if text == ".PVC.labels" || text == ".PVC.annotations" {
            throw .emptyKey(variable: "${\(text)}", position: position)
        }
        throw .unknownVariable("${\(text)}", position: position)
    }

    /// Literal-only checks that need no values: emptiness, dot segments, leading dot.
    private static func validateSegment(_ pieces: [Piece], position: Int) throws(PathPatternError) {
        guard let first = pieces.first else { throw .emptySegment(position: position) }
        // On bytes: ".\u{301}x" does not start with the Character "." but its first byte is
        // a dot, and the file system sees a hidden name.
        if pieces.count == 1, case .literal(let text) = first, Array(text.utf8) == [0x2E] || Array(text.utf8) == [0x2E, 0x2E] {
            throw .dotSegment(text, position: position)
        }
        if case .literal(let text) = first, text.utf8.first == UInt8(ascii: ".") {
            throw .segmentStartsWithDot(position: position)
        }
    }
}
