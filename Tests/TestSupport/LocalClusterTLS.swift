// Throw-away TLS material for LocalCluster HTTPS tests, made with the `openssl` CLI:
// a CA and a server certificate for IP 127.0.0.1 / DNS localhost, signed by that CA.

package import Foundation
import NFSServerHarness

/// PEM files in a fresh temporary directory.
package struct LocalClusterTestCertificates: Sendable {
    package let directory: URL
    /// The CA certificate (trust root; `certificate-authority` in a kubeconfig).
    package let caPath: String
    /// The server certificate (SAN IP:127.0.0.1, DNS:localhost).
    package let certificatePath: String
    /// The server's private key.
    package let keyPath: String
}

package enum LocalClusterTLSError: Error, CustomStringConvertible {
    case opensslFailed(arguments: [String], status: Int32, output: String)

    package var description: String {
        switch self {
        case .opensslFailed(let arguments, let status, let output):
            "openssl \(arguments.joined(separator: " ")) exited \(status): \(output)"
        }
    }
}

package enum LocalClusterTLS {
    /// Makes a CA and a server certificate with `openssl` (a few hundred milliseconds), on a
    /// thread of its own: the child processes are waited for synchronously and must not hold
    /// a cooperative thread that other tests' servers need.
    package static func makeCertificates() async throws -> LocalClusterTestCertificates {
        try await HelperThread.run { () throws -> LocalClusterTestCertificates in try makeCertificatesBlocking() }
    }

    private static func makeCertificatesBlocking() throws -> LocalClusterTestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("localcluster-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let extensions = "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
            + "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        try extensions.write(toFile: path("server.ext"), atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(["req", "-x509"] + ec + ["-keyout", path("ca.key"), "-out", path("ca.crt"), "-days", "2",
                                             "-subj", "/CN=localcluster-test-ca"])
        try openssl(["req"] + ec + ["-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=127.0.0.1"])
        try openssl(["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
                     "-CAcreateserial", "-out", path("server.crt"), "-days", "2", "-extfile", path("server.ext")])
        return LocalClusterTestCertificates(directory: directory, caPath: path("ca.crt"),
                                            certificatePath: path("server.crt"), keyPath: path("server.key"))
    }

    static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LocalClusterTLSError.opensslFailed(arguments: arguments, status: process.terminationStatus,
                                                     output: String(decoding: output, as: UTF8.self))
        }
    }
}
