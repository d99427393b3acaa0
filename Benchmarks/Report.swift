import Foundation

/// One table of results: printed for people, collected for `--json`.
struct Table {
    let id: String
    let title: String
    let note: String
    let columns: [String]
    var rows: [[Cell]] = []

    enum Cell {
        case text(String)
        case number(Double, digits: Int)
        case integer(Int)

        var rendered: String {
            switch self {
            case .text(let s): return s
            case .integer(let i): return i.formatted(.number.grouping(.automatic))
            case .number(let d, let digits):
                if d.isNaN { return "-" }
                return String(format: "%.\(digits)f", d)
            }
        }

        var json: Any {
            switch self {
            case .text(let s): return s
            case .integer(let i): return i
            case .number(let d, _): return d.isFinite ? d : NSNull()
            }
        }
    }

    mutating func add(_ cells: Cell...) { rows.append(cells) }

    func printed() -> String {
        let all = [columns] + rows.map { $0.map(\.rendered) }
        let widths = columns.indices.map { c in all.map { $0.indices.contains(c) ? $0[c].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            "| " + cells.enumerated().map { i, s in
                i == 0 ? s.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: max(0, widths[i] - s.count)) + s
            }.joined(separator: " | ") + " |"
        }
        var out = "### \(title)\n\n"
        if !note.isEmpty { out += note + "\n\n" }
        out += line(columns) + "\n"
        out += "|" + widths.enumerated().map { i, w in i == 0 ? String(repeating: "-", count: w + 2) : String(repeating: "-", count: w + 1) + ":" }.joined(separator: "|") + "|\n"
        for row in rows { out += line(row.map(\.rendered)) + "\n" }
        return out
    }

    var json: [String: Any] {
        ["id": id, "title": title, "columns": columns,
         "rows": rows.map { row in Dictionary(uniqueKeysWithValues: zip(columns, row.map(\.json))) }]
    }
}

/// Collects tables; prints each as soon as it is complete so progress is visible.
final class Reporter {
    let json: Bool
    private(set) var tables: [Table] = []

    init(json: Bool) { self.json = json }

    func emit(_ table: Table) {
        tables.append(table)
        if !json {
            print(table.printed())
            fflush(nil)
        }
    }

    func finish(machine: [String: Any]) {
        guard json else { return }
        let object: [String: Any] = ["machine": machine, "tables": tables.map(\.json)]
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]),
           let text = String(data: data, encoding: .utf8) {
            print(text)
        }
    }
}
