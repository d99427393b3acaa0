// LocalCluster: an in-process Kubernetes API server with the PV binder, for tests and `demo`.
/// Placeholder until the LocalCluster issue lands.
public enum LocalClusterInfo {
    public static let apiVersion = "v1.33.0-localcluster"
}
