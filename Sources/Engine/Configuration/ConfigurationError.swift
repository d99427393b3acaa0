/// A configuration that cannot be used. Each message names the source, the field and the
/// fix, on one line, so the daemon can print it and exit 2 before touching anything.
import KubeRuntime
import VolumeStorage
public enum ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A value is wrong.
    case invalid(source: String, field: String, problem: String)
    /// A required setting is absent.
    case missing(source: String, field: String, hint: String)
    /// The file cannot be read.
    case unreadable(path: String, reason: String)
    /// The file is not YAML, or not the expected shape.
    case malformed(path: String, reason: String)

    /// One line: control characters in echoed values are escaped and the whole is capped
    /// (``Echo``).
    public var description: String { Echo.line(text) }

    private var text: String {
        switch self {
        case .invalid(let source, let field, let problem):
            return "\(source): \(field) \(problem)"
        case .missing(let source, let field, let hint):
            return "\(source): \(field) is not set; \(hint)"
        case .unreadable(let path, let reason):
            return "cannot read configuration file \(path): \(reason)"
        case .malformed(let path, let reason):
            return "configuration file \(path) is not valid: \(reason)"
        }
    }
}

/// Provisioner names as Kubernetes validates a StorageClass's `provisioner`: a qualified
/// name, an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters of
/// alphanumerics, `-`, `_` and `.` that starts and ends alphanumeric (kubernetes
/// pkg/apis/storage/validation `validateProvisioner` → apimachinery `IsQualifiedName`).
public enum ProvisionerName {
    public static func validate(_ name: String, source: String) throws(ConfigurationError) {
        let field = source == "environment" ? "PROVISIONER_NAME" : "provisionerName"
        if name.isEmpty {
            throw .missing(source: source, field: field, hint: "set it to the `provisioner` of your StorageClass, e.g. example.com/nfs")
        }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        let problem = "\(Echo.quoted(name)) is not a valid provisioner name (a qualified name like example.com/nfs: optional DNS-subdomain prefix, '/', then up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)"
        guard parts.count <= 2 else { throw .invalid(source: source, field: field, problem: problem) }
        let local = String(parts.last!)
        if parts.count == 2 {
            let prefix = String(parts[0])
            guard !prefix.isEmpty, prefix.utf8.count <= 253, isDNSSubdomain(prefix.lowercased()) else {
                throw .invalid(source: source, field: field, problem: problem)
            }
        }
        guard !local.isEmpty, local.utf8.count <= 63, isQualifiedLocal(local) else {
            throw .invalid(source: source, field: field, problem: problem)
        }
    }

    static func isQualifiedLocal(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        func alnum(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) }
        guard let first = bytes.first, let last = bytes.last, alnum(first), alnum(last) else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// DNS-1123 subdomain: labels of `[a-z0-9]([-a-z0-9]*[a-z0-9])?` joined by dots.
    static func isDNSSubdomain(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 253 else { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            let b = Array(label.utf8)
            func lowerAlnum(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 122) }
            guard let f = b.first, let l = b.last, b.count <= 63, lowerAlnum(f), lowerAlnum(l) else { return false }
            return b.allSatisfy { lowerAlnum($0) || $0 == UInt8(ascii: "-") }
        }
    }

    /// The Lease name for this provisioner: a DNS subdomain (what a Lease's name must be)
    /// that no other provisioner name gives, so two provisioners in one namespace never
    /// share a lock.
    ///
    /// - The common case keeps the original's name, `/` replaced by `-`
    ///   (`example.com/nfs` → `example.com-nfs`, as sig-storage-lib-external-provisioner
    ///   names its lock): a lowercase name without `_` whose prefix has no `-` (or, without
    ///   a prefix, that has no `-` at all). Such a name is read back by splitting at the
    ///   first `-`, so no two of them share a Lease. It must also give a valid DNS
    ///   subdomain that does not end like the next case.
    /// - Any other name (`x.io/a_b`, `x.io-a/b`, `Example.com/nfs`, a 300-character name) is
    ///   lower-cased, every character outside `[a-z0-9.-]` becomes `-`, the labels are
    ///   trimmed to valid DNS labels, the whole is cut to 244 characters, and `-` and 8 hex
    ///   digits of FNV-1a 32 of the exact name are appended: `x.io/a_b` and `x.io/a-b` get
    ///   different Leases. Two such names share a Lease only if their hashes collide too.
    public static func leaseName(for name: String) -> String {
        let bytes = Array(name.utf8)
        let slash = UInt8(ascii: "/"), dash = UInt8(ascii: "-")
        let head = bytes.split(separator: slash, maxSplits: 1, omittingEmptySubsequences: false).first.map(Array.init) ?? []
        let plain = String(decoding: bytes.map { $0 == slash ? dash : $0 }, as: UTF8.self)
        let lowercaseOnly = bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == dash || $0 == 0x2E || $0 == slash }
        if lowercaseOnly, bytes.filter({ $0 == slash }).count <= 1, !head.contains(dash),
           isObjectName(plain), !endsWithHashSuffix(plain) {
            return plain
        }
        let mapped = String(decoding: name.lowercased().utf8.map { b -> UInt8 in
            (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2E ? b : dash
        }, as: UTF8.self)
        let labels = mapped.split(separator: ".").map { part -> Substring in
            var label = part
            while label.first == "-" { label.removeFirst() }
            while label.last == "-" { label.removeLast() }
            return label
        }.filter { !$0.isEmpty }
        var base = String(labels.joined(separator: ".").prefix(244))
        while let last = base.last, last == "-" || last == "." { base.removeLast() }
        return (base.isEmpty ? "provisioner" : base) + "-" + PathPattern.hash8(name)
    }

    /// An object name as Kubernetes checks a Lease's (apimachinery `IsDNS1123Subdomain`): at
    /// most 253 characters, dot-separated labels of `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
    static func isObjectName(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 253 else { return false }
        return s.utf8.split(separator: 0x2E, omittingEmptySubsequences: false).allSatisfy { label in
            func lowerAlnum(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 122) }
            guard let f = label.first, let l = label.last, lowerAlnum(f), lowerAlnum(l) else { return false }
            return label.allSatisfy { lowerAlnum($0) || $0 == UInt8(ascii: "-") }
        }
    }

    /// `-` and 8 lowercase hex digits at the end: the mark of a hashed Lease name.
    static func endsWithHashSuffix(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count >= 9, b[b.count - 9] == UInt8(ascii: "-") else { return false }
        return b.suffix(8).allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
