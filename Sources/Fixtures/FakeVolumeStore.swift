// A VolumeStore wrapper that injects hangs and failures, for storage and engine tests.
import Engine
import KubeRuntime
package import VolumeStorage
import Foundation

/// Wraps a real ``VolumeStore`` (usually a ``MountedVolumeStore`` on a ``TempDirectory``) and
/// injects faults per operation: a **hang** (the calling thread blocks until
/// ``releaseHangs()``, like a `stat` on a dead hard NFS mount) or a **failure** (a given
/// ``StorageError``). Counts calls per operation.
///
/// ```swift
/// let fake = FakeVolumeStore(wrapping: store)
/// fake.inject(.hang)                  // every operation hangs
/// ... member call times out, member unhealthy ...
/// fake.clearFaults()                  // releases the hung threads too
/// ```
package final class FakeVolumeStore: VolumeStore, @unchecked Sendable {
    /// A fault for one operation (or all).
    package enum Fault: Sendable {
        /// Block the calling thread until ``FakeVolumeStore/releaseHangs()``.
        case hang
        /// Throw this error.
        case fail(StorageError)
        /// Throw a system-call error with this errno (EIO, ESTALE...).
        case failErrno(Int32)
    }

    package let wrapped: any VolumeStore
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var faults: [StorageOperation: Fault] = [:]
    private var allOperationsFault: Fault?
    private var releaseGeneration = 0
    private var hungNow = 0
    private var calls: [StorageOperation: Int] = [:]

    package init(wrapping store: any VolumeStore) {
        wrapped = store
    }

    package var member: String { wrapped.member }
    package var location: String { wrapped.location }

    /// Injects `fault` for `operation`, or for every operation when `nil`.
    package func inject(_ fault: Fault, for operation: StorageOperation? = nil) {
        condition.lock()
        defer { condition.unlock() }
        if let operation { faults[operation] = fault } else { allOperationsFault = fault }
    }

    /// Removes every fault and releases hung calls.
    package func clearFaults() {
        condition.lock()
        faults.removeAll()
        allOperationsFault = nil
        condition.unlock()
        releaseHangs()
    }

    /// Lets every currently hung call continue (to the real store).
    package func releaseHangs() {
        condition.lock()
        releaseGeneration += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Calls currently blocked in a hang.
    package var hungCalls: Int {
        condition.lock()
        defer { condition.unlock() }
        return hungNow
    }

    /// How many times `operation` was called (faulty calls included).
    package func callCount(_ operation: StorageOperation) -> Int {
        condition.lock()
        defer { condition.unlock() }
        return calls[operation, default: 0]
    }

    /// Total calls of all operations.
    package var totalCalls: Int {
        condition.lock()
        defer { condition.unlock() }
        return calls.values.reduce(0, +)
    }

    private func apply(_ operation: StorageOperation, path: String) throws(StorageError) {
        condition.lock()
        calls[operation, default: 0] += 1
        let fault = faults[operation] ?? allOperationsFault
        switch fault {
        case nil:
            condition.unlock()
        case .hang:
            hungNow += 1
            let generation = releaseGeneration
            while releaseGeneration == generation {
                condition.wait()
            }
            hungNow -= 1
            condition.unlock()
        case .fail(let error):
            condition.unlock()
            throw error
        case .failErrno(let code):
            condition.unlock()
            throw .systemCall(member: member, operation: operation, path: path, call: "injected", errno: code)
        }
    }

    package func stat(_ path: RelativePath) throws(StorageError) -> FileInfo? {
        try apply(.stat, path: path.description)
        return try wrapped.stat(path)
    }

    package func makeDirectory(_ path: RelativePath, mode: FileMode, parentMode: FileMode?) throws(StorageError) -> MakeDirectoryOutcome {
        try apply(.makeDirectory, path: path.description)
        return try wrapped.makeDirectory(path, mode: mode, parentMode: parentMode)
    }

    package func writeFile(_ path: RelativePath, contents: [UInt8], mode: FileMode) throws(StorageError) {
        try apply(.writeFile, path: path.description)
        try wrapped.writeFile(path, contents: contents, mode: mode)
    }

    package func readFile(_ path: RelativePath, maxBytes: Int) throws(StorageError) -> [UInt8]? {
        try apply(.readFile, path: path.description)
        return try wrapped.readFile(path, maxBytes: maxBytes)
    }

    package func rename(_ source: RelativePath, to destination: RelativePath) throws(StorageError) {
        try apply(.rename, path: source.description)
        try wrapped.rename(source, to: destination)
    }

    package func removeTree(_ path: RelativePath, budget: Duration?) throws(StorageError) -> RemoveTreeOutcome {
        try apply(.removeTree, path: path.description)
        return try wrapped.removeTree(path, budget: budget)
    }

    package func listDirectory(_ path: RelativePath, maxEntries: Int) throws(StorageError) -> [String]? {
        try apply(.listDirectory, path: path.description)
        return try wrapped.listDirectory(path, maxEntries: maxEntries)
    }

    package func setMode(_ path: RelativePath, mode: FileMode) throws(StorageError) {
        try apply(.setMode, path: path.description)
        try wrapped.setMode(path, mode: mode)
    }

    package func fileSystemStats() throws(StorageError) -> FileSystemStats {
        try apply(.fileSystemStats, path: ".")
        return try wrapped.fileSystemStats()
    }

    package func probe() throws(StorageError) {
        try apply(.probe, path: ".")
        try wrapped.probe()
    }
}
