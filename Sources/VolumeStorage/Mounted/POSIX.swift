// Thin helpers over the *at() system calls used by MountedVolumeStore.
import Glibc

/// System-call helpers. Every function returns the errno instead of throwing, so that the
/// store can attach the member, operation and path to the error.
enum POSIX {
    /// Opening a directory: never through a symlink, never leaked to a child process.
    static let directoryFlags: Int32 = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC

    /// The kind of entry described by a `stat` buffer.
    static func kind(of info: stat) -> FileKind {
        switch info.st_mode & S_IFMT {
        case S_IFDIR: .directory
        case S_IFREG: .regularFile
        case S_IFLNK: .symbolicLink
        default: .other
        }
    }

    static func fileInfo(from info: stat) -> FileInfo {
        FileInfo(
            kind: kind(of: info), mode: FileMode(rawValue: UInt32(info.st_mode)),
            uid: info.st_uid, gid: info.st_gid, size: UInt64(max(0, info.st_size)))
    }

    /// `fstatat(AT_SYMLINK_NOFOLLOW)`: the entry itself, or its errno.
    static func lstat(in directory: Int32, _ name: UnsafePointer<CChar>) -> Result<stat, Errno> {
        var info = stat()
        if fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            return .success(info)
        }
        return .failure(Errno(errno))
    }

    /// `fstat` on an open descriptor.
    static func fstat(_ fd: Int32) -> Result<stat, Errno> {
        var info = stat()
        if Glibc.fstat(fd, &info) == 0 {
            return .success(info)
        }
        return .failure(Errno(errno))
    }

    /// `renameat2(RENAME_NOREPLACE)`, found at run time (the Glibc module does not export it
    /// without _GNU_SOURCE). `nil` when the C library lacks it.
    private static let renameat2Address: UInt? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else {
            return nil
        }
        return UInt(bitPattern: symbol)
    }()

    private typealias RenameAt2 = @convention(c) (
        Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32
    ) -> Int32

    /// Renames without ever replacing the destination.
    ///
    /// Uses `renameat2(RENAME_NOREPLACE)` where the filesystem supports it (ext4, xfs,
    /// tmpfs...). The Linux NFS client does not (EINVAL), nor do old kernels (ENOSYS); then
    /// it checks that the destination is absent and uses `renameat`. That fallback has a
    /// window in which a concurrent creator could be replaced; only the provisioner writes
    /// the names it renames to (reserved area), and the engine serialises work per path.
    /// Returns 0 or the errno (EEXIST when the destination exists).
    static func renameNoReplace(
        _ fromDirectory: Int32, _ from: UnsafePointer<CChar>,
        _ toDirectory: Int32, _ to: UnsafePointer<CChar>
    ) -> Int32 {
        if let address = renameat2Address, let pointer = UnsafeRawPointer(bitPattern: address) {
            let call = unsafeBitCast(pointer, to: RenameAt2.self)
            if call(fromDirectory, from, toDirectory, to, 1 /* RENAME_NOREPLACE */) == 0 {
                return 0
            }
            let code = errno
            if code != EINVAL && code != ENOSYS && code != ENOTSUP && code != EOPNOTSUPP {
                return code
            }
        }
        switch lstat(in: toDirectory, to) {
        case .success:
            return EEXIST
        case .failure(let error) where error.code != ENOENT:
            return error.code
        case .failure:
            break
        }
        if renameat(fromDirectory, from, toDirectory, to) == 0 {
            return 0
        }
        let code = errno
        // A non-empty directory at the destination appeared in the window.
        return code == ENOTEMPTY ? EEXIST : code
    }

    private static let setNameAddress: UInt? = {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_setname_np").map { UInt(bitPattern: $0) }
    }()

    private typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>?) -> Int32

    /// Names the calling thread as `ps -L`/`top -H` show it: the kernel keeps 15 bytes, so
    /// the name is cut there. Found at run time, like renameat2 (not exported by Glibc's
    /// module); without it the thread keeps its inherited name.
    static func nameCurrentThread(_ name: String) {
        guard let address = setNameAddress, let pointer = UnsafeRawPointer(bitPattern: address) else { return }
        var bytes = Array(name.utf8.prefix(15))
        while !bytes.isEmpty, String(validating: bytes, as: UTF8.self) == nil { bytes.removeLast() }
        let call = unsafeBitCast(pointer, to: SetName.self)
        _ = (bytes.map { CChar(bitPattern: $0) } + [0]).withUnsafeBufferPointer { call(pthread_self(), $0.baseAddress) }
    }

    /// Writes every byte, retrying short writes and EINTR. Returns 0 or the errno.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.write(fd, buffer.baseAddress.map { $0 + offset }, bytes.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return 0
    }

    /// Reads up to `limit + 1` bytes, so that the caller can tell "exactly limit" from
    /// "more". Returns the bytes or the errno.
    static func readUpTo(_ fd: Int32, limit: Int) -> Result<[UInt8], Errno> {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while result.count <= limit {
            let count = chunk.withUnsafeMutableBytes { buffer in
                Glibc.read(fd, buffer.baseAddress, buffer.count)
            }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(Errno(errno))
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
        }
        return .success(result)
    }

    /// A name made of 16 random hex digits after `prefix`, for temporary entries.
    static func randomName(prefix: String) -> String {
        let value = UInt64.random(in: .min ... .max)
        let hex = String(value, radix: 16)
        return prefix + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The name in a `dirent`, as raw bytes with the terminating NUL (names need not be
    /// UTF-8, and must be passed back to `unlinkat` unchanged).
    static func name(of entry: UnsafeMutablePointer<dirent>) -> [CChar] {
        withUnsafePointer(to: &entry.pointee.d_name) { tuple in
            tuple.withMemoryRebound(to: CChar.self, capacity: 256) { start in
                let length = strnlen(start, 255)
                return Array(UnsafeBufferPointer(start: start, count: length)) + [0]
            }
        }
    }
}

/// An errno value, typed so that `Result` can carry it.
struct Errno: Error, Hashable {
    var code: Int32
    init(_ code: Int32) { self.code = code }
}
