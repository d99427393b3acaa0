// The provisioning engine: Kubernetes client, watch pipeline, reconcilers, NFS member
// actors and leader election. Filled in by the client, engine and storage issues.
import RingCore

/// The engine's version string, reported by the daemon.
public enum EngineInfo {
    public static let version = "0.1.0-dev"
}
