// The provisioner: class rules, placement, the claim and volume reconcilers, members,
// configuration and the assembly of them with the Kubernetes runtime and volume storage.
import RingCore
import KubeRuntime
import VolumeStorage

/// The engine's version string, reported by the daemon.
public enum EngineInfo {
    public static let version = "0.1.0-dev"
}
