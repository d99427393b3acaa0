// Timestamps as Kubernetes writes them.
//
// metav1.Time: RFC 3339 with whole seconds, UTC ("2024-05-01T12:00:00Z"); parsed with Go's
// time.RFC3339 layout, which also accepts a fraction and any offset (AM apis/meta/v1/time.go).
// metav1.MicroTime: "2006-01-02T15:04:05.000000Z07:00", written in UTC; parsed with that
// exact layout, so exactly six fraction digits are required (AM apis/meta/v1/micro_time.go).

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A wall-clock instant with microsecond precision.
public struct Timestamp: Sendable, Hashable, Comparable {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var seconds: Int64
    /// Microseconds within the second, 0..<1_000_000.
    public var microseconds: Int64

    public init(seconds: Int64, microseconds: Int64 = 0) {
        self.seconds = seconds
        self.microseconds = microseconds
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        (a.seconds, a.microseconds) < (b.seconds, b.microseconds)
    }

    /// The current time of the system clock.
    public static func now() -> Timestamp {
        let interval = Date().timeIntervalSince1970
        let seconds = interval.rounded(.down)
        return Timestamp(seconds: Int64(seconds), microseconds: Int64((interval - seconds) * 1_000_000))
    }

    /// `metav1.Time` form: `2024-05-01T12:00:00Z`.
    public var rfc3339: String {
        let (date, time) = Self.civil(seconds)
        return "\(date)T\(time)Z"
    }

    /// `metav1.MicroTime` form: `2024-05-01T12:00:00.000000Z`.
    public var rfc3339Micro: String {
        let (date, time) = Self.civil(seconds)
        return "\(date)T\(time).\(Self.pad(microseconds, 6))Z"
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    /// Days-from-civil conversion (proleptic Gregorian), both ways.
    static func civil(_ seconds: Int64) -> (String, String) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let date = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
        let time = "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        return (date, time)
    }

    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * mp + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Parses RFC 3339. `fractionDigits` nil accepts any fraction (Go's RFC3339 layout when
    /// parsing); a number requires exactly that many digits (the MicroTime layout).
    static func parse(_ text: String, fractionDigits: Int?) -> Timestamp? {
        let b = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= b.count else { return nil }
            var value: Int64 = 0
            for i in range {
                guard b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(b[i] - UInt8(ascii: "0"))
            }
            return value
        }
        guard b.count >= 20, let year = number(0..<4), b[4] == UInt8(ascii: "-"), let month = number(5..<7),
            b[7] == UInt8(ascii: "-"), let day = number(8..<10), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            let hour = number(11..<13), b[13] == UInt8(ascii: ":"), let minute = number(14..<16),
            b[16] == UInt8(ascii: ":"), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        var index = 19
        var micro: Int64 = 0
        if index < b.count, b[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < b.count, b[index] >= UInt8(ascii: "0"), b[index] <= UInt8(ascii: "9") { index += 1 }
            let digits = index - start
            guard digits > 0, digits <= 9 else { return nil }
            if let required = fractionDigits, digits != required { return nil }
            var fraction = number(start..<index) ?? 0
            if digits < 6 {
                for _ in 0..<(6 - digits) { fraction *= 10 }
            } else {
                for _ in 0..<(digits - 6) { fraction /= 10 }
            }
            micro = fraction
        } else if fractionDigits != nil {
            return nil
        }
        var offset: Int64 = 0
        guard index < b.count else { return nil }
        if b[index] == UInt8(ascii: "Z") || b[index] == UInt8(ascii: "z") {
            index += 1
        } else if b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-") {
            guard let oh = number(index + 1..<index + 3), index + 3 < b.count, b[index + 3] == UInt8(ascii: ":"),
                let om = number(index + 4..<index + 6), oh < 24, om < 60
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        } else {
            return nil
        }
        guard index == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Timestamp(seconds: days * 86_400 + hour * 3600 + minute * 60 + second - offset, microseconds: micro)
    }
}

/// The time source of a cluster (injected so tests can control it).
public typealias WallClock = @Sendable () -> Timestamp
