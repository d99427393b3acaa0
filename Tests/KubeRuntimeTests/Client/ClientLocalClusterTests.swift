import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import LocalCluster
import Synchronization
import TestSupport
import Testing

/// The real client (async-http-client, kubeconfig) against LocalCluster: retries, conflicts,
/// token rotation and pagination with the server's own behaviour (issue 3 part 4).
@Suite struct ClientLocalClusterTests {
    static func claim(_ name: String, namespace: String = "default", storage: Quantity = "1Gi") -> PersistentVolumeClaim {
        PersistentVolumeClaim(metadata: ObjectMeta(name: name, namespace: namespace),
                              spec: .init(accessModes: ["ReadWriteOnce"], resources: .init(requests: ["storage": storage]),
                                          storageClassName: "nfs"))
    }

    @Test func plainText429_withRetryAfter_isHonoured() async throws {
        try await withKubeCluster { h in
            let fault = h.cluster.injectFault(FaultRule(method: "GET", path: .contains("/persistentvolumes"), trigger: .times(2),
                                                        action: .tooManyRequestsPlainText(retryAfterSeconds: 3)))
            let list = try await h.client.list(PersistentVolume.self)
            #expect(list.items.isEmpty)
            #expect(h.cluster.fireCount(fault) == 2)
            #expect(h.clock.sleeps == [.seconds(3), .seconds(3)])
        }
    }

    @Test func jsonTooManyRequests_andServiceUnavailable_onAWrite_areRetried() async throws {
        try await withKubeCluster { h in
            h.cluster.injectFault(FaultRule(method: "POST", trigger: .times(1), action: .tooManyRequests(retryAfterSeconds: 1)))
            h.cluster.injectFault(FaultRule(method: "POST", trigger: .times(1), action: .serviceUnavailable()))
            let created = try await h.client.create(Self.claim("data"))
            #expect(created.metadata.uid.isEmpty == false)
            #expect(h.clock.sleeps.count == 2)
            #expect(h.clock.sleeps.first == .seconds(1))
        }
    }

    @Test func internalError_onAWrite_isReportedNotRepeated_whileReadsRetry() async throws {
        try await withKubeCluster { h in
            let put = h.cluster.injectFault(FaultRule(method: "POST", trigger: .times(1), action: .internalError))
            do {
                _ = try await h.client.create(Self.claim("data"))
                Issue.record("expected 500")
            } catch let error as KubeError {
                #expect(error.code == 500)
                #expect(error.status?.message == "Internal error occurred: injected fault")
            }
            #expect(h.cluster.fireCount(put) == 1)
            let get = h.cluster.injectFault(FaultRule(method: "GET", trigger: .times(2), action: .internalError))
            _ = try await h.client.list(PersistentVolumeClaim.self)
            #expect(h.cluster.fireCount(get) == 2)
        }
    }

    @Test func droppedConnection_onARead_isRetried() async throws {
        try await withKubeCluster { h in
            let fault = h.cluster.injectFault(FaultRule(method: "GET", trigger: .times(1), action: .closeConnection))
            _ = try await h.client.list(StorageClass.self)
            #expect(h.cluster.fireCount(fault) == 1)
        }
    }

    @Test func staleUpdate_getsAConflict_andIsRetriedAfterAReGet() async throws {
        try await withKubeCluster { h in
            let lease = Lease(metadata: ObjectMeta(name: "lock", namespace: "default"),
                              spec: .init(holderIdentity: "a", leaseDurationSeconds: 15, leaseTransitions: 0))
            let stale = try await h.client.create(lease)
            // Someone else renews in between.
            _ = try await h.client.retryOnConflict(Lease.self, name: "lock", namespace: "default") { $0.spec?.holderIdentity = "b" }
            do {
                var blind = stale
                blind.spec?.holderIdentity = "me"
                _ = try await h.client.update(blind)
                Issue.record("a stale update must get 409")
            } catch let error as KubeError {
                #expect(error.isConflict)
                #expect(error.status?.message?.contains("the object has been modified") == true)
            }
            var seen: [String?] = []
            let won = try await h.client.retryOnConflict(Lease.self, name: "lock", namespace: "default", startingFrom: stale) { lease in
                seen.append(lease.spec?.holderIdentity)
                var spec = lease.spec ?? Lease.Spec()
                spec.holderIdentity = "me"
                spec.leaseTransitions = (spec.leaseTransitions ?? 0) + 1
                lease.spec = spec
            }
            #expect(seen == ["a", "b"])
            #expect(won.spec?.holderIdentity == "me")
            #expect(won.spec?.leaseTransitions == 1)
        }
    }

    @Test func modify_withAConcurrentWriter_reAppliesOnTheFreshObject_andKeepsUnknownFields() async throws {
        try await withKubeCluster { h in
            // A PV with a field the models do not know (a CSI source is not modelled).
            h.cluster.injectFault(FaultRule(method: "PATCH", trigger: .times(1), action: .conflict))
            try h.cluster.create([
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": ["name": "pv1", "finalizers": ["example.com/ours"]],
                "spec": ["capacity": ["storage": "1Gi"], "accessModes": ["ReadWriteOnce"],
                         "csi": ["driver": "csi.example.com", "volumeHandle": "h1"]],
            ])
            let updated = try await h.client.modify(PersistentVolume.self, name: "pv1") { volume in
                volume.metadata.finalizers.removeAll { $0 == "example.com/ours" }
                volume.metadata.annotations["example.com/done"] = "true"
            }
            #expect(!updated.metadata.finalizers.contains("example.com/ours"))
            let stored = try #require(h.cluster.get(.persistentVolumes, name: "pv1"))
            #expect(stored["spec"]?["csi"]?["volumeHandle"]?.stringValue == "h1")
            #expect(stored["metadata"]?["annotations"]?["example.com/done"]?.stringValue == "true")
        }
    }

    @Test func rotatedTokenFile_isPickedUpAfterA401() async throws {
        try await withKubeCluster(options: KubeHarnessOptions(tokenInFile: "token-1"), configure: { $0.acceptedTokens = ["token-1"] }) { h in
            _ = try await h.client.list(PersistentVolume.self)
            try h.directory.write("token", "token-2\n")
            h.cluster.setAcceptedTokens(["token-2"])
            _ = try await h.client.list(PersistentVolume.self)
            #expect(h.cluster.requestLog.compactMap(\.status) == [200, 401, 200])
        }
    }

    @Test func rotatedTokenFile_isPickedUpByThePeriodicReRead() async throws {
        try await withKubeCluster(options: KubeHarnessOptions(tokenInFile: "token-1"), configure: { $0.acceptedTokens = ["token-1"] }) { h in
            _ = try await h.client.list(PersistentVolume.self)
            try h.directory.write("token", "token-2\n")
            h.cluster.setAcceptedTokens(["token-1", "token-2"])
            h.clock.advance(by: .seconds(61))
            _ = try await h.client.list(PersistentVolume.self)
            h.cluster.setAcceptedTokens(["token-2"])
            _ = try await h.client.list(PersistentVolume.self)
            #expect(h.cluster.requestLog.compactMap(\.status) == [200, 200, 200])
        }
    }

    @Test func continueToken_expiresAfterCompaction_andListAllRestartsTheWholeList() async throws {
        let compacted = Mutex(false)
        let options = KubeHarnessOptions(beforeRequest: { request, cluster in
            // Between the first and the second page: a write, then compaction, so the first
            // page's snapshot is gone when the continue token comes back.
            guard request.query["continue"] != nil else { return }
            let first = compacted.withLock { done in
                defer { done = true }
                return !done
            }
            guard first else { return }
            _ = try? cluster.create(["apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                     "metadata": ["name": "late", "namespace": "default"],
                                     "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]]])
            cluster.compactHistory()
        })
        try await withKubeCluster(options: options) { h in
            for index in 0..<5 { _ = try await h.client.create(Self.claim("c\(index)")) }
            let all = try await h.client.listAll(PersistentVolumeClaim.self, namespace: "default", pageSize: 2)
            #expect(all.items.map(\.metadata.name) == ["c0", "c1", "c2", "c3", "c4", "late"])
            #expect(all.metadata.resourceVersion == h.cluster.resourceVersion)
            let statuses = h.cluster.requestLog.filter { $0.verb == .list }.compactMap(\.status)
            #expect(statuses == [200, 410, 200, 200, 200])
        }
    }

    @Test func https_withTheKubeconfigCA_andTLSServerName() async throws {
        let dir = try TempDirectory(prefix: "kube-test")
        let tls = LocalClusterConfiguration.TLS(
            certificateChainPath: try dir.write("server.pem", KubeTestPKI.serverCertificate),
            privateKeyPath: try dir.write("server.key", KubeTestPKI.serverKey),
            certificateAuthorityPath: try dir.write("ca.pem", KubeTestPKI.caCertificate))
        try await withKubeCluster(configure: { $0.tls = tls }) { h in
            #expect(h.client.configuration.server.scheme == "https")
            _ = try await h.client.create(Self.claim("secure"))
            // tls-server-name: connect to 127.0.0.1, verify the certificate as kubernetes.default.
            var named = h.client.configuration
            named.tls.serverName = "kubernetes.default"
            let namedTransport = try AsyncHTTPClientTransport(configuration: named)
            let namedClient = KubeClient(configuration: named, transport: namedTransport, logger: .init(label: "test"))
            let fetched = try await namedClient.get(PersistentVolumeClaim.self, name: "secure", namespace: "default")
            try await namedClient.shutdown()
            #expect(fetched.metadata.name == "secure")
            // Without the CA the certificate is rejected, and that is not retried.
            var untrusted = h.client.configuration
            untrusted.tls.certificateAuthority = nil
            let untrustedClient = KubeClient(configuration: untrusted, transport: try AsyncHTTPClientTransport(configuration: untrusted),
                                             logger: .init(label: "test"))
            do {
                _ = try await untrustedClient.list(PersistentVolumeClaim.self)
                Issue.record("expected a TLS failure")
            } catch let error as KubeError {
                guard case .transport(.tls, _) = error else {
                    Issue.record("unexpected \(error)")
                    try await untrustedClient.shutdown()
                    return
                }
            }
            try await untrustedClient.shutdown()
            // insecure-skip-tls-verify accepts it.
            untrusted.tls.insecureSkipVerify = true
            let insecureClient = KubeClient(configuration: untrusted, transport: try AsyncHTTPClientTransport(configuration: untrusted),
                                            logger: .init(label: "test"))
            #expect(try await insecureClient.list(PersistentVolumeClaim.self).items.count == 1)
            try await insecureClient.shutdown()
        }
    }
}
