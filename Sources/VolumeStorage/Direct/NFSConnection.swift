// One libnfs context: a mounted NFSv3 export and a synchronous way to call its procedures.
import CNFS
import Glibc

/// One connection to an NFSv3 server with the export mounted: a libnfs `nfs_context`, the
/// export's root file handle, and ``call(_:issue:decode:)``, which sends one raw NFSv3
/// procedure and blocks until its reply, a timeout or a broken connection.
///
/// libnfs 4.0 contexts are not thread-safe: a connection is used by one thread at a time
/// (``NFSConnectionPool`` hands it out). It is `@unchecked Sendable` only so that the pool
/// can move it between the member's executor threads.
///
/// A connection that saw a timeout or a transport failure is **broken** (``isBroken``) and
/// is destroyed instead of being reused: a reply may still arrive for the abandoned call,
/// and libnfs 4.0 does not recover every context after a server restart (an NFSv4 context
/// stays failed after the server is killed and restarted, even with autoreconnect). The
/// next call mounts again, which costs a few milliseconds.
final class NFSConnection: @unchecked Sendable {
    /// Where and how to connect.
    struct Endpoint: Sendable, Hashable {
        var server: String
        var export: String
        var timeout: Duration
        var nfsPort: UInt16?
        var mountPort: UInt16?
    }

    private var context: OpaquePointer?
    private let rpc: OpaquePointer
    let endpoint: Endpoint
    let rootHandle: NFSFileHandle
    /// Largest READ and WRITE payloads the server accepts (from FSINFO at mount time).
    let maxRead: Int
    let maxWrite: Int
    /// Set by a timeout or a transport failure: the pool destroys the connection.
    private(set) var isBroken = false
    /// Replies received since ``resetReplyCount()``: lets the pool tell "this stale pooled
    /// connection failed before the server said anything" from a failure mid-operation.
    private(set) var repliesSinceCheckout = 0

    /// Mounts the export. Blocks for at most about one timeout per RPC of the mount (MNT,
    /// then FSINFO and GETATTR on the NFS port).
    init(endpoint: Endpoint) throws(NFSCallError) {
        guard let context = nfs_init_context() else {
            throw .mountFailed(errno: ENOMEM, message: "nfs_init_context failed")
        }
        guard let rpc = nfs_get_rpc_context(context) else {
            nfs_destroy_context(context)
            throw .mountFailed(errno: ENOMEM, message: "nfs_get_rpc_context failed")
        }
        self.endpoint = endpoint
        nfs_set_timeout(context, Self.milliseconds(endpoint.timeout))
        // No silent reconnect loop inside a call: a broken connection fails the call at
        // once and the pool mounts a fresh context (libnfs.h, nfs_set_autoreconnect).
        nfs_set_autoreconnect(context, 0)
        nfs_set_dircache(context, 0)
        // Ports and the nested-mount walk have no setters in libnfs 4.0, only URL
        // arguments (lib/libnfs.c, nfs_set_context_args); a URL without server sets them
        // on the context and nothing else.
        var arguments = ["auto-traverse-mounts=0"]
        if let port = endpoint.nfsPort { arguments.append("nfsport=\(port)") }
        if let port = endpoint.mountPort { arguments.append("mountport=\(port)") }
        if let url = nfs_parse_url_incomplete(context, "nfs://?" + arguments.joined(separator: "&")) {
            nfs_destroy_url(url)
        }
        let mounted = nfs_mount(context, endpoint.server, endpoint.export)
        if mounted != 0 {
            let message = Self.message(context)
            nfs_destroy_context(context)
            if mounted == -EINTR {
                throw .timedOut(procedure: "MOUNT")
            }
            throw .mountFailed(errno: mounted < 0 ? -mounted : EIO, message: Self.describeMountFailure(message, endpoint))
        }
        // libnfs 4.0 has no accessor for the root handle; opening "/" yields it
        // (nfs_get_fh). The open checks read access to the export root with ACCESS.
        var file: OpaquePointer?
        let opened = nfs_open(context, "/", O_RDONLY, &file)
        guard opened == 0, let file, let raw = nfs_get_fh(file) else {
            let message = Self.message(context)
            nfs_destroy_context(context)
            if opened == -EINTR { throw .timedOut(procedure: "ACCESS") }
            throw .mountFailed(errno: opened < 0 ? -opened : EIO, message: "cannot open the export root: \(message)")
        }
        var rootBytes: [UInt8] = []
        let length = Int(ncp_nfs_fh_length(raw))
        if let start = ncp_nfs_fh_bytes(raw), length > 0, length <= 128 {
            rootBytes = UnsafeRawBufferPointer(start: start, count: length).map { $0 }
        }
        _ = nfs_close(context, file)
        guard !rootBytes.isEmpty else {
            nfs_destroy_context(context)
            throw .mountFailed(errno: EIO, message: "the server returned an empty root file handle")
        }
        self.rootHandle = NFSFileHandle(bytes: rootBytes)
        self.maxRead = Self.clampTransfer(nfs_get_readmax(context))
        self.maxWrite = Self.clampTransfer(nfs_get_writemax(context))
        self.context = context
        self.rpc = rpc
    }

    deinit {
        destroy()
    }

    /// Closes the socket and frees the context; pending callbacks run with "cancelled".
    func destroy() {
        if let context {
            self.context = nil
            nfs_destroy_context(context)
        }
        isBroken = true
    }

    func resetReplyCount() {
        repliesSinceCheckout = 0
    }

    // MARK: - Calls

    /// Sends one NFSv3 procedure and waits for its reply.
    ///
    /// - Parameters:
    ///   - procedure: its name, for errors (`LOOKUP`).
    ///   - issue: queues the call: `rpc_nfs3_<procedure>_async(rpc, callback, &args, data)`,
    ///     returning 0 when queued. Arguments are encoded during this call.
    ///   - decode: turns the reply (`<PROCEDURE>3res *`) into a value or an error. It runs
    ///     inside libnfs's callback and must copy what it keeps: the reply is freed after.
    /// - Throws: ``NFSCallError/timedOut(procedure:)`` after the context's timeout,
    ///   ``NFSCallError/transport(procedure:message:)`` when the connection fails, or what
    ///   `decode` returns.
    ///
    /// The loop follows libnfs's own synchronous wrappers (lib/libnfs-sync.c,
    /// `wait_for_reply`): poll the socket for at most 100 ms, then `rpc_service`, which
    /// also expires calls older than the timeout.
    func call<T>(
        _ procedure: String,
        issue: (OpaquePointer, rpc_cb, UnsafeMutableRawPointer) -> Int32,
        decode: @escaping (UnsafeMutableRawPointer) -> Result<T, NFSCallError>
    ) throws(NFSCallError) -> T {
        guard context != nil, !isBroken else {
            throw .transport(procedure: procedure, message: "the connection was closed after an earlier failure")
        }
        let reply = PendingReply()
        var result: Result<T, NFSCallError>?
        reply.onSuccess = { data in result = decode(data) }
        let callback: rpc_cb = { _, status, data, privateData in
            guard let privateData else { return }
            Unmanaged<PendingReply>.fromOpaque(privateData).takeUnretainedValue().complete(status: status, data: data)
        }
        let queued = withExtendedLifetime(reply) {
            issue(rpc, callback, Unmanaged.passUnretained(reply).toOpaque())
        }
        if queued != 0 {
            isBroken = true
            throw .transport(procedure: procedure, message: "cannot queue the call: \(rpcMessage())")
        }
        // libnfs expires the call after the timeout; this deadline only guards against a
        // loop that never sees it (no socket, no service).
        let deadline = ContinuousClock.now + endpoint.timeout + .seconds(2)
        var failure: String?
        while !reply.isDone {
            let fd = rpc_get_fd(rpc)
            if fd < 0 {
                failure = "the socket is closed"
                break
            }
            var descriptor = pollfd(fd: fd, events: Int16(truncatingIfNeeded: rpc_which_events(rpc)), revents: 0)
            let ready = poll(&descriptor, 1, 100)
            let revents: Int32 = ready < 0 ? (errno == EINTR ? 0 : -1) : Int32(descriptor.revents)
            if rpc_service(rpc, revents) < 0 {
                if !reply.isDone { failure = rpcMessage() }
                break
            }
            if !reply.isDone && ContinuousClock.now > deadline {
                failure = "no reply and no timeout from libnfs"
                break
            }
        }
        withExtendedLifetime(reply) {
            if !reply.isDone {
                // The callback still points at `reply`: destroying the context runs it
                // (cancelled) now, while `reply` is alive.
                destroy()
            }
        }
        switch reply.status {
        case RPC_STATUS_SUCCESS:
            repliesSinceCheckout += 1
            guard let result else {
                isBroken = true
                throw .transport(procedure: procedure, message: "empty reply")
            }
            if case .failure(.status(_, let status, let code)) = result,
                code == ESTALE || status == Int32(bitPattern: NFS3ERR_BADHANDLE.rawValue)
            {
                // The root handle may be what went stale (export re-created, server moved):
                // the next operation mounts again and gets a fresh one.
                isBroken = true
            }
            return try result.get()
        case RPC_STATUS_TIMEOUT:
            destroy()
            throw .timedOut(procedure: procedure)
        default:
            destroy()
            throw .transport(procedure: procedure, message: failure ?? reply.message ?? rpcMessage())
        }
    }

    // MARK: - Helpers

    private func rpcMessage() -> String {
        guard let text = rpc_get_error(rpc) else { return "unknown RPC error" }
        return String(cString: text)
    }

    private static func message(_ context: OpaquePointer) -> String {
        guard let text = nfs_get_error(context) else { return "unknown error" }
        return String(cString: text)
    }

    /// libnfs 4.0 says only "nfs_service failed" when the connection is refused.
    private static func describeMountFailure(_ message: String, _ endpoint: Endpoint) -> String {
        let target = "\(endpoint.server):\(endpoint.export)"
        if message.contains("nfs_service failed") {
            let ports = [endpoint.mountPort.map { "mount port \($0)" }, endpoint.nfsPort.map { "NFS port \($0)" }]
                .compactMap { $0 }
            let via = ports.isEmpty ? "ports from rpcbind" : ports.joined(separator: ", ")
            return "cannot mount \(target): the server does not answer (\(via))"
        }
        return "cannot mount \(target): \(message)"
    }

    /// At least 4 KiB, at most 1 MiB, 32 KiB when the server said nothing.
    private static func clampTransfer(_ value: UInt64) -> Int {
        value == 0 ? 32 * 1024 : Int(min(max(value, 4096), 1 << 20))
    }

    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let total = seconds.multipliedReportingOverflow(by: 1000).partialValue + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(1, total))
    }
}

/// The reply slot of one call: written by libnfs's callback on the calling thread, inside
/// `rpc_service` (or `nfs_destroy_context`).
private final class PendingReply {
    private(set) var isDone = false
    private(set) var status: Int32 = -1
    private(set) var message: String?
    var onSuccess: ((UnsafeMutableRawPointer) -> Void)?

    func complete(status: Int32, data: UnsafeMutableRawPointer?) {
        guard !isDone else { return }
        isDone = true
        self.status = status
        switch status {
        case RPC_STATUS_SUCCESS:
            if let data { onSuccess?(data) }
        case RPC_STATUS_ERROR:
            if let data { message = String(cString: data.assumingMemoryBound(to: CChar.self)) }
        case RPC_STATUS_CANCEL:
            message = "cancelled"
        default:
            break
        }
        onSuccess = nil
    }
}
