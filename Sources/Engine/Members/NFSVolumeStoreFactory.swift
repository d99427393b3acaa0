// The store that reaches a configured member's export, mounted or direct.
package import VolumeStorage
import KubeRuntime

extension MemberConfiguration {
    /// The ``VolumeStore`` for this member:
    /// - `mode: mounted`: a ``MountedVolumeStore`` at ``mountPath`` (which
    ///   ``ProvisionerConfiguration/validate()`` requires), refusing to work unless a
    ///   filesystem is mounted there (unless `requireMountPoint` is false: tests, the demo);
    /// - `mode: direct`: a ``DirectNFSVolumeStore`` that mounts `address:export` over NFSv3
    ///   itself, each NFS call bounded by `nfsTimeout`, on ``nfsPort`` and ``mountPort`` when
    ///   set (else the ports the server's rpcbind gives).
    ///
    /// No I/O: the first call reaches the export (on the member's executor).
    package func makeVolumeStore(
        nfsTimeout: Duration = DirectNFSVolumeStore.Configuration.defaultTimeout, requireMountPoint: Bool = true
    ) throws(StorageError) -> any VolumeStore {
        switch mode {
        case .mounted:
            guard let mountPath else {
                throw .exportUnavailable(member: name, location: "\(address):\(export)", problem: .invalidMountPath)
            }
            return try MountedVolumeStore(configuration: .init(member: name, mountPath: mountPath, requireMountPoint: requireMountPoint))
        case .direct:
            return try DirectNFSVolumeStore(configuration: .init(
                member: name, server: address, export: export, timeout: nfsTimeout, nfsPort: nfsPort, mountPort: mountPort))
        }
    }
}
