// DirectNFSVolumeStore: the same store contract as the mounted store, against a real
// nfs-ganesha on loopback (one server for the suite, one export per contract case).
import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import TestSupport
import Testing

/// The suite's server, set by ``GaneshaContractServer`` for the tests inside its scope.
enum DirectNFSContractServer {
    @TaskLocal static var current: GaneshaServer?

    /// The export that contract case `contract` runs on: its own, so cases run in parallel.
    static func exportName(_ contract: StorageContract) -> String {
        "contract-\(StorageContract.allCases.firstIndex(of: contract) ?? 0)"
    }
}

/// Starts one nfs-ganesha with an export per contract case around the whole suite and
/// stops it after: 37 cases share one ~0.2 s start instead of 37. If the server cannot be
/// started the suite fails with the helper's reason.
struct GaneshaContractServer: SuiteTrait, TestScoping {
    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let exports = StorageContract.allCases.map { GaneshaServer.Export(name: DirectNFSContractServer.exportName($0)) }
        let server = try await GaneshaServer.start(exports: exports)
        defer { server.stop() }
        try await DirectNFSContractServer.$current.withValue(server) {
            try await function()
        }
    }
}

extension Trait where Self == GaneshaContractServer {
    /// One nfs-ganesha for the suite (see ``GaneshaContractServer``).
    static var ganeshaContractServer: Self { Self() }
}

@Suite("DirectNFSVolumeStore contract (nfs-ganesha, NFSv3)", .ganeshaContractServer)
struct DirectNFSStoreContractTests {
    @Test(arguments: StorageContract.allCases)
    func contract(_ contract: StorageContract) throws {
        let server = try #require(DirectNFSContractServer.current, "the suite's nfs-ganesha is not running")
        let outside = try TempDirectory(prefix: "ncp-nfs-outside")
        defer { outside.remove() }
        try populateOutside(outside.path)
        let name = DirectNFSContractServer.exportName(contract)
        let store = try DirectNFSVolumeStore(configuration: server.storeConfiguration(member: "nfs-a", export: name))
        let fixture = StoreContractFixture(
            store: store, exportDirectory: server.exportDirectory(name), outsideDirectory: outside.path)
        try contract.run(on: fixture)
    }
}
