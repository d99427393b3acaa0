// Rendering a PathPattern for one claim, and the collision-free alternative name.
import KubeRuntime
package import VolumeStorage

extension PathPattern {
    /// The claim fields a pattern may use.
    package struct Values: Sendable, Hashable {
        package var namespace: String
        package var name: String
        package var uid: String
        package var volumeName: String
        package var labels: [String: String]
        package var annotations: [String: String]

        package init(
            namespace: String, name: String, uid: String, volumeName: String,
            labels: [String: String] = [:], annotations: [String: String] = [:]
        ) {
            self.namespace = namespace
            self.name = name
            self.uid = uid
            self.volumeName = volumeName
            self.labels = labels
            self.annotations = annotations
        }
    }

    /// Renders the pattern into a safe relative path (see the type's documentation for
    /// every check). A label or annotation that is absent is an error naming it, not an
    /// empty string: a directory layout must not silently change shape.
    ///
    /// The default pattern never fails for length: a namespace (up to 63 characters) and a
    /// claim name (up to 253) can make more than 255 bytes, and such a name is shortened
    /// deterministically by ``shortened(_:)``. Any other pattern says which segment is too
    /// long: its author chose the layout.
    package func render(_ values: Values) throws(PathPatternError) -> RelativePath {
        let shortensLongNames = self == .default
        var components: [String] = []
        for (index, segment) in segments.enumerated() {
            var rendered = ""
            for piece in segment {
                switch piece {
                case .literal(let text):
                    rendered += text
                case .variable(let variable):
                    let value = try Self.value(of: variable, in: values)
                    if value.utf8.contains(UInt8(ascii: "/")) {
                        throw .valueContainsSlash(variable: variable.description, value: value)
                    }
                    rendered += value
                }
            }
            if shortensLongNames && rendered.utf8.count > RelativePath.maxComponentBytes {
                rendered = Self.shortened(rendered)
            }
            try Self.validateRendered(rendered, segment: index + 1, pattern: segment)
            components.append(rendered)
        }
        let bytes = components.reduce(components.count - 1) { $0 + $1.utf8.count }
        if bytes > RelativePath.maxPathBytes {
            throw .renderedPathTooLong(bytes: bytes)
        }
        do {
            return try RelativePath(components: components)
        } catch {
            // Unreachable after the checks above; keep the reason if it ever happens.
            throw .renderedInvalid(String(describing: error))
        }
    }

    /// A deterministic alternative to `path` for a claim whose rendered directory belongs to
    /// another claim name (`team-a`/`db` and `team`/`a-db` both render `team-a-db`): the
    /// last segment gets `-` and 8 hex digits of FNV-1a 32 of `"<namespace>/<name>"` (a `/`
    /// cannot occur in either, so the input is unambiguous). Example: `team-a-db` for
    /// `team`/`a-db` becomes `team-a-db-1c3f0b52`. The segment is shortened first if needed
    /// to stay within 255 bytes.
    package static func disambiguated(_ path: RelativePath, namespace: String, name: String) -> RelativePath {
        let suffix = "-" + hash8(namespace + "/" + name)
        guard var last = path.lastComponent else {
            return RelativePath(unchecked: [String(suffix.dropFirst())])
        }
        while last.utf8.count + suffix.utf8.count > RelativePath.maxComponentBytes {
            last.removeLast()
        }
        return RelativePath(unchecked: Array(path.components.dropLast()) + [last + suffix])
    }

    /// A name over 255 bytes cut to 246 bytes (on a character boundary) followed by `-` and
    /// 8 hex digits of FNV-1a 32 of the whole name: 255 bytes at most, the same for the same
    /// name every time (a re-created claim finds its directory), and two long names that
    /// share their first 246 bytes still differ. The hash is of the whole name, not of
    /// `"<namespace>/<name>"` as in ``disambiguated(_:namespace:name:)``, so the
    /// disambiguated alternative of a shortened name is a different name.
    package static func shortened(_ name: String) -> String {
        let suffix = "-" + hash8(name)
        let room = RelativePath.maxComponentBytes - suffix.utf8.count
        var kept = String.UnicodeScalarView()
        var bytes = 0
        for scalar in name.unicodeScalars {
            let width = String(scalar).utf8.count
            if bytes + width > room { break }
            kept.append(scalar)
            bytes += width
        }
        return String(kept) + suffix
    }

    /// FNV-1a 32-bit of the UTF-8 bytes, as 8 lowercase hex digits. Stable across
    /// platforms and versions: it names directories on disk.
    static func hash8(_ text: String) -> String {
        var hash: UInt32 = 0x811C_9DC5
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    private static func value(of variable: Variable, in values: Values) throws(PathPatternError) -> String {
        switch variable {
        case .namespace: return values.namespace
        case .name: return values.name
        case .uid: return values.uid
        case .volumeName: return values.volumeName
        case .label(let key):
            guard let value = values.labels[key] else { throw .missingValue(variable: variable.description) }
            return value
        case .annotation(let key):
            guard let value = values.annotations[key] else { throw .missingValue(variable: variable.description) }
            return value
        }
    }

    private static func validateRendered(_ text: String, segment: Int, pattern: [Piece]) throws(PathPatternError) {
        let shown = pattern.map { piece in
            switch piece {
            case .literal(let text): text
            case .variable(let variable): variable.description
            }
        }.joined()
        // Bytes, not Characters: the file system compares bytes (".\u{301}x" is hidden).
        let bytes = Array(text.utf8)
        if bytes.isEmpty { throw .renderedEmptySegment(segment: segment, pattern: shown) }
        if bytes == [0x2E] || bytes == [0x2E, 0x2E] { throw .renderedDotSegment(segment: segment, value: text) }
        if bytes[0] == UInt8(ascii: ".") { throw .renderedStartsWithDot(segment: segment, value: text) }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw .renderedControlCharacter(segment: segment, pattern: shown)
        }
        if text.utf8.count > RelativePath.maxComponentBytes {
            throw .renderedSegmentTooLong(segment: segment, bytes: text.utf8.count)
        }
    }
}

/// Why a `pathPattern` cannot be parsed, or cannot be rendered for a claim. Positions are
/// offsets in Unicode scalars from 0; segments are numbered from 1.
package enum PathPatternError: Error, Sendable, Hashable, CustomStringConvertible {
    case emptyPattern
    case absolutePattern
    case unclosedVariable(position: Int)
    case unknownVariable(String, position: Int)
    case emptyKey(variable: String, position: Int)
    case emptySegment(position: Int)
    case dotSegment(String, position: Int)
    case segmentStartsWithDot(position: Int)
    case nulByte(position: Int)
    case missingValue(variable: String)
    case valueContainsSlash(variable: String, value: String)
    case renderedEmptySegment(segment: Int, pattern: String)
    case renderedDotSegment(segment: Int, value: String)
    case renderedStartsWithDot(segment: Int, value: String)
    case renderedControlCharacter(segment: Int, pattern: String)
    case renderedSegmentTooLong(segment: Int, bytes: Int)
    case renderedPathTooLong(bytes: Int)
    case renderedInvalid(String)

    package var description: String {
        switch self {
        case .emptyPattern: "the pattern is empty"
        case .absolutePattern: "the pattern is absolute (starts with '/'); it must be relative to the export"
        case .unclosedVariable(let p): "'${' at offset \(p) is not closed by '}'"
        case .unknownVariable(let v, let p):
            "unknown variable \(v) at offset \(p) (known: ${.PVC.namespace}, ${.PVC.name}, ${.PVC.uid}, "
                + "${.PV.name}, ${.PVC.labels.<key>}, ${.PVC.annotations.<key>})"
        case .emptyKey(let v, let p): "\(v) at offset \(p) has no key"
        case .emptySegment(let p): "empty path segment at offset \(p) ('//' or a trailing '/')"
        case .dotSegment(let s, let p): "segment '\(s)' at offset \(p) is not allowed"
        case .segmentStartsWithDot(let p):
            "segment at offset \(p) starts with '.', which is reserved for the provisioner's own files"
        case .nulByte(let p): "NUL character at offset \(p)"
        case .missingValue(let v): "\(v) has no value on this claim"
        case .valueContainsSlash(let v, let value): "\(v) is '\(Echo.value(value, limit: 80))', which contains '/'"
        case .renderedEmptySegment(let s, let pattern): "segment \(s) ('\(pattern)') renders empty"
        case .renderedDotSegment(let s, let value): "segment \(s) renders '\(Echo.value(value, limit: 80))'"
        case .renderedStartsWithDot(let s, let value):
            "segment \(s) renders '\(Echo.value(value, limit: 80))', which starts with '.' (reserved for the provisioner's own files)"
        case .renderedControlCharacter(let s, let pattern): "segment \(s) ('\(pattern)') renders a control character"
        case .renderedSegmentTooLong(let s, let bytes):
            "segment \(s) renders \(bytes) bytes (limit \(RelativePath.maxComponentBytes))"
        case .renderedPathTooLong(let bytes): "the path renders \(bytes) bytes (limit \(RelativePath.maxPathBytes))"
        case .renderedInvalid(let detail): "the rendered path is invalid: \(detail)"
        }
    }
}
