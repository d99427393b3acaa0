import Foundation
import Logging
import Synchronization

/// One JSON object per line on standard error: `time`, `level`, `label`, `message`, the
/// metadata flattened in, `source`. For log collectors (`--log-format json`).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    private static let lock = Mutex(())

    init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: Any] = [:]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { a, _ in a } }
        if let extra = event.metadata { merged.merge(extra) { _, b in b } }
        for (k, v) in merged { object[k] = Self.json(v) }
        object["time"] = Self.timestamp()
        object["level"] = event.level.rawValue
        object["label"] = label
        object["message"] = event.message.description
        object["source"] = event.source
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        Self.lock.withLock { _ in
            FileHandle.standardError.write(data + Data("\n".utf8))
        }
    }

    static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array(let a): return a.map(json)
        case .dictionary(let d): return d.mapValues(json)
        }
    }

    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        let date = Date(timeIntervalSince1970: Double(tv.tv_sec) + Double(tv.tv_usec) / 1e6)
        return date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

enum LogFormat: String, CaseIterable, ExpressibleByArgument {
    case text, json
}

import ArgumentParser

/// Log options shared by the long-running commands.
struct LogOptions: ParsableArguments {
    @Option(help: "text (human-readable) or json (one object per line).")
    var logFormat: LogFormat = .text
    @Option(help: "trace, debug, info, notice, warning, error or critical (default info; LOG=true in the environment means debug).")
    var logLevel: String?

    /// Installs the log handler for the process (once, before anything logs).
    func bootstrap(verbose: Bool) throws {
        let level: Logger.Level
        if let logLevel {
            guard let parsed = Logger.Level(rawValue: logLevel.lowercased()) else {
                throw UsageError("--log-level \"\(logLevel)\" is not a level; use trace, debug, info, notice, warning, error or critical")
            }
            level = parsed
        } else {
            level = verbose ? .debug : .info
        }
        let format = logFormat
        LoggingSystem.bootstrap { label in
            switch format {
            case .json: return JSONLogHandler(label: label, level: level)
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}
