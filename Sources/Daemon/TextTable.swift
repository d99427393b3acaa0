import Foundation

/// A plain-text table for people, and the same rows as JSON for scripts.
struct TextTable {
    var columns: [String]
    var rows: [[String]] = []
    /// Columns to right-align (numbers).
    var numeric: Set<Int> = []

    mutating func add(_ row: [String]) { rows.append(row) }

    func rendered() -> String {
        let all = [columns] + rows
        let widths = columns.indices.map { c in all.map { $0.indices.contains(c) ? $0[c].count : 0 }.max() ?? 0 }
        return all.enumerated().map { r, row in
            let line = row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: max(0, widths[c] - cell.count))
                return numeric.contains(c) && r > 0 ? pad + cell : cell + pad
            }.joined(separator: "  ")
            return line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n")
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
