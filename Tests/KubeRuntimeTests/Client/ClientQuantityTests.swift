import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import Testing
import TestSupport

@Suite struct ClientQuantityTests {
    @Test(arguments: [
        ("1Gi", "1073741824"), ("1G", "1000000000"), ("500m", "0.5"), ("1e3", "1k"), ("1.5Ki", "1536"),
        ("0.5Gi", "512Mi"), ("1E", "1000P"), ("2Ei", "2048Pi"), ("+1", "1"), ("100u", "0.0001"), ("1n", "0.001u"),
    ])
    func quantity_comparesSemantically(_ pair: (String, String)) throws {
        #expect(try Quantity(pair.0).isSemanticallyEqual(to: Quantity(pair.1)), "\(pair.0) vs \(pair.1)")
    }

    @Test func quantity_keepsTextExact_soEqualityIsOnTheWireForm() throws {
        let a: Quantity = "1Gi"
        let b: Quantity = "1073741824"
        #expect(a != b)
        #expect(try a.isSemanticallyEqual(to: b))
        #expect(try a.compare("2Gi") == .orderedAscending)
        #expect(try Quantity("10Gi").compare("10G") == .orderedDescending)
        #expect(try JSONValue(encoding: a) == .string("1Gi"))
    }

    @Test(arguments: ["", "Gi", "1Gb", "1.2.3", "--1", "1e", "1ex", "1e999", "12 Gi", "1ki"])
    func quantity_rejectsInvalidText_withAClearError(_ text: String) {
        #expect(throws: QuantityError.self) { try Quantity(text) }
        do {
            _ = try Quantity(text)
        } catch {
            #expect(error.description.contains("quantity \"\(text)\""))
        }
    }

    @Test func quantity_decodesLeniently_andReportsTheProblemWhenUsed() throws {
        let quantity = try JSONDecoder().decode([Quantity].self, from: Data("[\"lots\", 5]".utf8))
        #expect(quantity[0].text == "lots")
        #expect(quantity[1].text == "5")
        #expect(throws: QuantityError.self) { try quantity[0].value() }
    }

    @Test func quantity_roundsUpToWholeUnits() throws {
        #expect(try Quantity("1Gi").wholeUnitsRoundedUp() == 1 << 30)
        #expect(try Quantity("1500m").wholeUnitsRoundedUp() == 2)
        #expect(Quantity(bytes: 42).text == "42")
        #expect(throws: QuantityError.self) { try Quantity("-1").wholeUnitsRoundedUp() }
        #expect(throws: QuantityError.self) { try Quantity("100Ei").wholeUnitsRoundedUp() }
    }
}
