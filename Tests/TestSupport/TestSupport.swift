// Shared fakes and helpers for the test targets.
//
// The real-server harness (GaneshaServer, ChildProcess, HelperThread, LoopbackPort...) is
// a product library, NFSServerHarness, used by `demo --real-nfs` too; it is re-exported
// here so that tests need only `import TestSupport`.
@_exported public import NFSServerHarness

public enum TestSupport {}
