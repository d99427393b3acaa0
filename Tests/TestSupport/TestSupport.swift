// Shared fakes and helpers for the test targets.
//
// The real-server harness (GaneshaServer, ChildProcess, HelperThread, LoopbackPort...) is
// a product library, NFSServerHarness, used by `demo --real-nfs` too; it is re-exported
// here so that tests need only `import TestSupport`.
@_exported public import NFSServerHarness
// The fixtures the benchmarks share (test bed, temporary directories, fake store...).
@_exported public import Fixtures

package enum TestSupport {}
