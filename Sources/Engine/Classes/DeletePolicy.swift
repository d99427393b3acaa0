// What happens to a volume's directory when its PV is deleted.
import KubeRuntime
package import VolumeStorage

/// The delete policy, decided once at provisioning from the StorageClass parameters and
/// recorded on the PV, so that editing or deleting the class later changes nothing
/// (the Go original re-read the class at delete time: bug 14 in
/// docs/original-provisioner.md).
package enum DeletePolicy: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Remove the directory and everything in it.
    case delete
    /// Keep the directory where it is (a re-created claim of the same name finds it with the
    /// default name-based pattern).
    case retain
    /// Rename the directory into the archive area (``ReservedNames/archiveDirectory``).
    case archive

    /// StorageClass parameter names.
    package static let onDeleteKey = "onDelete"
    package static let archiveOnDeleteKey = "archiveOnDelete"
    package static let deleteFileKey = "deleteFile"

    /// Resolves the policy from StorageClass parameters. Every given value is validated,
    /// even one that does not decide (a typo is an error, never silently ignored).
    ///
    /// Rule, first match wins:
    /// 1. `onDelete` (`delete` | `retain` | `archive`, any letter case as csi-driver-nfs
    ///    accepts) decides alone; `archiveOnDelete`/`deleteFile` are then ignored.
    /// 2. `archiveOnDelete` true → ``archive``. The Go original ran `cp -r <dir> <dir>-archive`
    ///    (nfs-cluster-provisioner.go, `Delete`); we rename into the archive area instead:
    ///    O(1), no doubled space, no nested archives, no collision with a claim named
    ///    `<pvc>-archive`. Unlike the original, the data no longer stays at its old path
    ///    when `deleteFile` is false.
    /// 3. `deleteFile` true → ``delete`` (the original's `os.RemoveAll`).
    /// 4. Otherwise → ``retain``: the original's default keeps the data. (Note:
    ///    nfs-subdir-external-provisioner reads `archiveOnDelete: "false"` as "delete"; here,
    ///    as in the original, it means "do not archive". Say `onDelete: delete` to delete.)
    ///
    /// Booleans follow Go's `strconv.ParseBool`, which the original used: `1 t T TRUE true
    /// True` and `0 f F FALSE false False`; anything else is an error naming the key and
    /// the value (the original failed every delete forever on `archiveOnDelete: "yes"`).
    package static func resolve(parameters: [String: String]) throws(StorageParameterError) -> DeletePolicy {
        var explicit: DeletePolicy?
        if let value = parameters[onDeleteKey] {
            guard let policy = DeletePolicy(rawValue: value.lowercased()) else {
                throw .invalidOnDelete(value: value)
            }
            explicit = policy
        }
        let archive = try parameters[archiveOnDeleteKey].map { v throws(StorageParameterError) in
            try parseBool(v, key: archiveOnDeleteKey)
        }
        let deleteFile = try parameters[deleteFileKey].map { v throws(StorageParameterError) in
            try parseBool(v, key: deleteFileKey)
        }
        if let explicit { return explicit }
        if archive == true { return .archive }
        if deleteFile == true { return .delete }
        return .retain
    }

    /// Go's `strconv.ParseBool`.
    package static func parseBool(_ value: String, key: String) throws(StorageParameterError) -> Bool {
        switch value {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: throw .invalidBool(key: key, value: value)
        }
    }

    package var description: String { rawValue }
}

/// The storage-related StorageClass parameters, parsed and validated together.
/// Unknown keys are not this type's business (the engine rejects them).
package struct StorageClassParameters: Sendable, Hashable {
    package static let pathPatternKey = "pathPattern"
    package static let mountPermissionsKey = "mountPermissions"
    /// The keys this type reads.
    package static let keys: Set<String> = [
        DeletePolicy.onDeleteKey, DeletePolicy.archiveOnDeleteKey, DeletePolicy.deleteFileKey,
        pathPatternKey, mountPermissionsKey,
    ]

    /// Default ``PathPattern/default`` (the original's `<namespace>-<pvcName>`).
    package var pathPattern: PathPattern
    /// See ``DeletePolicy/resolve(parameters:)``; default ``DeletePolicy/retain``.
    package var deletePolicy: DeletePolicy
    /// `mountPermissions`, octal; default ``FileMode/defaultDirectory`` (0777, the original's).
    package var directoryMode: FileMode

    package init(pathPattern: PathPattern = .default, deletePolicy: DeletePolicy = .retain, directoryMode: FileMode = .defaultDirectory) {
        self.pathPattern = pathPattern
        self.deletePolicy = deletePolicy
        self.directoryMode = directoryMode
    }

    /// Parses the storage parameters; the first invalid one is reported with its key.
    package init(parsing parameters: [String: String]) throws(StorageParameterError) {
        let pattern: PathPattern
        if let source = parameters[Self.pathPatternKey] {
            do throws(PathPatternError) {
                pattern = try PathPattern(source)
            } catch {
                throw .invalidPathPattern(value: source, problem: error)
            }
        } else {
            pattern = .default
        }
        var mode = FileMode.defaultDirectory
        if let value = parameters[Self.mountPermissionsKey] {
            guard let parsed = FileMode(octal: value) else { throw .invalidMountPermissions(value: value) }
            mode = parsed
        }
        self.init(pathPattern: pattern, deletePolicy: try DeletePolicy.resolve(parameters: parameters), directoryMode: mode)
    }
}

/// An invalid storage parameter of a StorageClass; each case names the key and the value.
package enum StorageParameterError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidOnDelete(value: String)
    case invalidBool(key: String, value: String)
    case invalidMountPermissions(value: String)
    case invalidPathPattern(value: String, problem: PathPatternError)

    package var description: String {
        switch self {
        case .invalidOnDelete(let value):
            "parameter onDelete: '\(value)' is not one of delete, retain, archive"
        case .invalidBool(let key, let value):
            "parameter \(key): '\(value)' is not a boolean (1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False)"
        case .invalidMountPermissions(let value):
            "parameter mountPermissions: '\(value)' is not an octal mode between 0 and 7777"
        case .invalidPathPattern(let value, let problem):
            "parameter pathPattern: '\(value)': \(problem)"
        }
    }
}
