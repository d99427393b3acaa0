import Foundation
import KubeRuntime

/// A plain-text table for people, and the same rows as JSON for scripts.
///
/// Cells are made one line (control characters escaped) and cut at
/// ``maximumCellCharacters``: a 70,000-character name must not make a 70,000-column table.
/// Rendering is linear in the size of the table.
struct TextTable {
    /// The longest cell shown, in Unicode scalars; longer ones end with how long they were.
    static let maximumCellCharacters = 200

    var columns: [String]
    var rows: [[String]] = []
    /// Columns to right-align (numbers).
    var numeric: Set<Int> = []

    init(columns: [String], numeric: Set<Int> = []) {
        self.columns = columns
        self.numeric = numeric
    }

    mutating func add(_ row: [String]) { rows.append(row.map(Self.cell)) }

    /// A value as a table shows it.
    static func cell(_ text: String) -> String { Echo.value(text, limit: maximumCellCharacters) }

    func rendered() -> String {
        renderedLines(widths: widths(), header: true).joined(separator: "\n")
    }

    /// Each column's width: the widest of the header, these rows and `atLeast`.
    func widths(atLeast: [Int] = []) -> [Int] {
        columns.indices.map { c in
            var width = max(columns[c].count, atLeast.indices.contains(c) ? atLeast[c] : 0)
            for row in rows where row.indices.contains(c) { width = max(width, row[c].count) }
            return width
        }
    }

    /// The header (if asked) and the rows, padded to `widths`, without trailing blanks.
    func renderedLines(widths: [Int], header: Bool) -> [String] {
        (header ? [columns] : []).map { line($0, widths: widths, isHeader: true) }
            + rows.map { line($0, widths: widths, isHeader: false) }
    }

    private func line(_ row: [String], widths: [Int], isHeader: Bool) -> String {
        var out = ""
        for (c, cell) in row.enumerated() {
            if c > 0 { out += "  " }
            let pad = String(repeating: " ", count: max(0, (widths.indices.contains(c) ? widths[c] : 0) - cell.count))
            out += numeric.contains(c) && !isHeader ? pad + cell : cell + pad
        }
        // Trailing blanks, found from the end in one pass over the bytes.
        let utf8 = out.utf8
        var end = utf8.endIndex
        while end > utf8.startIndex {
            let before = utf8.index(before: end)
            guard utf8[before] == UInt8(ascii: " ") || utf8[before] == UInt8(ascii: "\t") else { break }
            end = before
        }
        return String(out[..<end])
    }
}

/// Standard output through a buffer: one write per 64 KiB, not one per line.
struct BufferedOutput {
    private var buffer: [UInt8] = []

    mutating func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 64 << 10 { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}

enum OutputFormat: String, CaseIterable {
    case table, json
}

func printJSON(_ object: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

func percent(_ x: Double?) -> String {
    guard let x else { return "-" }
    return String(format: "%.2f%%", x * 100)
}
