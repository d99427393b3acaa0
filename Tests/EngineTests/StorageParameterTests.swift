// DeletePolicy resolution and the storage parameters of a StorageClass.
import Engine
import KubeRuntime
import VolumeStorage
import Testing
import TestSupport

@Suite("Storage parameters")
struct StorageParameterTests {
    @Test(arguments: [
        ([:], DeletePolicy.retain),
        (["onDelete": "delete"], .delete),
        (["onDelete": "Archive"], .archive),
        (["onDelete": "RETAIN", "deleteFile": "true"], .retain),
        (["onDelete": "delete", "archiveOnDelete": "true"], .delete),
        (["archiveOnDelete": "true"], .archive),
        (["archiveOnDelete": "T", "deleteFile": "true"], .archive),
        (["archiveOnDelete": "1", "deleteFile": "false"], .archive),
        (["archiveOnDelete": "false"], .retain),
        (["archiveOnDelete": "False", "deleteFile": "TRUE"], .delete),
        (["deleteFile": "t"], .delete),
        (["deleteFile": "0"], .retain),
    ] as [([String: String], DeletePolicy)])
    func resolve_followsTheDocumentedRule(_ parameters: [String: String], _ expected: DeletePolicy) throws {
        #expect(try DeletePolicy.resolve(parameters: parameters) == expected)
    }

    @Test(arguments: ["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"])
    func parseBool_acceptsGoParseBoolSpellings(_ value: String) throws {
        #expect(try DeletePolicy.parseBool(value, key: "k") == ["1", "t", "T", "TRUE", "true", "True"].contains(value))
    }

    @Test(arguments: ["yes", "no", "", " true", "tRuE", "2", "on"])
    func parseBool_refusesOtherValues_namingKeyAndValue(_ value: String) {
        #expect(throws: StorageParameterError.invalidBool(key: "archiveOnDelete", value: value)) {
            try DeletePolicy.resolve(parameters: ["archiveOnDelete": value])
        }
        // Even when onDelete decides, a typo elsewhere is reported.
        #expect(throws: StorageParameterError.invalidBool(key: "deleteFile", value: value)) {
            try DeletePolicy.resolve(parameters: ["onDelete": "delete", "deleteFile": value])
        }
    }

    @Test(arguments: ["remove", "", "keep"])
    func onDelete_refusesUnknownValues(_ value: String) {
        #expect(throws: StorageParameterError.invalidOnDelete(value: value)) {
            try DeletePolicy.resolve(parameters: ["onDelete": value])
        }
    }

    @Test func storageClassParameters_defaultsAreTheOriginals() throws {
        let parameters = try StorageClassParameters(parsing: ["unrelated": "x"])
        #expect(parameters.pathPattern == .default)
        #expect(parameters.deletePolicy == .retain)
        #expect(parameters.directoryMode == FileMode(0o777))
    }

    @Test func storageClassParameters_parseEveryKey() throws {
        let parameters = try StorageClassParameters(parsing: [
            "pathPattern": "${.PVC.namespace}/${.PVC.name}", "mountPermissions": "0750", "onDelete": "archive",
        ])
        #expect(parameters.pathPattern.source == "${.PVC.namespace}/${.PVC.name}")
        #expect(parameters.directoryMode == FileMode(0o750))
        #expect(parameters.deletePolicy == .archive)
    }

    @Test func storageClassParameters_errorsNameTheKey() {
        #expect(throws: StorageParameterError.invalidMountPermissions(value: "rwx")) {
            try StorageClassParameters(parsing: ["mountPermissions": "rwx"])
        }
        #expect(throws: StorageParameterError.invalidPathPattern(value: "../x", problem: .dotSegment("..", position: 0))) {
            try StorageClassParameters(parsing: ["pathPattern": "../x"])
        }
        let description = StorageParameterError.invalidBool(key: "archiveOnDelete", value: "yes").description
        #expect(description.contains("archiveOnDelete") && description.contains("'yes'"))
    }
}
