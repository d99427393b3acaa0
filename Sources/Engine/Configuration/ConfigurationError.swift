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

    public var description: String {
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
        let problem = "\"\(name)\" is not a valid provisioner name (a qualified name like example.com/nfs: optional DNS-subdomain prefix, '/', then up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)"
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

    /// The Lease name for this provisioner: `/` replaced by `-` (as the original's library
    /// did), anything else outside `[a-z0-9.-]` replaced by `-`, lower-cased.
    public static func leaseName(for name: String) -> String {
        var out = String(name.lowercased().map { c -> Character in
            (c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == ".")) ? c : "-"
        })
        while out.hasSuffix("-") || out.hasSuffix(".") { out.removeLast() }
        while out.hasPrefix("-") || out.hasPrefix(".") { out.removeFirst() }
        return out.isEmpty ? "nfs-cluster-provisioner" : String(out.prefix(253))
    }
}
