/// Which keys change member between two rings: the tool to plan adding, removing or
/// re-weighting servers before doing it.
public struct RemapReport: Sendable, Hashable {
    /// One (from, to) pair and how many keys take it.
    public struct Move: Sendable, Hashable {
        public var from: String
        public var to: String
        public var count: Int
    }

    /// Keys examined.
    public var totalKeys: Int
    /// Keys whose member (by name) differs.
    public var movedKeys: Int
    /// Moves grouped by (from, to), most keys first, then by names.
    public var moves: [Move]
    /// The moved keys themselves with their old and new member, in input order, when the
    /// report was asked to keep them.
    public var movedKeyList: [(key: String, from: String, to: String)]

    /// movedKeys / totalKeys (0 for no keys).
    public var fraction: Double { totalKeys == 0 ? 0 : Double(movedKeys) / Double(totalKeys) }

    public static func == (lhs: RemapReport, rhs: RemapReport) -> Bool {
        lhs.totalKeys == rhs.totalKeys && lhs.movedKeys == rhs.movedKeys && lhs.moves == rhs.moves
            && lhs.movedKeyList.elementsEqual(rhs.movedKeyList, by: { $0 == $1 })
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(totalKeys)
        hasher.combine(movedKeys)
        hasher.combine(moves)
    }
}

extension RingSnapshot {
    /// Locates every key on this ring and on `proposed` and reports which move.
    ///
    /// ```swift
    /// let report = try current.remap(to: proposed, keys: claimKeys)
    /// print(report.fraction)
    /// ```
    /// - Parameter keepKeys: also list each moved key (memory grows with the moves).
    /// - Throws: ``RingError/emptyRing`` if either ring is empty and there are keys.
    /// - Complexity: O(K) lookups on each ring, for K keys.
    public func remap(to proposed: RingSnapshot, keys: some Sequence<String>, keepKeys: Bool = false) throws(RingError) -> RemapReport {
        var total = 0, moved = 0
        var pairs: [Int: Int] = [:]  // (fromIndex << 32 | toIndex) -> count
        var list: [(key: String, from: String, to: String)] = []
        for key in keys {
            total += 1
            let from = try locateIndex(key)
            let to = try proposed.locateIndex(key)
            if members[from].name != proposed.members[to].name {
                moved += 1
                pairs[from << 32 | to, default: 0] += 1
                if keepKeys { list.append((key, members[from].name, proposed.members[to].name)) }
            }
        }
        let moves = pairs.map { key, count in
            RemapReport.Move(from: members[key >> 32].name, to: proposed.members[key & 0xFFFF_FFFF].name, count: count)
        }.sorted { ($1.count, $0.from, $0.to) < ($0.count, $1.from, $1.to) }
        return RemapReport(totalKeys: total, movedKeys: moved, moves: moves, movedKeyList: list)
    }
}
