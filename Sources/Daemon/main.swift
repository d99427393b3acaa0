// Placeholder entry point until the daemon issue lands.
import RingCore
print("nfs-cluster-provisioner \(RingConfiguration.default)")
