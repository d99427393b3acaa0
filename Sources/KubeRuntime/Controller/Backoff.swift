/// Per-key exponential backoff for failed reconciles: `base × 2^(failures-1)`, capped at
/// `maximum`, never giving up.
///
/// Defaults are csi-provisioner's (`--retry-interval-start` 1 s, `--retry-interval-max`
/// 5 min; kubernetes-csi/external-provisioner cmd/csi-provisioner/csi-provisioner.go).
/// The original provisioner's library starts at 15 s (a transient conflict then costs 15 s)
/// and, worse, stops retrying a claim after 15 failures until the process restarts
/// (sig-storage-lib-external-provisioner controller.go: re-enqueued only when
/// `NumRequeues == 0`). Here a key keeps retrying at `maximum` for as long as it fails,
/// and a success resets it.
public struct ExponentialBackoff: Sendable, Hashable {
    public var base: Duration
    package var maximum: Duration

    package init(base: Duration = .seconds(1), maximum: Duration = .seconds(300)) {
        precondition(base > .zero && maximum >= base, "backoff needs 0 < base <= maximum")
        self.base = base
        self.maximum = maximum
    }

    public static let `default` = ExponentialBackoff()

    /// The delay before retry number `failures` (1 for the first failure).
    package func delay(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        var d = base
        var n = 1
        while n < failures && d < maximum {
            d = d * 2
            n += 1
        }
        return min(d, maximum)
    }
}
