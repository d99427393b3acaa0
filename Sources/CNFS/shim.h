#ifndef NCP_CNFS_SHIM_H
#define NCP_CNFS_SHIM_H
/*
 * libnfs (Debian libnfs-dev, 4.0.0 on Debian 12) for the direct NFS members
 * (Sources/Engine/Storage/DirectNFS*.swift).
 *
 * Two layers of libnfs are used:
 *  - libnfs.h: the context, its settings (timeout, ports, auto-reconnect) and the
 *    synchronous nfs_mount(), which asks MOUNT for the export's root file handle;
 *  - libnfs-raw.h / libnfs-raw-nfs.h: the raw NFSv3 procedures (LOOKUP, MKDIR, READDIRPLUS,
 *    RENAME...) on file handles, which the store drives with its own poll loop. The
 *    path-based high-level calls (nfs_mkdir2, nfs_opendir, nfs_rename...) resolve every
 *    intermediate symlink (lib/nfs_v3.c, nfs3_lookup_path_async_internal), which the
 *    VolumeStore contract forbids; handles never are.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/time.h>
#include <poll.h>
#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

/*
 * libnfs exports nfs_get_fh() (the handle of an open file) but keeps struct nfs_fh in
 * include/libnfs-private.h, where it is { int len; char *val; } from 4.0 to 7.0. libnfs
 * 4.0 has no other way to get the export's root handle after nfs_mount().
 */
struct ncp_nfs_fh_layout {
    int len;
    char *val;
};

static inline int ncp_nfs_fh_length(struct nfs_fh *fh) {
    return ((struct ncp_nfs_fh_layout *)(void *)fh)->len;
}

static inline const char *ncp_nfs_fh_bytes(struct nfs_fh *fh) {
    return ((struct ncp_nfs_fh_layout *)(void *)fh)->val;
}

#endif
