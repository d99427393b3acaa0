// metav1.Time and metav1.MicroTime: RFC 3339 timestamps in UTC.
//
// apimachinery pkg/apis/meta/v1/time.go (MarshalJSON: RFC 3339 seconds, UTC) and
// micro_time.go (RFC3339Micro "2006-01-02T15:04:05.000000Z07:00", UTC). Both parse any
// RFC 3339 input (fractional seconds and offsets accepted). A zero time serialises as
// `null` in Go; here that is an absent optional.
public import Foundation

/// `metav1.Time`: a timestamp written with whole seconds, e.g. `2024-05-01T12:00:00Z`.
public struct KubeTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The instant, truncated to whole seconds (what the server stores).
    public var date: Date

    public init(_ date: Date) {
        self.date = Date(timeIntervalSince1970: (date.timeIntervalSince1970).rounded(.down))
    }

    /// Parses an RFC 3339 timestamp.
    public init?(rfc3339 text: String) {
        guard let seconds = RFC3339.parse(text) else { return nil }
        self.init(Date(timeIntervalSince1970: seconds))
    }

    public var description: String { RFC3339.format(date.timeIntervalSince1970) }

    public static func < (lhs: KubeTime, rhs: KubeTime) -> Bool { lhs.date < rhs.date }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let seconds = RFC3339.parse(text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "not an RFC 3339 timestamp: \"\(text)\""))
        }
        self.init(Date(timeIntervalSince1970: seconds))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// `metav1.MicroTime`: a timestamp with exactly six fractional digits, e.g.
/// `2024-05-01T12:00:05.000000Z` (Lease `acquireTime`/`renewTime`, Event `eventTime`).
public struct MicroTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Microseconds since the Unix epoch (exact, unlike a `Double`).
    package var microsecondsSinceEpoch: Int64

    public init(_ date: Date) {
        self.microsecondsSinceEpoch = Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down))
    }

    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    /// Parses an RFC 3339 timestamp (digits beyond microseconds are dropped).
    public init?(rfc3339 text: String) {
        guard let seconds = RFC3339.parse(text) else { return nil }
        self.microsecondsSinceEpoch = Int64((seconds * 1_000_000).rounded())
    }

    public var date: Date { Date(timeIntervalSince1970: Double(microsecondsSinceEpoch) / 1_000_000) }

    public var description: String {
        let (whole, fraction) = microsecondsSinceEpoch.quotientAndRemainder(dividingBy: 1_000_000)
        let seconds = fraction < 0 ? whole - 1 : whole
        let micros = fraction < 0 ? fraction + 1_000_000 : fraction
        let base = RFC3339.format(Double(seconds))
        // base ends with "Z"; insert the six fractional digits before it.
        let digits = String(micros)
        return String(base.dropLast()) + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    public static func < (lhs: MicroTime, rhs: MicroTime) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = MicroTime(rfc3339: text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "not an RFC 3339 timestamp: \"\(text)\""))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A small RFC 3339 parser and UTC formatter (no `DateFormatter`: it is costly and its
/// locale handling is a classic source of bugs).
package enum RFC3339 {
    /// Seconds since the epoch, or `nil` if `text` is not RFC 3339.
    package static func parse(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + count)] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += count
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"),
              let day = number(2), expect("Tt "), let hour = number(2), expect(":"),
              let minute = number(2), expect(":"), let second = number(2)
        else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset = 0
        if expect("Zz") {
            offset = 0
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2),
                  offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Double(seconds) + fraction
    }

    /// Formats whole seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
    package static func format(_ secondsSinceEpoch: Double) -> String {
        let total = Int(secondsSinceEpoch.rounded(.down))
        let (days, secondsOfDay) = total.floorDivided(by: 86_400)
        let (year, month, day) = civilFromDays(days)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
            + "\(pad(secondsOfDay / 3600, 2)):\(pad(secondsOfDay % 3600 / 60, 2)):\(pad(secondsOfDay % 60, 2))Z"
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
    package static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    package static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int {
    /// Floor division with a non-negative remainder.
    func floorDivided(by divisor: Int) -> (quotient: Int, remainder: Int) {
        let (q, r) = quotientAndRemainder(dividingBy: divisor)
        return r < 0 ? (q - 1, r + divisor) : (q, r)
    }
}
