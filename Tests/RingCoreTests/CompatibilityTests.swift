import Testing
@testable import RingCore
import TestSupport

@Suite("stathat/consistent compatibility")
struct CompatibilityTests {
    @Test("crc32 mode returns what the Go library returned for all 400 sample lines")
    func crc32_matchesGoLibrary_onAllSampleVectors() throws {
        let lines = try Fixtures.tsv("stathat-compat-sample")
        #expect(lines.count == 400)
        var rings: [String: RingSnapshot] = [:]
        var failures: [String] = []
        for line in lines {
            try #require(line.count == 3, "malformed fixture line: \(line)")
            let (servers, key, expected) = (line[0], line[1], line[2])
            let ring: RingSnapshot
            if let cached = rings[servers] {
                ring = cached
            } else {
                let members = servers.split(separator: ",").map { Member(String($0)) }
                ring = try RingSnapshot(members: members, configuration: .stathatCompatible)
                rings[servers] = ring
            }
            let got = try ring.locate(key).name
            if got != expected { failures.append("servers=\(servers) key=\(key.debugDescription) expected=\(expected) got=\(got)") }
        }
        #expect(failures.isEmpty, "\(failures.count) mismatches:\n\(failures.prefix(20).joined(separator: "\n"))")
    }

    @Test("colliding labels: the server later in the list owns the shared point")
    func crc32_collision_laterMemberWins() throws {
        // "10"+"1.2.3.4" == "1"+"0"+... : "1.2.3.4" and "11.2.3.4" share 25 labels outright
        // ("1" + "1.2.3.4" is "11.2.3.4"... as labels "i"+name), so a fresh ring of the two
        // has fewer than 510 distinct points and the shared ones belong to the later member.
        let ab = try RingSnapshot(members: [Member("1.2.3.4"), Member("11.2.3.4")], configuration: .stathatCompatible)
        let ba = try RingSnapshot(members: [Member("11.2.3.4"), Member("1.2.3.4")], configuration: .stathatCompatible)
        #expect(ab.pointCount < 510)
        #expect(ab.pointCount == ba.pointCount)
        let shares = Dictionary(uniqueKeysWithValues: ab.ownership().map { ($0.member.name, $0.points) })
        let sharesSwapped = Dictionary(uniqueKeysWithValues: ba.ownership().map { ($0.member.name, $0.points) })
        // Whoever is later gets the shared labels, so the point counts swap with the order.
        let laterInAB = try #require(shares["11.2.3.4"]), earlierInAB = try #require(shares["1.2.3.4"])
        let earlierInBA = try #require(sharesSwapped["11.2.3.4"]), laterInBA = try #require(sharesSwapped["1.2.3.4"])
        #expect(laterInAB == 255 && laterInBA == 255, "the later member keeps all 255 of its labels")
        #expect(earlierInAB == 230 && earlierInBA == 230, "the earlier member loses the 25 shared labels")
        #expect(laterInAB + earlierInAB == ab.pointCount)
    }

    @Test("CRC-32/IEEE check values")
    func crc32_checkValues() {
        #expect(CRC32.checksum("123456789") == 0xCBF4_3926)
        #expect(CRC32.checksum("") == 0)
        #expect(CRC32.checksum("a") == 0xE8B7_BE43)
        #expect(CRC32.checksum("The quick brown fox jumps over the lazy dog") == 0x414F_A339)
    }

    @Test("slicing-by-8 equals the bit-by-bit definition at every length 0...64")
    func crc32_slicingEqualsBitwise() {
        var rng = SeededGenerator(seed: 42)
        for length in 0...64 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var reference: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                reference ^= UInt32(b)
                for _ in 0..<8 { reference = (reference & 1) != 0 ? (reference >> 1) ^ 0xEDB8_8320 : reference >> 1 }
            }
            reference = ~reference
            let got = bytes.withUnsafeBytes { CRC32.checksum($0) }
            #expect(got == reference, "length \(length) bytes \(bytes)")
            // Incremental update over any split equals the one-shot checksum.
            let split = length / 3
            let incremental = bytes.withUnsafeBytes { b in
                CRC32.update(CRC32.checksum(UnsafeRawBufferPointer(rebasing: b[..<split])), UnsafeRawBufferPointer(rebasing: b[split...]))
            }
            #expect(incremental == reference, "split at \(split) of \(length)")
        }
    }

    @Test("XXH3-64 from libxxhash: known value, and the inline and linked builds agree")
    func xxh3_knownValueAndInlineEqualsLinked() {
        #expect(XXH3.hash("") == 0x2D06_8005_38D3_94C2)
        var rng = SeededGenerator(seed: 7)
        for length in [0, 1, 3, 4, 8, 9, 16, 17, 32, 60, 128, 129, 240, 241, 1000] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            bytes.withUnsafeBytes { b in
                #expect(XXH3.hash(b) == XXH3.hashLinked(b), "length \(length)")
            }
        }
    }
}
