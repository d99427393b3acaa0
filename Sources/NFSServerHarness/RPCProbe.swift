// Is an NFS server answering? ONC RPC calls over TCP to its NFS and MOUNT ports.
import Glibc

/// The smallest ONC RPC client that tells whether a freshly started server serves: the
/// NULL procedure of a program (RFC 5531 section 12: every program has procedure 0,
/// which does nothing and proves the dispatcher runs), and MOUNT v3 `MNT` of an export
/// (RFC 1813 section 5.2.1: the server found the export and made its root file handle).
///
/// It is what ``GaneshaServer`` waits for before a start returns, so the harness needs no
/// NFS client library (the product's libnfs store is what is being tested; the harness
/// must not depend on it). One TCP connection per call, record marking (RFC 5531 section
/// 11), AUTH_SYS credentials with the process's uid and gid, send and receive bounded by
/// the timeout. Blocking: helper threads only.
enum RPCProbe {
    static let nfsProgram: UInt32 = 100_003
    static let mountProgram: UInt32 = 100_005

    /// Why a probe did not succeed (a starting server: retried until the start deadline).
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Calls procedure 0 (NULL) of `program` `version` on 127.0.0.1:`port`.
    static func null(port: UInt16, program: UInt32, version: UInt32, timeout: Duration) throws(Failure) {
        _ = try call(port: port, program: program, version: version, procedure: 0, arguments: [], timeout: timeout)
    }

    /// MOUNT v3 procedure 1 (MNT) of `path` on 127.0.0.1:`port`; the status must be MNT3_OK.
    static func mount(port: UInt16, path: String, timeout: Duration) throws(Failure) {
        var arguments = XDRWriter()
        arguments.string(path)
        var results = try call(port: port, program: mountProgram, version: 3, procedure: 1, arguments: arguments.bytes, timeout: timeout)
        let status = try results.u32()
        guard status == 0 else {
            throw Failure("MOUNT of \(path) on port \(port) answered mountstat3 \(status)"
                + (status == 13 ? " (MNT3ERR_ACCES)" : status == 2 ? " (MNT3ERR_NOENT)" : ""))
        }
    }

    /// One call; returns the reader positioned at the procedure's results.
    private static func call(
        port: UInt16, program: UInt32, version: UInt32, procedure: UInt32, arguments: [UInt8], timeout: Duration
    ) throws(Failure) -> XDRReader {
        let xid = UInt32.random(in: 1...UInt32.max)
        var message = XDRWriter()
        for word in [xid, 0 /* CALL */, 2 /* RPC version */, program, version, procedure] { message.u32(word) }
        // AUTH_SYS (flavor 1): stamp, machine name, uid, gid, no supplementary gids.
        var credentials = XDRWriter()
        credentials.u32(0)
        credentials.string("ncp-harness")
        credentials.u32(getuid())
        credentials.u32(getgid())
        credentials.u32(0)
        message.u32(1)
        message.opaque(credentials.bytes)
        message.u32(0)  // verifier AUTH_NONE
        message.u32(0)
        message.bytes += arguments

        let fd = try connectLoopback(port: port, timeout: timeout)
        defer { close(fd) }
        var record = XDRWriter()
        record.u32(0x8000_0000 | UInt32(message.bytes.count))  // one, last, fragment
        record.bytes += message.bytes
        try writeAll(fd, record.bytes, port: port)
        var reply = XDRReader(try readRecord(fd, port: port))

        guard try reply.u32() == xid else { throw Failure("port \(port): reply to another call") }
        guard try reply.u32() == 1 else { throw Failure("port \(port): not an RPC reply") }
        guard try reply.u32() == 0 else { throw Failure("port \(port): call denied (MSG_DENIED)") }
        _ = try reply.u32()  // verifier flavor
        try reply.skipOpaque()
        let accepted = try reply.u32()
        guard accepted == 0 else {
            let names = [1: "PROG_UNAVAIL", 2: "PROG_MISMATCH", 3: "PROC_UNAVAIL", 4: "GARBAGE_ARGS", 5: "SYSTEM_ERR"]
            throw Failure("port \(port): program \(program) v\(version) answered \(names[Int(accepted)] ?? "accept_stat \(accepted)")")
        }
        return reply
    }

    private static func connectLoopback(port: UInt16, timeout: Duration) throws(Failure) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: \(String(cString: strerror(errno)))") }
        let (seconds, attoseconds) = timeout.components
        var limit = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        // SO_SNDTIMEO bounds connect() too on Linux (net/ipv4/af_inet.c, sock_sndtimeo).
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure("connect to 127.0.0.1:\(port): \(reason)")
        }
        return fd
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], port: UInt16) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure("send to port \(port): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Reads one record (its fragments up to the last), at most 1 MiB.
    private static func readRecord(_ fd: Int32, port: UInt16) throws(Failure) -> [UInt8] {
        var record: [UInt8] = []
        while true {
            var header = XDRReader(try readExactly(fd, 4, port: port))
            let mark = try header.u32()
            let length = Int(mark & 0x7FFF_FFFF)
            guard record.count + length <= 1 << 20 else { throw Failure("port \(port): reply larger than 1 MiB") }
            record += try readExactly(fd, length, port: port)
            if mark & 0x8000_0000 != 0 { return record }
        }
    }

    private static func readExactly(_ fd: Int32, _ count: Int, port: UInt16) throws(Failure) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = buffer[offset...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got < 0 {
                if errno == EINTR { continue }
                let reason = errno == EAGAIN || errno == EWOULDBLOCK ? "no answer in time" : String(cString: strerror(errno))
                throw Failure("receive from port \(port): \(reason)")
            }
            if got == 0 { throw Failure("port \(port) closed the connection") }
            offset += got
        }
        return buffer
    }
}

/// XDR encoding (RFC 4506): big-endian 32-bit words, opaques padded to 4 bytes.
struct XDRWriter {
    var bytes: [UInt8] = []

    mutating func u32(_ value: UInt32) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    mutating func opaque(_ data: [UInt8]) {
        u32(UInt32(data.count))
        bytes += data
        bytes += [UInt8](repeating: 0, count: (4 - data.count % 4) % 4)
    }

    mutating func string(_ text: String) {
        opaque(Array(text.utf8))
    }
}

/// XDR decoding with bounds checks: a short or garbled reply is a ``RPCProbe/Failure``.
struct XDRReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func u32() throws(RPCProbe.Failure) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw RPCProbe.Failure("short RPC reply") }
        defer { offset += 4 }
        return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func skipOpaque() throws(RPCProbe.Failure) {
        let length = Int(try u32())
        let padded = length + (4 - length % 4) % 4
        guard padded <= bytes.count - offset else { throw RPCProbe.Failure("short RPC reply") }
        offset += padded
    }
}
