// From an HTTP request to a reply: authentication, fault injection, routing, the verbs.
//
// Independent of NIO so that it can be read (and reasoned about) as the apiserver's handler
// chain: authn (401) → flow control (where injected 429s live) → routing (404) →
// negotiation (406/415) → the REST handlers of AS endpoints/handlers.

import Synchronization

struct HTTPRequest: Sendable {
    var method: String
    var path: String
    var rawQuery: String
    var query: [String: [String]]
    /// Header names lower-cased.
    var headers: [String: String]
    var body: [UInt8]
    var bodyTooLarge = false
}

/// A planned watch stream (written by `WatchStreamer`).
struct WatchPlan: Sendable {
    var filter: ObjectFilter
    var start: ObjectStore.WatchStart
    var timeout: Duration
    var bookmarks: Bool
    var fault: WatchFault?
    /// Objects as they are, or as one-row Tables (`kubectl get --watch`).
    var format = ResponseFormat.json
}

enum Reply: Sendable {
    case response(status: Int, headers: [(String, String)], body: [UInt8])
    case watch(WatchPlan)
    case drop

    static func json(_ status: Int, _ body: JSONValue, extraHeaders: [(String, String)] = [],
                     contentType: String = "application/json") -> Reply {
        .response(status: status,
                  headers: [("Content-Type", contentType), ("Cache-Control", "no-cache, private")] + extraHeaders,
                  body: body.encoded())
    }

    /// A successful write: the object, with a `Warning` header per warning.
    static func written(_ status: Int, _ result: WriteResult) -> Reply {
        json(status, result.object, extraHeaders: result.warnings.map { ("Warning", FieldValidation.warningHeader($0)) })
    }

    static func status(_ status: APIStatus, extraHeaders: [(String, String)] = []) -> Reply {
        json(status.code, status.json, extraHeaders: extraHeaders)
    }
}

final class APIHandler: Sendable {
    let registry: Registry
    let faults: FaultInjector
    let configuration: LocalClusterConfiguration
    let acceptedTokens: Mutex<Set<String>?>
    let random: Mutex<SeededRandom>
    /// `host:port` for discovery's serverAddressByClientCIDRs.
    let serverAddress: Mutex<String>

    init(registry: Registry, faults: FaultInjector, configuration: LocalClusterConfiguration) {
        self.registry = registry
        self.faults = faults
        self.configuration = configuration
        self.acceptedTokens = Mutex(configuration.acceptedTokens)
        self.random = Mutex(SeededRandom(seed: configuration.seed ^ 0xB00C_3A2D))
        self.serverAddress = Mutex("\(configuration.host):\(configuration.port)")
    }

    var store: ObjectStore { registry.store }

    /// A duration drawn uniformly from a range.
    func jitter(_ range: ClosedRange<Duration>) -> Duration {
        let low = range.lowerBound.components
        let lowNanos = Double(low.seconds) * 1e9 + Double(low.attoseconds) / 1e9
        let high = range.upperBound.components
        let highNanos = Double(high.seconds) * 1e9 + Double(high.attoseconds) / 1e9
        let fraction = random.withLock { Double($0.next() >> 11) / Double(1 << 53) }
        return .nanoseconds(Int64(lowNanos + (highNanos - lowNanos) * fraction))
    }

    static func verb(for routed: RoutedPath?, method: String, query: [String: [String]]) -> RequestVerb? {
        guard let routed else { return nil }
        switch (routed.route, method) {
        case (.collection, "GET"):
            let watch = routed.legacyWatch || (query["watch"]?.first.map(ListOptions.queryBool) ?? false)
            return watch ? .watch : .list
        case (.collection, "POST"): return .create
        case (.collection, "DELETE"): return .deleteCollection
        case (.item, "GET"): return routed.legacyWatch ? .watch : .get
        case (.item, "PUT"): return .update
        case (.item, "PATCH"): return .patch
        case (.item, "DELETE"): return .delete
        default: return nil
        }
    }

    /// Handles one request. Returns the reply, the verb and the fault that fired (for the log).
    func handle(_ request: HTTPRequest) async -> (Reply, RequestVerb?, FaultHandle?) {
        let routed = Router.route(request.path)
        let verb = Self.verb(for: routed, method: request.method, query: request.query)

        if let tokens = acceptedTokens.withLock({ $0 }) {
            let header = request.headers["authorization"] ?? ""
            let token = header.hasPrefix("Bearer ") ? String(header.dropFirst("Bearer ".count)) : nil
            if token.map({ !tokens.contains($0) }) ?? true { return (.status(.unauthorized), verb, nil) }
        }

        var watchFault: WatchFault?
        var pageLimit: Int?
        let fired = faults.fire(method: request.method, path: request.path, verb: verb)
        if let (handle, action) = fired {
            switch action {
            case .status(let code, let reason, let message, let retryAfter):
                let status = APIStatus(code: code, reason: reason, message: message, retryAfterSeconds: retryAfter)
                return (.status(status, extraHeaders: retryAfter.map { [("Retry-After", String($0))] } ?? []), verb, handle)
            case .conflict:
                return (.status(conflictStatus(for: routed)), verb, handle)
            case .tooManyRequests(let seconds):
                let status = APIStatus(code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.",
                                       retryAfterSeconds: seconds)
                return (.status(status, extraHeaders: [("Retry-After", String(seconds))]), verb, handle)
            case .tooManyRequestsPlainText(let seconds):
                return (.response(status: 429, headers: [("Content-Type", "text/plain; charset=utf-8"),
                                                          ("X-Content-Type-Options", "nosniff"),
                                                          ("Retry-After", String(seconds))],
                                  body: Array("Too many requests, please try again later.\n".utf8)), verb, handle)
            case .closeConnection:
                return (.drop, verb, handle)
            case .delay(let duration):
                do { try await Task.sleep(for: duration) } catch { return (.drop, verb, handle) }
            case .shortPage(let maxItems):
                pageLimit = maxItems
            case .watch(let fault):
                watchFault = fault
            }
        }

        guard let routed else { return (.status(.pathNotFound), verb, fired?.0) }
        guard let format = MediaNegotiation.format(accept: request.headers["accept"], tables: Self.servesTables(routed, request)) else {
            return (.status(.notAcceptable()), verb, fired?.0)
        }
        if request.bodyTooLarge {
            return (.status(.requestEntityTooLarge(limit: configuration.maxRequestBodyBytes)), verb, fired?.0)
        }
        let reply: Reply
        do {
            reply = try await dispatch(routed, request, format: format, pageLimit: pageLimit, watchFault: watchFault)
        } catch {
            reply = .status(error)
        }
        return (reply, verb, fired?.0)
    }

    /// Whether a request may be answered with a Table: a GET of a resource's collection or
    /// item (lists, gets and watches).
    static func servesTables(_ routed: RoutedPath, _ request: HTTPRequest) -> Bool {
        guard request.method == "GET" else { return false }
        switch routed.route {
        case .collection, .item: return true
        default: return false
        }
    }

    func conflictStatus(for routed: RoutedPath?) -> APIStatus {
        if case .item(let type, _, let name, _)? = routed?.route {
            return .staleResourceVersion(resource: type.info.plural, group: type.info.group, name: name)
        }
        return APIStatus(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled: injected conflict")
    }

    func dispatch(_ routed: RoutedPath, _ request: HTTPRequest, format: ResponseFormat, pageLimit: Int?,
                  watchFault: WatchFault?) async throws(APIStatus) -> Reply {
        switch routed.route {
        case .version:
            guard request.method == "GET" else { throw APIStatus.methodNotAllowed() }
            return .json(200, Discovery.version(configuration.version))
        case .health:
            return .response(status: 200, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array("ok".utf8))
        case .coreVersions:
            return .json(200, Discovery.coreVersions(serverAddress: serverAddress.withLock { $0 }))
        case .groups:
            return .json(200, Discovery.groups())
        case .group(let name):
            return .json(200, Discovery.group(name))
        case .resourceList(let group, let version):
            return .json(200, Discovery.resourceList(group: group, version: version))
        case .openAPIIndex:
            guard request.method == "GET" else { throw APIStatus.methodNotAllowed() }
            return .json(200, OpenAPI.index(version: configuration.version))
        case .openAPIDocument(let path):
            guard request.method == "GET" else { throw APIStatus.methodNotAllowed() }
            guard let document = OpenAPI.document(path, version: configuration.version) else { throw APIStatus.pathNotFound }
            return .json(200, document)
        case .collection(let type, let namespace):
            var format = format
            if case .table(let version, _) = format {
                format = .table(version: version, include: try IncludeObject.parse(request.query["includeObject"]?.first))
            }
            if type.info.readOnly, request.method != "GET" { throw APIStatus.methodNotAllowed() }
            return try await collection(type, namespace: namespace, request, format: format, legacyWatch: routed.legacyWatch,
                                        pageLimit: pageLimit, watchFault: watchFault)
        case .item(let type, let namespace, let name, let subresource):
            var format = format
            if case .table(let version, _) = format {
                format = .table(version: version, include: try IncludeObject.parse(request.query["includeObject"]?.first))
            }
            if type.info.readOnly, request.method != "GET" { throw APIStatus.methodNotAllowed() }
            return try await item(type, namespace: namespace, name: name, subresource: subresource.flatMap(Subresource.init),
                                  request, format: format, legacyWatch: routed.legacyWatch, watchFault: watchFault)
        }
    }
}

extension StringProtocol {
    func trimmingCharacters() -> String {
        String(self).trimmingASCIIWhitespace()
    }
}
