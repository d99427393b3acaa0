// Name rules: DNS-1123 labels and subdomains, qualified names, label values.
//
// AM util/validation/validation.go (IsDNS1123Label, IsDNS1123Subdomain, IsQualifiedName,
// IsValidLabelValue). Each function returns the list of messages Kubernetes would give.

enum NameValidation {
    static let dns1123LabelMaxLength = 63
    static let dns1123SubdomainMaxLength = 253

    static let labelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let subdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let qualifiedNamePartMessage = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let labelValueMessage = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    static func isLowerAlnum(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }

    static func isAlnum(_ b: UInt8) -> Bool {
        isLowerAlnum(b) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
    }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
    static func matchesLabel<C: BidirectionalCollection<UInt8>>(_ bytes: C) -> Bool {
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else {
            return false
        }
        return bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    static func dns1123Label(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > dns1123LabelMaxLength { errors.append("must be no more than \(dns1123LabelMaxLength) characters") }
        if !matchesLabel(Array(value.utf8)) { errors.append(labelMessage) }
        return errors
    }

    static func dns1123Subdomain(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > dns1123SubdomainMaxLength {
            errors.append("must be no more than \(dns1123SubdomainMaxLength) characters")
        }
        let parts = Array(value.utf8).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if value.isEmpty || !parts.allSatisfy({ matchesLabel($0) }) { errors.append(subdomainMessage) }
        return errors
    }

    /// A `generateName` prefix is validated with a trailing `-` masked (AM api/validation/generic.go maskTrailingDash).
    static func maskTrailingDash(_ name: String) -> String {
        if name.utf8.count > 1, name.hasSuffix("-") { return String(name.dropLast()) + "a" }
        return name
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 characters, optional DNS-subdomain prefix.
    static func qualifiedName(_ value: String) -> [String] {
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        var errors: [String] = []
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = String(parts[0])
            name = parts[1]
            if prefix.isEmpty {
                errors.append("prefix part must be non-empty")
            } else {
                errors.append(contentsOf: dns1123Subdomain(prefix).map { "prefix part " + $0 })
            }
        default:
            return ["a qualified name " + qualifiedNamePartMessage.dropFirst("name part ".count) + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty {
            errors.append("name part must be non-empty")
        } else if name.utf8.count > 63 {
            errors.append("name part must be no more than 63 characters")
        }
        if !name.isEmpty && !matchesQualifiedPart(Array(name.utf8)) { errors.append(qualifiedNamePartMessage) }
        return errors
    }

    static func matchesQualifiedPart(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
        return bytes.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    static func labelValue(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 63 { errors.append("must be no more than 63 characters") }
        if !value.isEmpty && !matchesQualifiedPart(Array(value.utf8)) { errors.append(labelValueMessage) }
        return errors
    }
}
