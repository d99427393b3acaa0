// A path below an export root, validated once so that no store has to re-check strings.

/// A path relative to an export root, made only of safe components.
///
/// Every `VolumeStore` takes paths of this type, never strings, so path safety holds by
/// construction: a `RelativePath` has no empty, `.` or `..` component, no `/` or NUL
/// inside a component, no component over ``maxComponentBytes`` and no rendering over
/// ``maxPathBytes``. Whether a component is a symbolic link is the store's business: the
/// stores never follow one (see ``VolumeStore``).
///
/// The export root itself is ``root`` (no components). It is only constructible on purpose:
/// parsing `""` is an error, and destructive operations refuse the root.
///
/// ```swift
/// let path = try RelativePath("team-a/db")      // components ["team-a", "db"]
/// try RelativePath("../etc")                      // throws .invalidPath(..., .dotComponent)
/// ```
public struct RelativePath: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The longest component in bytes (NAME_MAX on Linux and in NFSv3).
    package static let maxComponentBytes = 255
    /// The longest path in bytes, components joined by `/` (PATH_MAX on Linux).
    package static let maxPathBytes = 4096

    /// The components, outermost first. Empty for ``root``.
    package let components: [String]

    /// The export root.
    package static let root = RelativePath(unchecked: [])

    /// For constants known to be valid (``ReservedNames``); never for outside input.
    package init(unchecked components: [String]) {
        self.components = components
    }

    /// Parses `a/b/c`. A leading `/`, a trailing `/`, `//`, `.` and `..` are all refused:
    /// a path is never normalised, because a path that needs normalising did not come
    /// from our own code.
    package init(_ string: String) throws(StorageError) {
        if string.isEmpty {
            throw .invalidPath(path: string, problem: .empty)
        }
        if string.utf8.first == UInt8(ascii: "/") {
            throw .invalidPath(path: string, problem: .absolute)
        }
        let parts = string.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        try self.init(components: parts)
    }

    /// Builds a path from components, each validated with ``validate(component:)``.
    package init(components: [String]) throws(StorageError) {
        if components.isEmpty {
            throw .invalidPath(path: "", problem: .empty)
        }
        for component in components {
            try Self.validate(component: component, in: components.joined(separator: "/"))
        }
        let joined = components.joined(separator: "/")
        if joined.utf8.count > Self.maxPathBytes {
            throw .invalidPath(path: joined, problem: .pathTooLong(bytes: joined.utf8.count))
        }
        self.init(unchecked: components)
    }

    /// Checks one component; `path` is only used to name the whole path in the error.
    public static func validate(component: String, in path: String? = nil) throws(StorageError) {
        let whole = path ?? component
        if component.isEmpty {
            throw .invalidPath(path: whole, problem: .emptyComponent)
        }
        if component == "." || component == ".." {
            throw .invalidPath(path: whole, problem: .dotComponent(component))
        }
        if component.utf8.contains(UInt8(ascii: "/")) {
            throw .invalidPath(path: whole, problem: .slashInComponent(component))
        }
        if component.utf8.contains(0) {
            throw .invalidPath(path: whole, problem: .nulByte)
        }
        if component.utf8.count > maxComponentBytes {
            throw .invalidPath(path: whole, problem: .componentTooLong(component, bytes: component.utf8.count))
        }
    }

    /// True for the export root.
    package var isRoot: Bool { components.isEmpty }

    /// The last component, `nil` for the root.
    package var lastComponent: String? { components.last }

    /// The containing directory; the root's parent is `nil`.
    package var parent: RelativePath? {
        isRoot ? nil : RelativePath(unchecked: Array(components.dropLast()))
    }

    /// This path with one more component (validated).
    package func appending(_ component: String) throws(StorageError) -> RelativePath {
        try RelativePath(components: components + [component])
    }

    /// This path followed by `other`'s components.
    package func appending(_ other: RelativePath) throws(StorageError) -> RelativePath {
        if other.isRoot { return self }
        if isRoot { return other }
        return try RelativePath(components: components + other.components)
    }

    /// True when `self` is `other` or lies below it.
    package func isWithin(_ other: RelativePath) -> Bool {
        components.count >= other.components.count
            && Array(components.prefix(other.components.count)) == other.components
    }

    /// `a/b/c`; the root renders as `.` so that messages never show an empty path.
    public var description: String {
        isRoot ? "." : components.joined(separator: "/")
    }

    public static func < (lhs: RelativePath, rhs: RelativePath) -> Bool {
        lhs.components.lexicographicallyPrecedes(rhs.components)
    }
}

/// Why a string is not a safe ``RelativePath``.
public enum PathProblem: Sendable, Hashable, CustomStringConvertible {
    case empty
    case absolute
    case emptyComponent
    case dotComponent(String)
    case slashInComponent(String)
    case nulByte
    case componentTooLong(String, bytes: Int)
    case pathTooLong(bytes: Int)
    /// A rename whose destination lies inside its source.
    case insideItself(source: String)

    public var description: String {
        switch self {
        case .empty: "the path is empty"
        case .absolute: "the path is absolute (starts with '/')"
        case .emptyComponent: "the path has an empty component ('//', or a leading or trailing '/')"
        case .dotComponent(let c): "the path has a '\(c)' component"
        case .slashInComponent(let c): "the component '\(c)' contains '/'"
        case .nulByte: "the path contains a NUL byte"
        case .componentTooLong(let c, let bytes):
            "the component '\(c.prefix(40))…' is \(bytes) bytes long (limit \(RelativePath.maxComponentBytes))"
        case .pathTooLong(let bytes):
            "the path is \(bytes) bytes long (limit \(RelativePath.maxPathBytes))"
        case .insideItself(let source): "the path lies inside '\(source)', which is being renamed"
        }
    }
}
