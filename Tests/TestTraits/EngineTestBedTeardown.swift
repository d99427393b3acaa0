// A test trait that awaits the shutdown of every EngineTestBed a test started, so that no
// cluster, client or port outlives its test (a `defer` cannot await).
package import Testing
import TestSupport

package struct EngineTestBedTeardown: SuiteTrait, TestTrait, TestScoping {
    package var isRecursive: Bool { true }

    package func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        // The suite itself: nothing to set up; each of its test cases gets its own scope.
        guard testCase != nil else {
            try await function()
            return
        }
        let registry = EngineTestBedRegistry()
        do {
            try await EngineTestBed.$registry.withValue(registry) { try await function() }
        } catch {
            await registry.shutdownAll()
            throw error
        }
        await registry.shutdownAll()
    }
}

extension Trait where Self == EngineTestBedTeardown {
    /// Every EngineTestBed a test starts is shut down, awaited, when the test ends.
    package static var shutsDownTestBeds: Self { EngineTestBedTeardown() }
}
