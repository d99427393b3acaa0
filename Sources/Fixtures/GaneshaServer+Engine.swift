// The engine's view of a harness nfs-ganesha: a direct store's configuration, a direct
// member of the configuration.
package import Engine
import KubeRuntime
package import VolumeStorage
package import NFSServerHarness

extension GaneshaServer {
    /// The direct store's configuration for `export` (default: the first), with this
    /// server's ports, so that no rpcbind lookup is needed.
    package func storeConfiguration(
        member: String, export: String? = nil, timeout: Duration = .seconds(2)
    ) -> DirectNFSVolumeStore.Configuration {
        DirectNFSVolumeStore.Configuration(
            member: member, server: address, export: exportPath(export), timeout: timeout, nfsPort: nfsPort, mountPort: mountPort)
    }

    /// A `mode: direct` member on `export` (default: the first) with this server's ports.
    package func memberConfiguration(
        name: String, export: String? = nil, weight: Int = 1, state: MemberConfiguration.State = .active
    ) -> MemberConfiguration {
        MemberConfiguration(name: name, address: address, export: exportPath(export), mountPath: nil, weight: weight,
                            state: state, mode: .direct, nfsPort: nfsPort, mountPort: mountPort)
    }
}
