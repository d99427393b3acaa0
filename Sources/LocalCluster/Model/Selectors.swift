// Label and field selectors of list/watch requests.
//
// Label selector syntax: AM pkg/labels/selector.go (Parse): `k`, `!k`, `k=v`, `k==v`, `k!=v`,
// `k in (a,b)`, `k notin (a,b)`, `k>1`, `k<1`, comma-separated. Field selectors: AM
// pkg/fields/selector.go, `k=v`, `k==v`, `k!=v`.

struct LabelSelector: Sendable, Equatable {
    enum Operator: Sendable, Equatable {
        case exists, doesNotExist, equals, notEquals, isIn, notIn, greaterThan, lessThan
    }

    struct Requirement: Sendable, Equatable {
        var key: String
        var op: Operator
        var values: [String]

        func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch op {
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .equals, .isIn: return value.map { values.contains($0) } ?? false
            case .notEquals, .notIn: return value.map { !values.contains($0) } ?? true
            case .greaterThan, .lessThan:
                guard let value, let have = Int64(value), let want = values.first.flatMap({ Int64($0) }) else { return false }
                return op == .greaterThan ? have > want : have < want
            }
        }
    }

    var requirements: [Requirement] = []

    static let everything = LabelSelector()

    func matches(_ labels: [String: String]) -> Bool { requirements.allSatisfy { $0.matches(labels) } }

    /// Parses a selector; throws a 400 BadRequest Status on a syntax error.
    static func parse(_ text: String) throws(APIStatus) -> LabelSelector {
        var scanner = Scanner(Array(text.unicodeScalars))
        var selector = LabelSelector()
        scanner.skipSpaces()
        if scanner.atEnd { return selector }
        while true {
            scanner.skipSpaces()
            var negated = false
            if scanner.consume("!") { negated = true; scanner.skipSpaces() }
            let key = scanner.word()
            guard !key.isEmpty else { throw fail(text, "found '\(scanner.peekText)', expected: identifier") }
            for message in NameValidation.qualifiedName(key) {
                throw fail(text, "invalid label key \"\(key)\": \(message)")
            }
            scanner.skipSpaces()
            if negated {
                selector.requirements.append(Requirement(key: key, op: .doesNotExist, values: []))
            } else if scanner.atEnd || scanner.peek == "," {
                selector.requirements.append(Requirement(key: key, op: .exists, values: []))
            } else if scanner.consume("==") || scanner.consume("=") {
                selector.requirements.append(Requirement(key: key, op: .equals, values: [try value(&scanner, text)]))
            } else if scanner.consume("!=") {
                selector.requirements.append(Requirement(key: key, op: .notEquals, values: [try value(&scanner, text)]))
            } else if scanner.consume(">") {
                selector.requirements.append(Requirement(key: key, op: .greaterThan, values: [try integer(&scanner, text)]))
            } else if scanner.consume("<") {
                selector.requirements.append(Requirement(key: key, op: .lessThan, values: [try integer(&scanner, text)]))
            } else {
                let word = scanner.word()
                let op: Operator
                switch word {
                case "in": op = .isIn
                case "notin": op = .notIn
                default: throw fail(text, "found '\(word)', expected: in, notin, =, ==, !=, gt, lt")
                }
                scanner.skipSpaces()
                guard scanner.consume("(") else { throw fail(text, "found '\(scanner.peekText)', expected: '('") }
                var values: [String] = []
                while true {
                    scanner.skipSpaces()
                    let item = scanner.word()
                    try checkValue(item, text)
                    values.append(item)
                    scanner.skipSpaces()
                    if scanner.consume(",") { continue }
                    if scanner.consume(")") { break }
                    throw fail(text, "found '\(scanner.peekText)', expected: ',' or ')'")
                }
                selector.requirements.append(Requirement(key: key, op: op, values: values))
            }
            scanner.skipSpaces()
            if scanner.atEnd { return selector }
            guard scanner.consume(",") else { throw fail(text, "found '\(scanner.peekText)', expected: ',' or end of string") }
        }
    }

    static func value(_ scanner: inout Scanner, _ text: String) throws(APIStatus) -> String {
        scanner.skipSpaces()
        let word = scanner.word()
        try checkValue(word, text)
        return word
    }

    static func integer(_ scanner: inout Scanner, _ text: String) throws(APIStatus) -> String {
        let word = try value(&scanner, text)
        guard Int64(word) != nil else { throw fail(text, "for 'gt', 'lt' operators, the value must be an integer") }
        return word
    }

    static func checkValue(_ value: String, _ text: String) throws(APIStatus) {
        for message in NameValidation.labelValue(value) {
            throw fail(text, "invalid label value: \"\(value)\": at key: \(message)")
        }
    }

    static func fail(_ text: String, _ detail: String) -> APIStatus {
        .badRequest("unable to parse requirement: \(detail)")
    }
}

/// A small cursor over selector text.
struct Scanner {
    let scalars: [UnicodeScalar]
    var index = 0

    init(_ scalars: [UnicodeScalar]) { self.scalars = scalars }

    var atEnd: Bool { index >= scalars.count }
    var peek: UnicodeScalar? { atEnd ? nil : scalars[index] }
    var peekText: String { peek.map { String($0) } ?? "end of string" }

    mutating func skipSpaces() {
        while let c = peek, c == " " || c == "\t" { index += 1 }
    }

    mutating func consume(_ token: String) -> Bool {
        let tokenScalars = Array(token.unicodeScalars)
        guard index + tokenScalars.count <= scalars.count,
            Array(scalars[index..<index + tokenScalars.count]) == tokenScalars
        else { return false }
        index += tokenScalars.count
        return true
    }

    /// Letters, digits and `-_./` (identifiers and values).
    mutating func word() -> String {
        var out = String.UnicodeScalarView()
        while let c = peek, c.properties.isAlphabetic || ("0"..."9").contains(c) || "-_./".unicodeScalars.contains(c) {
            out.append(c)
            index += 1
        }
        return String(out)
    }
}

/// A field selector: equality requirements on selectable fields.
struct FieldSelector: Sendable, Equatable {
    struct Requirement: Sendable, Equatable {
        var field: String
        var value: String
        var equal: Bool
    }

    var requirements: [Requirement] = []

    static func parse(_ text: String, resource: ResourceType) throws(APIStatus) -> FieldSelector {
        var selector = FieldSelector()
        guard !text.isEmpty else { return selector }
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = String(part)
            let requirement: Requirement
            if let range = item.firstRange(of: "!=") {
                requirement = Requirement(field: String(item[..<range.lowerBound]), value: String(item[range.upperBound...]), equal: false)
            } else if let range = item.firstRange(of: "==") {
                requirement = Requirement(field: String(item[..<range.lowerBound]), value: String(item[range.upperBound...]), equal: true)
            } else if let range = item.firstRange(of: "=") {
                requirement = Requirement(field: String(item[..<range.lowerBound]), value: String(item[range.upperBound...]), equal: true)
            } else {
                throw .badRequest("invalid selector: '\(text)'; can't understand '\(item)'")
            }
            let supported = ["metadata.name", "metadata.namespace"] + resource.extraSelectableFields.keys.sorted()
            guard supported.contains(requirement.field) else {
                throw .badRequest("\"\(requirement.field)\" is not a known field selector: only " + supported.map { "\"\($0)\"" }.joined(separator: ", "))
            }
            selector.requirements.append(requirement)
        }
        return selector
    }

    func matches(_ object: JSONValue, resource: ResourceType) -> Bool {
        requirements.allSatisfy { requirement in
            let path: [String]
            switch requirement.field {
            case "metadata.name": path = ["metadata", "name"]
            case "metadata.namespace": path = ["metadata", "namespace"]
            default: path = resource.extraSelectableFields[requirement.field] ?? []
            }
            let actual = object[path: path]?.stringValue ?? ""
            return (actual == requirement.value) == requirement.equal
        }
    }
}
