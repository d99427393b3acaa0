import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import TestSupport
import Testing

@Suite struct ClientConfigurationTests {
    // MARK: in-cluster

    private func serviceAccount(_ dir: TempDirectory, namespace: String? = "team-a") throws -> InClusterPaths {
        try dir.write("sa/token", "token-1\n")
        try dir.write("sa/ca.crt", KubeTestPKI.caCertificate)
        if let namespace { try dir.write("sa/namespace", namespace) }
        return InClusterPaths(directory: dir.path + "/sa")
    }

    @Test func inCluster_buildsHTTPSServerFromEnvironment_andUsesTheTokenFile() throws {
        let dir = try TempDirectory(prefix: "kube-test")
        let paths = try serviceAccount(dir)
        let config = try KubeClientConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"], paths: paths)
        #expect(config.server.description == "https://10.96.0.1:443")
        #expect(config.bearerToken == .file(path: paths.tokenFile))
        #expect(config.namespace == "team-a")
        #expect(config.tls.certificateAuthority?.bytes == Array(KubeTestPKI.caCertificate.utf8))
        #expect(config.rateLimit == RateLimit(qps: 5, burst: 10))
    }

    @Test func inCluster_bracketsIPv6Hosts() throws {
        let dir = try TempDirectory(prefix: "kube-test")
        let config = try KubeClientConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"], paths: serviceAccount(dir))
        #expect(config.server.authority == "[fd00::1]:6443")
        #expect(config.server.description == "https://[fd00::1]:6443")
    }

    @Test func inCluster_withoutEnvironment_isNotInCluster() throws {
        #expect(throws: KubeConfigError.notInCluster(missingVariable: "KUBERNETES_SERVICE_HOST")) {
            try KubeClientConfiguration.inCluster(environment: [:])
        }
        #expect(throws: KubeConfigError.notInCluster(missingVariable: "KUBERNETES_SERVICE_PORT")) {
            try KubeClientConfiguration.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "h"])
        }
    }

    @Test func inCluster_missingTokenFile_namesTheFile_andMissingNamespaceIsDefault() throws {
        let dir = try TempDirectory(prefix: "kube-test")
        let paths = try serviceAccount(dir, namespace: nil)
        let env = ["KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "443"]
        #expect(try KubeClientConfiguration.inCluster(environment: env, paths: paths).namespace == "default")
        try dir.remove("sa/token")
        do {
            _ = try KubeClientConfiguration.inCluster(environment: env, paths: paths)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "in-cluster: \(paths.tokenFile): no such file or directory")
        }
    }

    // MARK: kubeconfig

    private static let kubeconfig = """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: dev-cluster
          cluster:
            server: https://dev.example:6443/prefix/
            certificate-authority: certs/ca.pem
            tls-server-name: kubernetes.default
        - name: prod-cluster
          cluster:
            server: https://prod.example
            certificate-authority-data: \(Data(KubeTestPKI.caCertificate.utf8).base64EncodedString())
        contexts:
        - name: dev
          context: {cluster: dev-cluster, user: dev-user, namespace: work}
        - name: prod
          context: {cluster: prod-cluster, user: prod-user}
        - name: broken
          context: {cluster: nowhere, user: dev-user}
        - name: execctx
          context: {cluster: prod-cluster, user: exec-user}
        users:
        - name: dev-user
          user:
            tokenFile: tokens/dev
        - name: prod-user
          user:
            client-certificate: /abs/does-not-matter
            client-certificate-data: \(Data(KubeTestPKI.clientCertificate.utf8).base64EncodedString())
            client-key-data: \(Data(KubeTestPKI.clientKey.utf8).base64EncodedString())
        - name: exec-user
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1
              command: aws
        futureKey: {ignored: true}
        """

    private func writeKubeconfig(_ dir: TempDirectory) throws -> String {
        try dir.write("kube/certs/ca.pem", KubeTestPKI.caCertificate)
        try dir.write("kube/tokens/dev", "dev-token\n")
        return try dir.write("kube/config", Self.kubeconfig)
    }

    @Test func kubeconfig_currentContext_resolvesRelativePathsAgainstTheFile() throws {
        let dir = try TempDirectory(prefix: "kube-test")
        let path = try writeKubeconfig(dir)
        let config = try Kubeconfig.load(paths: [path])
        #expect(config.server == ServerURL(scheme: "https", host: "dev.example", port: 6443, pathPrefix: "/prefix"))
        #expect(config.namespace == "work")
        #expect(config.bearerToken == .file(path: dir.path + "/kube/tokens/dev"))
        #expect(config.tls.certificateAuthority?.bytes == Array(KubeTestPKI.caCertificate.utf8))
        #expect(config.tls.certificateAuthority?.origin.contains("certificate-authority \(dir.path)/kube/certs/ca.pem") == true)
        #expect(config.tls.serverName == "kubernetes.default")
        #expect(config.tls.insecureSkipVerify == false)
    }

    @Test func kubeconfig_explicitContext_usesDataFieldsAndClientCertificate() async throws {
        let dir = try TempDirectory(prefix: "kube-test")
        let config = try Kubeconfig.load(paths: [writeKubeconfig(dir)], context: "prod")
        #expect(config.server.description == "https://prod.example:443")
        #expect(!config.tls.insecureSkipVerify)
        #expect(config.tls.certificateAuthority?.bytes == Array(KubeTestPKI.caCertificate.utf8))
        #expect(config.tls.clientCertificate?.bytes == Array(KubeTestPKI.clientCertificate.utf8))
        #expect(config.tls.clientKey?.bytes == Array(KubeTestPKI.clientKey.utf8))
        #expect(config.bearerToken == nil)
        #expect(config.namespace == "default")
        // The transport accepts these PEMs.
        let transport = try AsyncHTTPClientTransport(configuration: config)
        try await transport.shutdown()
    }

    @Test func kubeconfig_errorsNameTheFileAndTheEntry() throws {
        let dir = try TempDirectory(prefix: "kube-test")
        let path = try writeKubeconfig(dir)
        func message(_ context: String?) -> String {
            do {
                _ = try Kubeconfig.load(paths: [path], context: context)
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(message("foo") == "kubeconfig \(path): context \"foo\" not found")
        #expect(message("broken") == "kubeconfig \(path): cluster \"nowhere\" not found")
        #expect(message("execctx").hasPrefix("kubeconfig \(path): user \"exec-user\": exec is not supported"))
        try dir.remove("kube/tokens/dev")
        #expect(message("dev") == "kubeconfig \(path): user \"dev-user\": tokenFile: \(dir.path)/kube/tokens/dev: no such file or directory")
    }

    @Test func kubeconfig_malformedOrMissingFile_isReported() throws {
        let dir = try TempDirectory(prefix: "kube-test")
        let bad = try dir.write("bad", "clusters: [ {name: 1, cluster: [oops] } ]")
        #expect(throws: KubeConfigError.self) { try Kubeconfig.load(paths: [bad]) }
        do {
            _ = try Kubeconfig.load(paths: [dir.path + "/missing"])
        } catch {
            #expect(error == .kubeconfigUnreadable(path: dir.path + "/missing", problem: "no such file or directory"))
        }
        let empty = try dir.write("empty", "")
        #expect(throws: KubeConfigError.noCurrentContext(paths: [empty])) { try Kubeconfig.load(paths: [empty]) }
    }

    @Test func kubeconfig_multipleFiles_mergeWithTheFirstWinning() throws {
        let dir = try TempDirectory(prefix: "kube-test")
        let first = try dir.write("a/config", """
            current-context: mine
            contexts:
            - name: mine
              context: {cluster: shared, user: me}
            users:
            - name: me
              user: {token: first-token}
            """)
        let second = try dir.write("b/config", """
            current-context: other
            clusters:
            - name: shared
              cluster: {server: "http://127.0.0.1:8080"}
            users:
            - name: me
              user: {token: second-token}
            """)
        let config = try Kubeconfig.load(paths: [first, second])
        #expect(config.server.description == "http://127.0.0.1:8080")
        #expect(config.bearerToken == .fixed("first-token"))
    }

    @Test func resolve_prefersKUBECONFIG_thenInCluster_thenHome() throws {
        let dir = try TempDirectory(prefix: "kube-test")
        let path = try writeKubeconfig(dir)
        let fromEnv = try KubeClientConfiguration.resolve(environment: ["KUBECONFIG": "\(dir.path)/missing:\(path)"])
        #expect(fromEnv.server.host == "dev.example")
        let paths = try serviceAccount(dir)
        let inCluster = try KubeClientConfiguration.resolve(
            environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443", "HOME": dir.path],
            inClusterPaths: paths)
        #expect(inCluster.server.host == "10.0.0.1")
        try dir.write(".kube/config", Self.kubeconfig.replacingOccurrences(of: "certificate-authority: certs/ca.pem", with: ""))
        try dir.write(".kube/tokens/dev", "t")
        let fromHome = try KubeClientConfiguration.resolve(environment: ["HOME": dir.path])
        #expect(fromHome.server.host == "dev.example")
        #expect(throws: KubeConfigError.self) { try KubeClientConfiguration.resolve(environment: [:]) }
    }

    @Test(arguments: [
        ("https://h", "https://h:443"), ("http://h", "http://h:80"), ("https://[::1]:6443", "https://[::1]:6443"),
        ("https://h:6443/a/b/", "https://h:6443/a/b"),
    ])
    func serverURL_parses(_ pair: (String, String)) throws {
        #expect(try ServerURL.parse(pair.0).get().description == pair.1)
    }

    @Test(arguments: ["h:443", "ftp://h", "https://", "https://h:0", "https://h:x", "https://[::1", "https://u@h"])
    func serverURL_rejectsInvalid(_ text: String) {
        #expect(throws: ServerURLError.self) { try ServerURL.parse(text).get() }
    }

    @Test func transport_rejectsBadPEM_namingItsOrigin() {
        let config = KubeClientConfiguration(
            server: ServerURL(scheme: "https", host: "h", port: 443),
            tls: TLSSettings(certificateAuthority: PEMData(bytes: Array("junk".utf8), origin: "kubeconfig /x: cluster \"c\": certificate-authority-data")))
        do {
            _ = try AsyncHTTPClientTransport(configuration: config)
            Issue.record("expected an error")
        } catch let error as TransportError {
            #expect(error.description.contains("kubeconfig /x: cluster \"c\": certificate-authority-data"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
