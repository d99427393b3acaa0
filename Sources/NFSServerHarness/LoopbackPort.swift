// Loopback TCP ports for servers.
import Foundation
import Glibc

/// Loopback TCP helpers.
package enum LoopbackPort {
    /// A port that was free on 127.0.0.1 a moment ago, for a server.
    ///
    /// Taken *below* the kernel's ephemeral range (`ip_local_port_range`) when possible:
    /// a client socket never gets such a port as its local port, so nothing can take a
    /// server's port between this check and the server's bind, nor while a test server is
    /// down before its restart on the same ports.
    package static func free() throws(HelperError) -> UInt16 {
        let ephemeralLow = ephemeralRangeStart()
        if ephemeralLow > 12_000 {
            for _ in 0..<64 {
                let candidate = UInt16.random(in: 10_000..<UInt16(ephemeralLow))
                if canBind(candidate) { return candidate }
            }
        }
        return try kernelChosen()
    }

    /// The first port of `/proc/sys/net/ipv4/ip_local_port_range` (32768 by default).
    private static func ephemeralRangeStart() -> Int {
        guard let data = FileManager.default.contents(atPath: "/proc/sys/net/ipv4/ip_local_port_range"),
            let first = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first,
            let value = Int(first), value > 1024, value <= 65535
        else { return 32768 }
        return value
    }

    private static func canBind(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// Bind to port 0, read the port the kernel chose, close.
    private static func kernelChosen() throws(HelperError) -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .cannotStart(command: "socket", reason: "errno \(errno)") }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw .cannotStart(command: "bind", reason: "errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw .cannotStart(command: "getsockname", reason: "errno \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    package static func isListening(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
