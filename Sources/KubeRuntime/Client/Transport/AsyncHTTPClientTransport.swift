// The production transport: async-http-client over HTTP/1.1 or HTTPS (custom CA through
// NIOSSL trust roots, client certificate and key, insecure-skip-tls-verify, tls-server-name
// through a DNS override so SNI and verification use the configured name).
//
// Connection establishment is not retried inside async-http-client
// (`retryConnectionEstablishment = false`): a failed connect surfaces at once as
// `TransportError.connectFailed` and the client's own retry policy decides. There is no
// read timeout: a watch may be silent for minutes; `execute(timeout:)` bounds the head only.
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// `HTTPTransport` on async-http-client.
public final class AsyncHTTPClientTransport: HTTPTransport {
    private let client: HTTPClient
    /// The host name to put into URLs instead of the server's address (tls-server-name).
    private let urlHostOverride: (original: String, replacement: String)?

    /// Builds the transport from the client configuration's server and TLS settings.
    ///
    /// - Parameter connectTimeout: TCP (and TLS) connection timeout. Default 10 s.
    /// - Throws: ``TransportError/tls(_:)`` naming the PEM source when a certificate or key
    ///   cannot be parsed.
    public init(configuration: KubeClientConfiguration, connectTimeout: Duration = .seconds(10)) throws {
        var httpConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .nanoseconds(Int64(connectTimeout.secondsDouble * 1e9)), read: nil),
            decompression: .disabled)
        httpConfiguration.httpVersion = .http1Only
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        var override: (String, String)?
        if configuration.server.scheme == "https" {
            httpConfiguration.tlsConfiguration = try Self.tlsConfiguration(configuration.tls)
            if let serverName = configuration.tls.serverName, serverName != configuration.server.host {
                httpConfiguration.dnsOverride = [serverName: configuration.server.host]
                override = (configuration.server.host, serverName)
            }
        }
        self.urlHostOverride = override
        self.client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
    }

    static func tlsConfiguration(_ settings: TLSSettings) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = settings.certificateAuthority {
            let certificates = try parseCertificates(ca)
            tls.trustRoots = .certificates(certificates)
        }
        if let certificate = settings.clientCertificate, let key = settings.clientKey {
            tls.certificateChain = try parseCertificates(certificate).map { .certificate($0) }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key.bytes, format: .pem))
            } catch {
                throw TransportError.tls("\(key.origin): not a PEM private key (\(error))")
            }
        }
        if settings.insecureSkipVerify {
            tls.certificateVerification = .none
        }
        return tls
    }

    private static func parseCertificates(_ pem: PEMData) throws -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(pem.bytes)
        } catch {
            throw TransportError.tls("\(pem.origin): not a PEM certificate (\(error))")
        }
        guard !certificates.isEmpty else { throw TransportError.tls("\(pem.origin): no certificate in PEM data") }
        return certificates
    }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        var url = request.url
        if let (original, replacement) = urlHostOverride {
            let bracketed = original.contains(":") ? "[\(original)]" : original
            if let range = url.range(of: "://\(bracketed):") {
                url.replaceSubrange(range, with: "://\(replacement):")
            }
        }
        var httpRequest = HTTPClientRequest(url: url)
        httpRequest.method = NIOHTTP1.HTTPMethod(rawValue: request.method.rawValue)
        for header in request.headers {
            httpRequest.headers.add(name: header.name, value: header.value)
        }
        if let body = request.body {
            httpRequest.body = .bytes(ByteBuffer(bytes: body))
        }
        let timeout = TimeAmount.nanoseconds(Int64(request.headTimeout.secondsDouble * 1e9))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(httpRequest, timeout: timeout)
        } catch {
            throw Self.classify(error, headTimeout: request.headTimeout)
        }
        let headers = response.headers.map { HeaderField($0.name, $0.value) }
        let body = response.body
        return TransportResponse(status: Int(response.status.code), headers: headers, body: ResponseBody {
            let iterator = IteratorBox(body.makeAsyncIterator())
            return {
                do {
                    return try await iterator.next()
                } catch {
                    throw Self.classify(error, headTimeout: nil)
                }
            }
        })
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// Maps async-http-client / NIO errors onto ``TransportError`` (see its cases for why
    /// the distinction matters).
    static func classify(_ error: any Error, headTimeout: Duration?) -> any Error {
        if error is CancellationError { return error }
        if let error = error as? TransportError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .cancelled: return CancellationError()
            case .connectTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout:
                return TransportError.connectFailed(String(describing: error))
            case .deadlineExceeded:
                return headTimeout.map { TransportError.headTimeout($0) } ?? TransportError.connectionLost(String(describing: error))
            case .invalidURL, .emptyHost, .emptyScheme:
                return TransportError.invalidRequest(String(describing: error))
            default:
                return TransportError.connectionLost(String(describing: error))
            }
        }
        if error is NIOConnectionError {
            return TransportError.connectFailed(String(describing: error))
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return TransportError.connectFailed(String(describing: error))
        }
        if let error = error as? IOError,
           [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(error.errnoCode) {
            return TransportError.connectFailed(String(describing: error))
        }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return TransportError.tls(String(describing: error))
        }
        return TransportError.connectionLost(String(describing: error))
    }
}

/// Lets a body iterator be driven from a `@Sendable` closure. Only one task iterates a
/// body at a time (the watch or collect loop), so the unchecked conformance holds.
private final class IteratorBox: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator

    init(_ iterator: HTTPClientResponse.Body.AsyncIterator) {
        self.iterator = iterator
    }

    func next() async throws -> [UInt8]? {
        guard let buffer = try await iterator.next() else { return nil }
        return Array(buffer: buffer)
    }
}
