import Engine
import KubeRuntime
import VolumeStorage
import Testing
import TestSupport

/// DNS-1123 names are validated before sending.
@Suite struct ClientNameValidationTests {
    @Test(arguments: ["a", "pvc-0f3c9a3e-1b2c-4d5e-8f90-123456789abc", "a.b-c.d", String(repeating: "a", count: 253)])
    func subdomain_accepts(_ name: String) {
        #expect(NameValidation.isDNS1123Subdomain(name))
    }

    @Test(arguments: ["", "A", "-a", "a-", "a..b", ".a", "a_b", "a/b", "ü", String(repeating: "a", count: 254)])
    func subdomain_rejects(_ name: String) {
        #expect(NameValidation.subdomainProblem(name) != nil)
    }

    @Test(arguments: ["default", "kube-system", String(repeating: "n", count: 63)])
    func label_accepts(_ name: String) {
        #expect(NameValidation.isDNS1123Label(name))
    }

    @Test(arguments: ["a.b", "Default", "-x", String(repeating: "n", count: 64)])
    func label_rejects(_ name: String) {
        #expect(!NameValidation.isDNS1123Label(name))
    }

    @Test func generateNamePrefix_mayEndWithADash() {
        #expect(NameValidation.generateNameProblem("pvc-") == nil)
        #expect(NameValidation.generateNameProblem("Pvc-") != nil)
    }

    @Test func problems_sayWhatIsWrong() {
        #expect(NameValidation.subdomainProblem("a_b") == "must consist of lower case alphanumeric characters, '-' or '.' (found \"_\")")
        #expect(NameValidation.labelProblem(String(repeating: "n", count: 64)) == "must be no more than 63 characters")
    }
}
