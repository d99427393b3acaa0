public import CoreMetrics
import Foundation
import KubeRuntime
import VolumeStorage

/// The engine's metrics through swift-metrics (the daemon exports them in Prometheus
/// format). Names follow sig-storage-lib's (`controller_persistentvolumeclaim_provision_*`)
/// in spirit, under one `nfs_provisioner_` prefix, with the labels operators filter by:
/// class, member, outcome.
///
/// | metric | type | labels |
/// | --- | --- | --- |
/// | `nfs_provisioner_provision_total` | counter | class, member, outcome (success, failed, refused) |
/// | `nfs_provisioner_provision_duration_seconds` | timer | class, member |
/// | `nfs_provisioner_delete_total` | counter | member, policy, outcome |
/// | `nfs_provisioner_delete_duration_seconds` | timer | member, policy |
/// | `nfs_provisioner_placement_total` | counter | member, reason (ring, reuse, spill-over) |
/// | `nfs_provisioner_member_healthy` | gauge | member (1 healthy, 0 not) |
/// | `nfs_provisioner_member_available_bytes` | gauge | member |
/// | `nfs_provisioner_queue_depth` | gauge | queue (claims, volumes) |
/// | `nfs_provisioner_events_dropped_total` | counter | |
public struct EngineMetrics: Sendable {
    let factory: any MetricsFactory

    /// - Parameter factory: where metrics go; the process-wide `MetricsSystem.factory` by
    ///   default, a test factory in tests.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    package func provisioned(className: String, member: String, outcome: String, duration: Duration?) {
        Counter(label: "nfs_provisioner_provision_total", dimensions: [("class", className), ("member", member), ("outcome", outcome)], factory: factory).increment()
        if let duration {
            Timer(label: "nfs_provisioner_provision_duration_seconds", dimensions: [("class", className), ("member", member)], factory: factory)
                .recordNanoseconds(Self.nanoseconds(duration))
        }
    }

    package func deleted(member: String, policy: String, outcome: String, duration: Duration?) {
        Counter(label: "nfs_provisioner_delete_total", dimensions: [("member", member), ("policy", policy), ("outcome", outcome)], factory: factory).increment()
        if let duration {
            Timer(label: "nfs_provisioner_delete_duration_seconds", dimensions: [("member", member), ("policy", policy)], factory: factory)
                .recordNanoseconds(Self.nanoseconds(duration))
        }
    }

    package func placed(member: String, reason: String) {
        Counter(label: "nfs_provisioner_placement_total", dimensions: [("member", member), ("reason", reason)], factory: factory).increment()
    }

    package func memberHealth(member: String, healthy: Bool, availableBytes: UInt64?) {
        Gauge(label: "nfs_provisioner_member_healthy", dimensions: [("member", member)], factory: factory).record(healthy ? 1 : 0)
        if let availableBytes {
            Gauge(label: "nfs_provisioner_member_available_bytes", dimensions: [("member", member)], factory: factory).record(Double(availableBytes))
        }
    }

    /// Ownership records per member in the index, and whether its last listing succeeded.
    package func memberRecords(member: String, count: Int, loaded: Bool) {
        Gauge(label: "nfs_provisioner_member_records", dimensions: [("member", member)], factory: factory).record(Double(count))
        Gauge(label: "nfs_provisioner_member_records_loaded", dimensions: [("member", member)], factory: factory).record(loaded ? 1 : 0)
    }

    /// Record files that could not be read when a member's records were listed.
    package func recordProblems(member: String, count: Int) {
        Counter(label: "nfs_provisioner_record_problems_total", dimensions: [("member", member)], factory: factory).increment(by: count)
    }

    /// Orphaned volumes found after a crash: `removed` (empty) or `kept` (not empty).
    package func orphans(member: String, action: String, count: Int) {
        Counter(label: "nfs_provisioner_orphans_total", dimensions: [("member", member), ("action", action)], factory: factory).increment(by: count)
    }

    package func queueDepth(_ queue: String, _ depth: Int) {
        Gauge(label: "nfs_provisioner_queue_depth", dimensions: [("queue", queue)], factory: factory).record(Double(depth))
    }

    package func eventsDropped(_ count: Int) {
        guard count > 0 else { return }
        Counter(label: "nfs_provisioner_events_dropped_total", dimensions: [], factory: factory).increment(by: count)
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let c = d.components
        return c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000
    }
}
