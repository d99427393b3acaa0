// Values of the NFSv3 client layer: file handles, names, attributes and call failures.
import CNFS

/// An NFSv3 file handle (RFC 1813 section 2.5: opaque, at most 64 bytes). It names one
/// object on the server whatever its path, so acting on a handle never resolves a name,
/// let alone a symbolic link.
struct NFSFileHandle: Sendable, Hashable {
    var bytes: [UInt8]

    /// Calls `body` with the handle as libnfs's `nfs_fh3`, valid only during the call
    /// (libnfs encodes its arguments when the call is queued).
    func withRaw<R>(_ body: (nfs_fh3) throws(NFSCallError) -> R) throws(NFSCallError) -> R {
        var copy = bytes
        return try copy.withUnsafeMutableBufferPointer { buffer throws(NFSCallError) -> R in
            let base = UnsafeMutableRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: CChar.self)
            var raw = nfs_fh3()
            raw.data.data_len = u_int(buffer.count)
            raw.data.data_val = base
            return try body(raw)
        }
    }

    /// Copies a handle out of libnfs's reply memory.
    init(raw: nfs_fh3) {
        let count = Int(raw.data.data_len)
        if let start = raw.data.data_val, count > 0 {
            bytes = UnsafeRawBufferPointer(start: start, count: count).map { $0 }
        } else {
            bytes = []
        }
    }

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }
}

/// A directory entry name as the server sent it: raw bytes (NFS names need not be UTF-8),
/// passed back unchanged to REMOVE/RMDIR/LOOKUP.
struct NFSName: Sendable, Hashable {
    var bytes: [UInt8]

    init(_ component: String) {
        bytes = Array(component.utf8)
    }

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isDotOrDotDot: Bool { bytes == [46] || bytes == [46, 46] }

    /// For messages: invalid UTF-8 is shown with replacement characters.
    var display: String { String(decoding: bytes, as: UTF8.self) }

    /// Calls `body` with a NUL-terminated copy, valid only during the call.
    func withCString<R>(_ body: (UnsafeMutablePointer<CChar>) throws(NFSCallError) -> R) throws(NFSCallError) -> R {
        var terminated = bytes.map { CChar(bitPattern: $0) }
        terminated.append(0)
        return try terminated.withUnsafeMutableBufferPointer { buffer throws(NFSCallError) -> R in
            // A buffer with at least the NUL always has a base address.
            guard let base = buffer.baseAddress else {
                throw .transport(procedure: "encode", message: "empty name buffer")
            }
            return try body(base)
        }
    }
}

/// What the server reports about an object (the parts of `fattr3` the store uses).
struct NFSAttributes: Sendable, Hashable {
    var kind: FileKind
    var mode: FileMode
    var uid: UInt32
    var gid: UInt32
    var size: UInt64

    init(_ raw: fattr3) {
        switch raw.type {
        case NF3DIR: kind = .directory
        case NF3REG: kind = .regularFile
        case NF3LNK: kind = .symbolicLink
        default: kind = .other
        }
        mode = FileMode(rawValue: raw.mode)
        uid = raw.uid
        gid = raw.gid
        size = raw.size
    }

    /// `post_op_attr`: attributes the server may or may not have sent.
    static func optional(_ raw: post_op_attr) -> NFSAttributes? {
        raw.attributes_follow != 0 ? NFSAttributes(raw.post_op_attr_u.attributes) : nil
    }

    var fileInfo: FileInfo {
        FileInfo(kind: kind, mode: mode, uid: uid, gid: gid, size: size)
    }
}

/// One entry of a READDIRPLUS page.
struct NFSDirectoryEntry: Sendable, Hashable {
    var name: NFSName
    /// `nil` when the server did not send them (the store then asks with LOOKUP).
    var attributes: NFSAttributes?
    var handle: NFSFileHandle?
}

/// Why an NFS call failed, before the store attaches its member, operation and path.
enum NFSCallError: Error, Sendable, Hashable {
    /// The server answered with an NFSv3 error status (`NFS3ERR_*`).
    case status(procedure: String, status: Int32, errno: Int32)
    /// No answer within the context's timeout (`nfs_set_timeout`).
    case timedOut(procedure: String)
    /// The connection failed or broke (refused, reset, closed, RPC error).
    case transport(procedure: String, message: String)
    /// `nfs_mount` failed: the export cannot be mounted (the message is libnfs's).
    case mountFailed(errno: Int32, message: String)

    /// The positive errno of a `.status` failure.
    var errnoValue: Int32? {
        if case .status(_, _, let code) = self { return code }
        return nil
    }

    /// `NFS3ERR_ACCES` for a status, or the RPC layer's message: what goes into the
    /// `call` of a ``StorageError/systemCall(member:operation:path:call:errno:)``.
    var callDescription: String {
        switch self {
        case .status(let procedure, let status, _):
            return "NFSv3 \(procedure) (\(Self.statusName(status)))"
        case .timedOut(let procedure):
            return "NFSv3 \(procedure) (timed out)"
        case .transport(let procedure, let message):
            return "NFSv3 \(procedure) (\(message))"
        case .mountFailed(_, let message):
            return "NFS mount (\(message))"
        }
    }

    /// libnfs's name for an `nfsstat3` value, e.g. `NFS3ERR_NOSPC`.
    static func statusName(_ status: Int32) -> String {
        guard let text = nfsstat3_to_str(status) else { return "nfsstat3 \(status)" }
        return String(cString: text)
    }

    /// The errno libnfs maps an `nfsstat3` to (`nfsstat3_to_errno` returns it negated).
    static func errno(forStatus status: Int32) -> Int32 {
        let value = nfsstat3_to_errno(status)
        return value < 0 ? -value : (value == 0 ? 5 /* EIO */ : value)
    }
}
