// Raw HTTP against a LocalCluster with async-http-client: the tests see exactly what a
// client sees (status, headers, bytes), with no LocalCluster code in between.

import AsyncHTTPClient
import LocalCluster
import NIOCore
import NIOHTTP1

struct TestHTTPError: Error, CustomStringConvertible {
    var description: String
}

/// A response, fully read.
struct TestResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> JSONValue {
        do {
            return try JSONValue.parse(body)
        } catch {
            throw TestHTTPError(description: "response \(status) is not JSON: \(error): \(text)")
        }
    }

    /// The `reason` of a Status body ("" when absent).
    func reason() throws -> String { try json()["reason"]?.stringValue ?? "" }

    func message() throws -> String { try json()["message"]?.stringValue ?? "" }
}

/// Sends requests to one cluster.
struct TestClient: Sendable {
    let baseURL: String
    var token: String?
    var client: HTTPClient = .shared

    init(_ cluster: LocalCluster, token: String? = nil) {
        baseURL = cluster.baseURL
        self.token = token
    }

    init(baseURL: String, token: String? = nil, client: HTTPClient) {
        self.baseURL = baseURL
        self.token = token
        self.client = client
    }

    func request(
        _ method: HTTPMethod, _ path: String, json: JSONValue? = nil, body: [UInt8]? = nil,
        contentType: String? = nil, headers: [(String, String)] = [], timeout: TimeAmount = .seconds(30)
    ) async throws -> TestResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let bytes = json.map { $0.encoded() } ?? body
        if let bytes {
            request.body = .bytes(ByteBuffer(bytes: bytes))
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
        }
        let response = try await client.execute(request, timeout: timeout)
        var collected = try await response.body.collect(upTo: 64 * 1024 * 1024)
        let data = collected.readBytes(length: collected.readableBytes) ?? []
        return TestResponse(status: Int(response.status.code), headers: response.headers, body: data)
    }

    func get(_ path: String) async throws -> TestResponse { try await request(.GET, path) }
    func post(_ path: String, _ object: JSONValue) async throws -> TestResponse { try await request(.POST, path, json: object) }
    func put(_ path: String, _ object: JSONValue) async throws -> TestResponse { try await request(.PUT, path, json: object) }
    func delete(_ path: String, _ options: JSONValue? = nil) async throws -> TestResponse {
        try await request(.DELETE, path, json: options)
    }

    func mergePatch(_ path: String, _ patch: JSONValue) async throws -> TestResponse {
        try await request(.PATCH, path, json: patch, contentType: "application/merge-patch+json")
    }

    func jsonPatch(_ path: String, _ patch: JSONValue) async throws -> TestResponse {
        try await request(.PATCH, path, json: patch, contentType: "application/json-patch+json")
    }
}
