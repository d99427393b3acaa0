// `<Kind>List` responses. Items are decoded one by one so that one undecodable item does
// not hide all the others: it is reported in `failures` (the watcher turns each into an
// error element) while the rest of the list is usable.

/// One page (or, from `listAll`, the whole) of a list.
public struct ObjectList<Object: KubeResource>: Sendable {
    public var metadata: ListMeta
    public var items: [Object]
    /// Items the server sent that did not decode as `Object`, with the reason.
    package var failures: [KubeError]

    public init(metadata: ListMeta = ListMeta(), items: [Object] = [], failures: [KubeError] = []) {
        self.metadata = metadata
        self.items = items
        self.failures = failures
    }
}

extension ObjectList: Decodable {
    enum CodingKeys: String, CodingKey {
        case metadata, items
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try c.decodeIfPresent(ListMeta.self, forKey: .metadata) ?? ListMeta()
        let lenient = try c.decodeIfPresent([LenientItem<Object>].self, forKey: .items) ?? []
        var items: [Object] = []
        var failures: [KubeError] = []
        items.reserveCapacity(lenient.count)
        for (index, item) in lenient.enumerated() {
            switch item {
            case .decoded(let object): items.append(object)
            case .failed(let detail):
                failures.append(.malformedObject(
                    resource: Object.resource, detail: "list item \(index): \(detail)"))
            }
        }
        self.items = items
        self.failures = failures
    }
}

/// Decodes `Object`, or records why it could not (one parse of the list, not two).
enum LenientItem<Object: Decodable>: Decodable {
    case decoded(Object)
    case failed(String)

    init(from decoder: any Decoder) throws {
        do {
            self = .decoded(try Object(from: decoder))
        } catch {
            // The item's name, if it has one, only labels the error; the decoding error
            // itself is kept in full below.
            let name = (try? decoder.container(keyedBy: NameKeys.self))
                .flatMap { try? $0.nestedContainer(keyedBy: NameKeys.self, forKey: .metadata) }
                .flatMap { try? $0.decode(String.self, forKey: .name) }
            self = .failed((name.map { "\"\($0)\": " } ?? "") + describeDecodingError(error))
        }
    }

    private enum NameKeys: String, CodingKey {
        case metadata, name
    }
}

/// A one-line account of a `DecodingError`: what was wrong and where.
func describeDecodingError(_ error: any Error) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return text.isEmpty ? "top level" : String(text.drop { $0 == "." })
    }
    guard let decoding = error as? DecodingError else { return String(describing: error) }
    switch decoding {
    case .typeMismatch(let type, let context):
        return "\(path(context)): expected \(type): \(context.debugDescription)"
    case .valueNotFound(let type, let context):
        return "\(path(context)): missing \(type) value"
    case .keyNotFound(let key, let context):
        let parent = path(context)
        return "\(parent == "top level" ? "" : parent + ".")\(key.stringValue): required field missing"
    case .dataCorrupted(let context):
        return "\(path(context)): \(context.debugDescription)"
    @unknown default:
        return String(describing: decoding)
    }
}
