#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory for a ring's arrays. Arrays of 1 MiB and more are aligned to 2 MiB and marked
/// `MADV_HUGEPAGE` on Linux: a lookup in a 1000-member ring makes two random reads in
/// about 5 MiB, and with 4 KiB pages each one is also a TLB miss (1,280 pages, more than
/// the second-level TLB holds); with transparent huge pages in `madvise` mode (the default
/// here) three 2 MiB pages cover it. Smaller arrays use the ordinary allocator.
enum LargeAllocation {
    static let hugePage = 2 << 20

    static func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let bytes = count * MemoryLayout<T>.stride
        #if os(Linux)
        if bytes >= 1 << 20 {
            var raw: UnsafeMutableRawPointer?
            let rounded = (bytes + hugePage - 1) / hugePage * hugePage
            if posix_memalign(&raw, hugePage, rounded) == 0, let raw {
                // Advice only: if the kernel declines, the memory still works with small pages.
                _ = madvise(raw, rounded, MADV_HUGEPAGE)
                return raw.bindMemory(to: T.self, capacity: count)
            }
        }
        #endif
        return UnsafeMutablePointer<T>.allocate(capacity: count)
    }

    static func free<T>(_ pointer: UnsafeMutablePointer<T>) {
        // posix_memalign memory and Swift's allocate both come from malloc on Linux.
        #if os(Linux)
        Glibc.free(pointer)
        #else
        pointer.deallocate()
        #endif
    }
}
