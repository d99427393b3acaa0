// Shared fakes and helpers for the test targets.
public enum TestSupport {}
