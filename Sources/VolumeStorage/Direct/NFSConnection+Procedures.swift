// The NFSv3 procedures the direct store needs (RFC 1813 section 3.3), each on file handles.
import CNFS
import Glibc

extension NFSConnection {
    /// LOOKUP `name` in `directory`: the entry itself, never a symlink's target (NFS servers
    /// do not follow links in LOOKUP). Attributes come with the reply, or from GETATTR.
    func lookup(_ name: NFSName, in directory: NFSFileHandle) throws(NFSCallError) -> (NFSFileHandle, NFSAttributes) {
        let (handle, attributes): (NFSFileHandle, NFSAttributes?) = try directory.withRaw { dir throws(NFSCallError) in
            try name.withCString { cName throws(NFSCallError) in
                var args = LOOKUP3args()
                args.what.dir = dir
                args.what.name = cName
                return try call("LOOKUP", issue: { rpc_nfs3_lookup_async($0, $1, &args, $2) }) { data in
                    let res = data.assumingMemoryBound(to: LOOKUP3res.self).pointee
                    guard res.status == NFS3_OK else { return .failure(Self.statusError("LOOKUP", res.status)) }
                    let ok = res.LOOKUP3res_u.resok
                    return .success((NFSFileHandle(raw: ok.object), NFSAttributes.optional(ok.obj_attributes)))
                }
            }
        }
        if let attributes { return (handle, attributes) }
        return (handle, try getAttributes(handle))
    }

    /// GETATTR.
    func getAttributes(_ handle: NFSFileHandle) throws(NFSCallError) -> NFSAttributes {
        try handle.withRaw { object throws(NFSCallError) in
            var args = GETATTR3args()
            args.object = object
            return try call("GETATTR", issue: { rpc_nfs3_getattr_async($0, $1, &args, $2) }) { data in
                let res = data.assumingMemoryBound(to: GETATTR3res.self).pointee
                guard res.status == NFS3_OK else { return .failure(Self.statusError("GETATTR", res.status)) }
                return .success(NFSAttributes(res.GETATTR3res_u.resok.obj_attributes))
            }
        }
    }

    /// MKDIR with `mode`; the handle of the new directory (LOOKUP when the server sends
    /// none). EEXIST is the caller's to interpret.
    func makeDirectory(_ name: NFSName, in directory: NFSFileHandle, mode: FileMode) throws(NFSCallError) -> NFSFileHandle {
        let handle: NFSFileHandle? = try directory.withRaw { dir throws(NFSCallError) in
            try name.withCString { cName throws(NFSCallError) in
                var args = MKDIR3args()
                args.where.dir = dir
                args.where.name = cName
                args.attributes.mode.set_it = 1
                args.attributes.mode.set_mode3_u.mode = mode.rawValue
                return try call("MKDIR", issue: { rpc_nfs3_mkdir_async($0, $1, &args, $2) }) { data in
                    let res = data.assumingMemoryBound(to: MKDIR3res.self).pointee
                    guard res.status == NFS3_OK else { return .failure(Self.statusError("MKDIR", res.status)) }
                    let obj = res.MKDIR3res_u.resok.obj
                    return .success(obj.handle_follows != 0 ? NFSFileHandle(raw: obj.post_op_fh3_u.handle) : nil)
                }
            }
        }
        if let handle { return handle }
        return try lookup(name, in: directory).0
    }

    /// SETATTR of the permission bits only; on a handle, so never through a symlink.
    func setMode(_ handle: NFSFileHandle, mode: FileMode) throws(NFSCallError) {
        try handle.withRaw { object throws(NFSCallError) in
            var args = SETATTR3args()
            args.object = object
            args.new_attributes.mode.set_it = 1
            args.new_attributes.mode.set_mode3_u.mode = mode.rawValue
            try call("SETATTR", issue: { rpc_nfs3_setattr_async($0, $1, &args, $2) }) { data in
                let res = data.assumingMemoryBound(to: SETATTR3res.self).pointee
                return res.status == NFS3_OK ? .success(()) : .failure(Self.statusError("SETATTR", res.status))
            }
        }
    }

    /// CREATE in GUARDED mode (fails with EEXIST if the name exists, like `O_CREAT|O_EXCL`)
    /// with `mode`.
    func createExclusive(_ name: NFSName, in directory: NFSFileHandle, mode: FileMode) throws(NFSCallError) -> NFSFileHandle {
        let handle: NFSFileHandle? = try directory.withRaw { dir throws(NFSCallError) in
            try name.withCString { cName throws(NFSCallError) in
                var args = CREATE3args()
                args.where.dir = dir
                args.where.name = cName
                args.how.mode = GUARDED
                args.how.createhow3_u.obj_attributes.mode.set_it = 1
                args.how.createhow3_u.obj_attributes.mode.set_mode3_u.mode = mode.rawValue
                return try call("CREATE", issue: { rpc_nfs3_create_async($0, $1, &args, $2) }) { data in
                    let res = data.assumingMemoryBound(to: CREATE3res.self).pointee
                    guard res.status == NFS3_OK else { return .failure(Self.statusError("CREATE", res.status)) }
                    let obj = res.CREATE3res_u.resok.obj
                    return .success(obj.handle_follows != 0 ? NFSFileHandle(raw: obj.post_op_fh3_u.handle) : nil)
                }
            }
        }
        if let handle { return handle }
        return try lookup(name, in: directory).0
    }

    /// WRITE every byte with FILE_SYNC (stable on the server's disk when it answers, so no
    /// COMMIT is needed), in chunks the server accepts; short writes are continued.
    func writeAll(_ handle: NFSFileHandle, _ contents: [UInt8]) throws(NFSCallError) {
        var offset = 0
        while offset < contents.count {
            let count = min(maxWrite, contents.count - offset)
            var chunk = contents[offset..<(offset + count)].map { CChar(bitPattern: $0) }
            let written: Int = try handle.withRaw { file throws(NFSCallError) in
                try chunk.withUnsafeMutableBufferPointer { buffer throws(NFSCallError) in
                    var args = WRITE3args()
                    args.file = file
                    args.offset = UInt64(offset)
                    args.count = UInt32(count)
                    args.stable = FILE_SYNC
                    args.data.data_len = u_int(count)
                    args.data.data_val = buffer.baseAddress
                    return try call("WRITE", issue: { rpc_nfs3_write_async($0, $1, &args, $2) }) { data in
                        let res = data.assumingMemoryBound(to: WRITE3res.self).pointee
                        guard res.status == NFS3_OK else { return .failure(Self.statusError("WRITE", res.status)) }
                        return .success(Int(res.WRITE3res_u.resok.count))
                    }
                }
            }
            if written <= 0 {
                throw .transport(procedure: "WRITE", message: "the server wrote 0 of \(count) bytes")
            }
            offset += written
        }
    }

    /// READ up to `limit` bytes from the start (stops at EOF).
    func read(_ handle: NFSFileHandle, limit: Int) throws(NFSCallError) -> [UInt8] {
        var result: [UInt8] = []
        while result.count < limit {
            let want = min(maxRead, limit - result.count)
            let (bytes, eof): ([UInt8], Bool) = try handle.withRaw { file throws(NFSCallError) in
                var args = READ3args()
                args.file = file
                args.offset = UInt64(result.count)
                args.count = UInt32(want)
                return try call("READ", issue: { rpc_nfs3_read_async($0, $1, &args, $2) }) { data in
                    let res = data.assumingMemoryBound(to: READ3res.self).pointee
                    guard res.status == NFS3_OK else { return .failure(Self.statusError("READ", res.status)) }
                    let ok = res.READ3res_u.resok
                    let length = min(Int(ok.data.data_len), want)
                    var bytes: [UInt8] = []
                    if let start = ok.data.data_val, length > 0 {
                        bytes = UnsafeRawBufferPointer(start: start, count: length).map { $0 }
                    }
                    return .success((bytes, ok.eof != 0))
                }
            }
            result.append(contentsOf: bytes)
            if eof || bytes.isEmpty { break }
        }
        return result
    }

    /// RENAME. NFSv3 has no "no replace" flag: callers check the destination first.
    func rename(_ name: NFSName, in directory: NFSFileHandle, to newName: NFSName, in newDirectory: NFSFileHandle) throws(NFSCallError) {
        try directory.withRaw { from throws(NFSCallError) in
            try newDirectory.withRaw { to throws(NFSCallError) in
                try name.withCString { cFrom throws(NFSCallError) in
                    try newName.withCString { cTo throws(NFSCallError) in
                        var args = RENAME3args()
                        args.from.dir = from
                        args.from.name = cFrom
                        args.to.dir = to
                        args.to.name = cTo
                        try call("RENAME", issue: { rpc_nfs3_rename_async($0, $1, &args, $2) }) { data in
                            let res = data.assumingMemoryBound(to: RENAME3res.self).pointee
                            return res.status == NFS3_OK ? .success(()) : .failure(Self.statusError("RENAME", res.status))
                        }
                    }
                }
            }
        }
    }

    /// REMOVE a non-directory entry by name (a symlink is removed, never followed).
    func remove(_ name: NFSName, in directory: NFSFileHandle) throws(NFSCallError) {
        try directory.withRaw { dir throws(NFSCallError) in
            try name.withCString { cName throws(NFSCallError) in
                var args = REMOVE3args()
                args.object.dir = dir
                args.object.name = cName
                try call("REMOVE", issue: { rpc_nfs3_remove_async($0, $1, &args, $2) }) { data in
                    let res = data.assumingMemoryBound(to: REMOVE3res.self).pointee
                    return res.status == NFS3_OK ? .success(()) : .failure(Self.statusError("REMOVE", res.status))
                }
            }
        }
    }

    /// RMDIR an empty directory by name.
    func removeDirectory(_ name: NFSName, in directory: NFSFileHandle) throws(NFSCallError) {
        try directory.withRaw { dir throws(NFSCallError) in
            try name.withCString { cName throws(NFSCallError) in
                var args = RMDIR3args()
                args.object.dir = dir
                args.object.name = cName
                try call("RMDIR", issue: { rpc_nfs3_rmdir_async($0, $1, &args, $2) }) { data in
                    let res = data.assumingMemoryBound(to: RMDIR3res.self).pointee
                    return res.status == NFS3_OK ? .success(()) : .failure(Self.statusError("RMDIR", res.status))
                }
            }
        }
    }

    /// The first page of READDIRPLUS (cookie 0), without `.` and `..`: names with their
    /// attributes and handles. Callers that remove what they list just read the first page
    /// again until it is empty, so no cookie survives a change of the directory.
    func readDirectoryFirstPage(_ directory: NFSFileHandle) throws(NFSCallError) -> [NFSDirectoryEntry] {
        try readDirectoryPage(directory, after: .start).entries
    }

    /// Where a READDIRPLUS listing continues: the last entry's cookie and the directory's
    /// cookie verifier, as the server returned them (RFC 1813, section 3.3.17).
    struct DirectoryCursor: Sendable {
        var cookie: UInt64
        var verifier: (CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar)
        static let start = DirectoryCursor(cookie: 0, verifier: (0, 0, 0, 0, 0, 0, 0, 0))
    }

    /// One page of READDIRPLUS from `cursor`, without `.` and `..`; `next` is `nil` at the
    /// end of the directory.
    func readDirectoryPage(
        _ directory: NFSFileHandle, after cursor: DirectoryCursor
    ) throws(NFSCallError) -> (entries: [NFSDirectoryEntry], next: DirectoryCursor?) {
        try directory.withRaw { dir throws(NFSCallError) in
            var args = READDIRPLUS3args()
            args.dir = dir
            args.cookie = cursor.cookie
            args.cookieverf = cursor.verifier
            args.dircount = 8 * 1024
            args.maxcount = 64 * 1024
            return try call("READDIRPLUS", issue: { rpc_nfs3_readdirplus_async($0, $1, &args, $2) }) { data in
                let res = data.assumingMemoryBound(to: READDIRPLUS3res.self).pointee
                guard res.status == NFS3_OK else { return .failure(Self.statusError("READDIRPLUS", res.status)) }
                let ok = res.READDIRPLUS3res_u.resok
                var entries: [NFSDirectoryEntry] = []
                var last = cursor.cookie
                var next = ok.reply.entries
                while let entry = next?.pointee {
                    next = entry.nextentry
                    last = entry.cookie
                    guard let cName = entry.name else { continue }
                    let name = NFSName(bytes: Array(UnsafeRawBufferPointer(start: cName, count: strlen(cName))))
                    if name.isDotOrDotDot { continue }
                    let handle = entry.name_handle.handle_follows != 0 ? NFSFileHandle(raw: entry.name_handle.post_op_fh3_u.handle) : nil
                    entries.append(NFSDirectoryEntry(
                        name: name, attributes: NFSAttributes.optional(entry.name_attributes), handle: handle))
                }
                let more = ok.reply.eof == 0 && last != cursor.cookie
                return .success((entries, more ? DirectoryCursor(cookie: last, verifier: ok.cookieverf) : nil))
            }
        }
    }

    /// FSSTAT: total bytes and bytes available to the caller (`abytes`).
    func fileSystemStats(_ handle: NFSFileHandle) throws(NFSCallError) -> FileSystemStats {
        try handle.withRaw { root throws(NFSCallError) in
            var args = FSSTAT3args()
            args.fsroot = root
            return try call("FSSTAT", issue: { rpc_nfs3_fsstat_async($0, $1, &args, $2) }) { data in
                let res = data.assumingMemoryBound(to: FSSTAT3res.self).pointee
                guard res.status == NFS3_OK else { return .failure(Self.statusError("FSSTAT", res.status)) }
                let ok = res.FSSTAT3res_u.resok
                return .success(FileSystemStats(totalBytes: ok.tbytes, availableBytes: ok.abytes))
            }
        }
    }

    static func statusError(_ procedure: String, _ status: nfsstat3) -> NFSCallError {
        let raw = Int32(bitPattern: status.rawValue)
        return .status(procedure: procedure, status: raw, errno: NFSCallError.errno(forStatus: raw))
    }
}
