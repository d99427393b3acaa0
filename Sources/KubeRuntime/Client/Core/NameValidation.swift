// DNS-1123 name rules (docs/kubernetes-api-behaviour.md, "Names"; apimachinery
// util/validation/validation.go:155-205). The client checks every name and namespace it
// puts into a path or sends on create, so a bad generated name fails here with a clear
// message instead of as a 422 (or, with a `/` in it, as a request to the wrong URL).

/// Validation of Kubernetes object names.
package enum NameValidation {
    /// Longest DNS-1123 label (namespaces).
    package static let maxLabelLength = 63
    /// Longest DNS-1123 subdomain (PV, PVC, StorageClass, Lease, Event names).
    package static let maxSubdomainLength = 253

    /// `nil` if `name` is a DNS-1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63
    /// characters), else the reason it is not.
    package static func labelProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > maxLabelLength { return "must be no more than \(maxLabelLength) characters" }
        for byte in bytes where !(isLowerAlphanumeric(byte) || byte == UInt8(ascii: "-")) {
            return "must consist of lower case alphanumeric characters or '-' (found \"\(Character(Unicode.Scalar(byte)))\")"
        }
        if let first = bytes.first, let last = bytes.last, !isLowerAlphanumeric(first) || !isLowerAlphanumeric(last) {
            return "must start and end with an alphanumeric character"
        }
        return nil
    }

    /// `nil` if `name` is a DNS-1123 subdomain (labels joined by `.`, at most 253
    /// characters), else the reason it is not.
    package static func subdomainProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > maxSubdomainLength { return "must be no more than \(maxSubdomainLength) characters" }
        for byte in bytes where !(isLowerAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")) {
            return "must consist of lower case alphanumeric characters, '-' or '.' (found \"\(Character(Unicode.Scalar(byte)))\")"
        }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard let first = label.utf8.first, let last = label.utf8.last,
                  isLowerAlphanumeric(first), isLowerAlphanumeric(last)
            else { return "must start and end with an alphanumeric character, also around each '.'" }
        }
        return nil
    }

    /// True for a valid DNS-1123 label.
    package static func isDNS1123Label(_ name: String) -> Bool { labelProblem(name) == nil }

    /// True for a valid DNS-1123 subdomain.
    package static func isDNS1123Subdomain(_ name: String) -> Bool { subdomainProblem(name) == nil }

    /// A `generateName` prefix: a subdomain once the server appends 5 characters, so a
    /// trailing `-` is allowed (apimachinery api/validation/generic.go:43-57).
    package static func generateNameProblem(_ prefix: String) -> String? {
        subdomainProblem(prefix.hasSuffix("-") ? String(prefix.dropLast()) + "a" : prefix)
    }

    /// Throws `KubeError.invalidRequest` unless `name` is a valid object name of `resource`.
    static func checkName(_ name: String, of resource: ResourceDescriptor) throws(KubeError) {
        if let problem = subdomainProblem(name) {
            throw .invalidRequest("\(resource.kind) name \"\(name)\" \(problem)")
        }
    }

    /// Throws `KubeError.invalidRequest` unless `namespace` is a valid namespace name.
    static func checkNamespace(_ namespace: String) throws(KubeError) {
        if let problem = labelProblem(namespace) {
            throw .invalidRequest("namespace \"\(namespace)\" \(problem)")
        }
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
