internal import CXXHash

/// XXH3-64 from libxxhash (Debian libxxhash-dev).
public enum XXH3 {
    /// XXH3-64 of `bytes`, compiled inline from libxxhash's header (`XXH_INLINE_ALL`).
    /// `XXH3.hash("") == 0x2D06800538D394C2`.
    @inline(__always)
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        ncp_xxh3_64(bytes.baseAddress, bytes.count)
    }

    /// XXH3-64 through libxxhash.so's exported function (the same value; measured against
    /// the inline form by the Benchmarks target).
    public static func hashLinked(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        ncp_xxh3_64_linked(bytes.baseAddress, bytes.count)
    }

    /// XXH3-64 with a seed; the ring labels its virtual nodes this way (see ``RingSnapshot``).
    @inline(__always)
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        ncp_xxh3_64_seeded(bytes.baseAddress, bytes.count, seed)
    }

    /// XXH3-64 of a string's UTF-8 bytes.
    public static func hash(_ string: String) -> UInt64 {
        withUTF8Bytes(of: string) { hash($0) }
    }
}

/// Calls `body` with the UTF-8 bytes of `string` without copying them when the string is
/// native (always on Linux; small strings are spilled to the stack by the standard library).
@inline(__always)
func withUTF8Bytes<R>(of string: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let r = string.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
        return r
    }
    var copy = string
    copy.makeContiguousUTF8()
    return copy.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) })!
}
