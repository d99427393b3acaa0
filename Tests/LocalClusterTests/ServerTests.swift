// The server around the API: authentication and token rotation, TLS, kubeconfig, bad input,
// content negotiation, shutdown.

import AsyncHTTPClient
import Foundation
import LocalCluster
import NIOCore
import NIOSSL
import Testing
import TestSupport

@Suite("Server")
struct ServerTests {
    @Test func bearerTokens_areCheckedAndRotatedTokensGet401() async throws {
        try await Fixtures.withCluster(configure: { $0.acceptedTokens = ["old"] }) { cluster, _ in
            let anonymous = try await TestClient(cluster).get(Fixtures.pvcPath())
            #expect(anonymous.status == 401)
            #expect(try anonymous.json() == [
                "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401,
            ])
            #expect(try await TestClient(cluster, token: "old").get(Fixtures.pvcPath()).status == 200)
            cluster.setAcceptedTokens(["new"])
            #expect(try await TestClient(cluster, token: "old").get(Fixtures.pvcPath()).status == 401)
            #expect(try await TestClient(cluster, token: "new").get(Fixtures.pvcPath()).status == 200)
            cluster.setAcceptedTokens(nil)
            #expect(try await TestClient(cluster).get(Fixtures.pvcPath()).status == 200)
        }
    }

    @Test func tls_servesHTTPSWithTheGivenCertificate() async throws {
        let certificates = try await LocalClusterTLS.makeCertificates()
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        try await Fixtures.withCluster(configure: {
            $0.tls = .init(certificateChainPath: certificates.certificatePath, privateKeyPath: certificates.keyPath,
                           certificateAuthorityPath: certificates.caPath)
        }) { cluster, _ in
            #expect(cluster.baseURL.hasPrefix("https://127.0.0.1:"))
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificates.caPath))
            let trusting = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
            let response: TestResponse
            do {
                response = try await TestClient(baseURL: cluster.baseURL, client: trusting).get("/version")
                try await trusting.shutdown()
            } catch {
                try await trusting.shutdown()
                throw error
            }
            #expect(response.status == 200)
            // Without the CA the certificate is not trusted.
            // (async-http-client retries failed connections until the deadline: keep it short.)
            await #expect(throws: (any Error).self) {
                _ = try await TestClient(cluster).request(.GET, "/version", timeout: .seconds(1))
            }
            #expect(cluster.kubeconfigYAML().contains("certificate-authority: \"\(certificates.caPath)\""))
        }
    }

    @Test func kubeconfig_pointsAtTheClusterWithTheToken() async throws {
        try await Fixtures.withCluster { cluster, _ in
            let yaml = cluster.kubeconfigYAML(token: "s3cret", namespace: "team")
            #expect(yaml.contains("server: \"http://127.0.0.1:\(cluster.port)\""))
            #expect(yaml.contains("token: \"s3cret\""))
            #expect(yaml.contains("current-context: localcluster"))
            #expect(yaml.contains("namespace: \"team\""))
            #expect(!cluster.kubeconfigYAML().contains("token:"))
        }
    }

    @Test func fixedPort_isUsedWhenAsked() async throws {
        let probe = try await Fixtures.cluster()
        let port = probe.port
        await probe.shutdown()
        try await Fixtures.withCluster(configure: { $0.port = port }) { cluster, client async throws in
            #expect(cluster.port == port)
            #expect(try await client.get("/version").status == 200)
        }
    }

    @Test func badInput_isA400StatusAndNeverACrash() async throws {
        try await Fixtures.withCluster { cluster, client in
            let bodies: [[UInt8]] = [Array("{not json".utf8), Array("[1,2]".utf8), Array("\"x\"".utf8), [0xFF, 0xFE],
                                     Array(String(repeating: "[", count: 5000).utf8), Array("{\"a\":1}garbage".utf8), []]
            for body in bodies {
                let response = try await client.request(.POST, Fixtures.pvcPath(), body: body)
                #expect(response.status == 400, "\(body.prefix(10))")
                #expect(try response.reason() == "BadRequest")
            }
            var wrongType = Fixtures.claim("data")
            wrongType[path: ["spec", "accessModes"]] = "ReadWriteOnce"
            let typed = try await client.post(Fixtures.pvcPath(), wrongType)
            #expect(typed.status == 400)
            #expect(try typed.message().contains("cannot unmarshal string into Go struct field spec.accessModes of type []string"))
            let quantity = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data", storage: "lots"))
            #expect(quantity.status == 400)
            #expect(try quantity.message().hasSuffix("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"))
            let zero = try await client.post(Fixtures.pvcPath(), Fixtures.claim("data", storage: "0"))
            #expect(zero.status == 422)
            var wrongKind = Fixtures.claim("data")
            wrongKind["kind"] = "PersistentVolume"
            #expect(try await client.post(Fixtures.pvcPath(), wrongKind).status == 400)
            #expect(try await client.request(.GET, Fixtures.pvcPath() + "?limit=many").status == 400)
            #expect(try await client.request(.GET, Fixtures.pvcPath() + "?labelSelector=a%20in%20(").status == 400)
            #expect(try await client.request(.GET, Fixtures.pvcPath() + "?fieldSelector=spec.volumeName%3Dx").status == 400)
            #expect(try await client.request(.GET, Fixtures.pvcPath("default", "x") + "?resourceVersion=abc").status == 400)
            #expect(try await client.request(.POST, Fixtures.pvcPath(), body: Array("{\"a\":1e400}".utf8)).status == 400)
            let endless = try await RawHTTP.get(port: cluster.port, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=9223372036854775807") {
                $0.firstRange(of: Array("\r\n\r\n".utf8)) != nil
            }
            #expect(endless.head.hasPrefix("HTTP/1.1 200"))
            #expect(cluster.list(.persistentVolumeClaims).isEmpty)
        }
    }

    @Test func negotiation_methodsAndMediaTypes() async throws {
        try await Fixtures.withCluster { _, client in
            let protobuf = try await client.request(.GET, Fixtures.pvcPath(), headers: [("Accept", "application/vnd.kubernetes.protobuf")])
            #expect(protobuf.status == 406)
            let either = try await client.request(.GET, Fixtures.pvcPath(), headers: [("Accept", "application/vnd.kubernetes.protobuf, application/json")])
            #expect(either.status == 200)
            let yaml = try await client.request(.POST, Fixtures.pvcPath(), body: Array("kind: PersistentVolumeClaim".utf8),
                                                contentType: "application/yaml")
            #expect(yaml.status == 415)
            #expect(try await client.request(.PUT, Fixtures.pvcPath()).status == 405)
            #expect(try await client.request(.POST, Fixtures.pvcPath("default", "x"), json: Fixtures.claim("x")).status == 405)
            #expect(try await client.request(.POST, "/api/v1/persistentvolumeclaims", json: Fixtures.claim("x")).status == 405)
        }
    }

    @Test func selectors_filterListsAndWatches() async throws {
        try await Fixtures.withCluster { _, client in
            var gold = Fixtures.claim("gold")
            gold[path: ["metadata", "labels"]] = ["tier": "gold", "app": "db"]
            var silver = Fixtures.claim("silver")
            silver[path: ["metadata", "labels"]] = ["tier": "silver"]
            _ = try await client.post(Fixtures.pvcPath(), gold)
            _ = try await client.post(Fixtures.pvcPath(), silver)
            func names(_ query: String) async throws -> [String] {
                try await client.get(Fixtures.pvcPath() + "?" + query).json()["items"]?.arrayValue?.map(\.name) ?? []
            }
            #expect(try await names("labelSelector=tier%3Dgold") == ["gold"])
            #expect(try await names("labelSelector=tier%20in%20(gold,silver),!missing") == ["gold", "silver"])
            #expect(try await names("labelSelector=app") == ["gold"])
            #expect(try await names("labelSelector=tier!%3Dgold") == ["silver"])
            #expect(try await names("fieldSelector=metadata.name%3Dsilver") == ["silver"])

            // A label change that makes an object leave the selection is a DELETED for that watcher.
            let watch = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=10&labelSelector=tier%3Dgold")
            defer { watch.cancel() }
            #expect(await watch.waitForEvents(1).first?.eventType == "ADDED")
            _ = try await client.mergePatch(Fixtures.pvcPath("default", "gold"), ["metadata": ["labels": ["tier": "bronze"]]])
            #expect(await watch.waitForEvents(2).last?.eventType == "DELETED")
        }
    }

    @Test func shutdown_endsOpenWatchesAndStopsListening() async throws {
        let cluster = try await Fixtures.cluster(controllers: true)
        let client = TestClient(cluster)
        let watch = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true")
        defer { watch.cancel() }
        #expect(await watch.wait { $0.status == 200 })
        await cluster.shutdown()
        #expect(await watch.waitForEnd())
        await #expect(throws: (any Error).self) { _ = try await client.request(.GET, "/version", timeout: .seconds(1)) }
    }

    /// Regression: connections accepted while shutting down were dropped unconsumed, and NIO
    /// trapped ("Deinited NIOAsyncWriter without calling finish()").
    @Test func shutdown_duringAConnectionStormClosesEveryAcceptedConnection() async throws {
        for _ in 0..<10 {
            let cluster = try await Fixtures.cluster()
            let port = cluster.port
            let answered = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        do {
                            let raw = try await RawHTTP.get(port: port, "/version", timeout: .seconds(5))
                            return raw.head.hasPrefix("HTTP/1.1 200")
                        } catch {
                            return false  // refused or reset by the shutdown: expected
                        }
                    }
                }
                group.addTask {
                    await cluster.shutdown()
                    return false
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            // Shutdown completed (no trap, no hang) and nothing listens any more.
            #expect(answered <= 40)
            await #expect(throws: (any Error).self) { _ = try await RawHTTP.get(port: port, "/version", timeout: .seconds(2)) }
        }
    }

    @Test func directAPI_sharesRevisionsValidationAndWatchesWithHTTP() async throws {
        try await Fixtures.withCluster { cluster, client in
            let watch = WatchReader.start(client, Fixtures.pvcPath() + "?watch=true&timeoutSeconds=10")
            defer { watch.cancel() }
            #expect(await watch.wait { $0.status == 200 })
            let created = try cluster.create(Fixtures.claim("direct"))
            #expect(await watch.waitForEvents(1).first?.eventObject.rv == created.rv)
            #expect(throws: APIStatus.self) { try cluster.create(Fixtures.claim("Bad Name")) }
            #expect(throws: APIStatus.self) { try cluster.create(["apiVersion": "apps/v1", "kind": "Deployment"]) }
            let list = try await client.get(Fixtures.pvcPath()).json()
            #expect(list[path: ["metadata", "resourceVersion"]]?.stringValue == cluster.resourceVersion)
            let deleted = try cluster.delete(.persistentVolumeClaims, namespace: "default", name: "direct")
            #expect(deleted[path: ["metadata", "deletionTimestamp"]] != nil)
        }
    }
}
