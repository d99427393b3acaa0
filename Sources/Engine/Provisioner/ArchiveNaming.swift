// Names of archived volume directories.
package import Foundation
import KubeRuntime
import VolumeStorage

/// Names for archived volumes.
package enum ArchiveNaming {
    /// `<volumeName>-<UTC yyyyMMdd'T'HHmmss'Z'>`, e.g. `pvc-6f1c…-20260501T100000Z`. The PV
    /// name holds the claim uid, so two claims never share a name, and the time separates
    /// repeated archives; ``MemberStorage/archiveVolume(relativePath:archiveName:expectedClaimUID:)``
    /// adds `-1`, `-2`... if a name is taken anyway.
    package static func name(volumeName: String, at date: Date) -> String {
        var seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        seconds -= days * 86_400
        let (year, month, day) = RFC3339.civilFromDays(days)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let stamp = "\(year)\(two(month))\(two(day))T\(two(seconds / 3600))\(two(seconds / 60 % 60))\(two(seconds % 60))Z"
        let maxPrefix = RelativePath.maxComponentBytes - stamp.utf8.count - 8
        let prefix = String(decoding: volumeName.utf8.prefix(maxPrefix), as: UTF8.self)
        return prefix + "-" + stamp
    }
}
