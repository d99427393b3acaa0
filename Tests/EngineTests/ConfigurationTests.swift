import Foundation
import RingCore
import Testing
import TestSupport
@testable import Engine
@testable import KubeRuntime
@testable import VolumeStorage

@Suite("Configuration from the original's environment")
struct EnvironmentConfigurationTests {
    let base = ["PROVISIONER_NAME": "shoogoome.com/nfs", "NFS_SERVER": "10.0.0.1:10.0.0.2:10.0.0.3", "NFS_PATH": "/a:/b:/c"]

    @Test("gives the seed-compatible ring: crc32, 255 vnodes, servers in order, mounts under /persistent-volumes")
    func environment_givesSeedCompatibleRing() throws {
        let c = try ProvisionerConfiguration.fromEnvironment(base)
        #expect(c.ring == .stathatCompatible)
        #expect(c.members.map(\.name) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
        #expect(c.members.map(\.address) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
        #expect(c.members.map(\.export) == ["/a", "/b", "/c"])
        #expect(c.members.map(\.mountPath) == ["/persistent-volumes/10.0.0.1", "/persistent-volumes/10.0.0.2", "/persistent-volumes/10.0.0.3"])
        #expect(c.verbose == false)
        // Placement equals the original's for a vector produced by the Go library.
        let ring = try RingSnapshot(members: c.ringMembers, configuration: c.ring)
        #expect(try ring.locate(PlacementKey.forClaim(namespace: "feature-test", name: "nextcloud-logs-4102")).name == "10.0.0.1")
    }

    @Test("LOG turns on verbose logs unless empty, 0 or false")
    func log_variable() throws {
        for (value, verbose) in [("1", true), ("true", true), ("debug", true), ("", false), ("0", false), ("false", false)] {
            var env = base
            env["LOG"] = value
            #expect(try ProvisionerConfiguration.fromEnvironment(env).verbose == verbose, "LOG=\(value)")
        }
    }

    @Test("bad environments are refused with the variable and the fix named", arguments: [
        (["NFS_SERVER": "a:b", "NFS_PATH": "/x"], "lists 2 servers but NFS_PATH lists 1 path"),
        (["NFS_SERVER": "a", "NFS_PATH": "/x:/y"], "lists 1 server but NFS_PATH lists 2 paths"),
        (["NFS_SERVER": "a::b", "NFS_PATH": "/x:/y:/z"], "NFS_SERVER entry 2 is empty"),
        (["NFS_SERVER": "a:b", "NFS_PATH": "/x:"], "NFS_PATH entry 2 is empty"),
        (["NFS_SERVER": "a:b:a", "NFS_PATH": "/x:/y:/z"], "lists a twice (entries 1 and 3)"),
        (["NFS_SERVER": "", "NFS_PATH": "/x"], "NFS_SERVER is not set"),
        (["NFS_SERVER": "a"], "NFS_PATH is not set"),
        (["NFS_SERVER": "[fd00::1]", "NFS_PATH": "/x"], "IPv6"),
        (["NFS_SERVER": "a", "NFS_PATH": "x"], "must be an absolute path"),
        (["PROVISIONER_NAME": "", "NFS_SERVER": "a", "NFS_PATH": "/x"], "PROVISIONER_NAME is not set"),
        (["PROVISIONER_NAME": "bad name!", "NFS_SERVER": "a", "NFS_PATH": "/x"], "not a valid provisioner name"),
        (["PROVISIONER_NAME": "a/b/c", "NFS_SERVER": "a", "NFS_PATH": "/x"], "not a valid provisioner name"),
    ])
    func badEnvironment_isRefused(overrides: [String: String], message: String) {
        var env = base
        env.removeValue(forKey: "NFS_PATH")
        env.removeValue(forKey: "NFS_SERVER")
        for (k, v) in overrides { env[k] = v }
        do {
            _ = try ProvisionerConfiguration.fromEnvironment(env)
            Issue.record("accepted \(env)")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test("provisioner names follow Kubernetes' qualified-name rule")
    func provisionerNames() {
        for good in ["example.com/nfs", "nfs", "shoogoome.com/nfs", "a.b-c/x_y.z", "cluster.local/nfs-subdir-external-provisioner"] {
            #expect((try? ProvisionerName.validate(good, source: "t")) != nil, "\(good)")
        }
        for bad in ["", "/nfs", "example.com/", "-nfs", "nfs-", "Ex ample/nfs", "a/b/c", String(repeating: "x", count: 64)] {
            #expect((try? ProvisionerName.validate(bad, source: "t")) == nil, "\(bad)")
        }
        #expect(ProvisionerName.leaseName(for: "example.com/nfs") == "example.com-nfs")
    }
}

@Suite("Configuration from a YAML file")
struct YAMLConfigurationTests {
    @Test("a full file, with IPv6 and defaults")
    func yaml_fullFile() throws {
        let c = try ProvisionerConfiguration.fromYAML("""
            provisionerName: example.com/nfs
            ring:
              virtualNodes: 100
            members:
              - address: 10.0.0.1
                export: /exports
              - name: v6
                address: "fd00::10"
                export: /srv/nfs
                weight: 2
                state: draining
              - address: nfs-3.example.com
                export: /e
                mode: direct
            """, source: "test.yaml")
        #expect(c.ring == RingConfiguration(virtualNodesPerMember: 100, hash: .xxh3))
        #expect(c.members.map(\.name) == ["10.0.0.1", "v6", "nfs-3.example.com"])
        #expect(c.members[1].address == "fd00::10")
        #expect(c.members[1].weight == 2 && c.members[1].state == .draining)
        #expect(c.members[0].mountPath == "/persistent-volumes/10.0.0.1")
        #expect(c.members[2].mode == .direct && c.members[2].mountPath == nil)
        #expect(c.ringMembers == [Member("10.0.0.1"), Member("v6", weight: 2), Member("nfs-3.example.com")])
    }

    @Test("bad files are refused naming the field", arguments: [
        ("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: /e\n    wieght: 2\n", "members[0].wieght is not a known setting"),
        ("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: /e\n    weight: two\n", "members[0].weight must be an integer"),
        ("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: /e\n    weight: 0\n", "members[0].weight must be an integer of at least 1"),
        ("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: /e\n  - address: a\n    export: /f\n", "already used by members[0]"),
        ("provisionerName: x.com/nfs\nmembers:\n  - export: /e\n", "members[0].address is not set"),
        ("provisionerName: x.com/nfs\nmembers:\n  - address: a\n", "members[0].export is not set"),
        ("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: /e\n    state: paused\n", "not a state"),
        ("provisionerName: x.com/nfs\nring:\n  hash: md5\nmembers:\n  - address: a\n    export: /e\n", "not a hash"),
        ("provisionerName: x.com/nfs\nring:\n  virtualNodes: 0\nmembers:\n  - address: a\n    export: /e\n", "ring.virtualNodes must be at least 1"),
        ("provisionerName: x.com/nfs\nmembers: []\n", "no NFS servers are configured"),
        ("provisionerName: x.com/nfs\n", "members is not set"),
        ("members: [", "not YAML"),
        ("", "the file is empty"),
        ("- a\n- b\n", "must be a mapping"),
        ("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: /e\n    nfsPort: 2049\n", "members[0].nfsPort is only valid with `mode: direct`"),
        ("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: /e\n    mode: mounted\n    mountPort: 20048\n", "members[0].mountPort is only valid with `mode: direct`"),
        ("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: /e\n    mode: direct\n    nfsPort: 0\n", "members[0].nfsPort must be a port number between 1 and 65535, got 0"),
        ("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: /e\n    mode: direct\n    nfsPort: 65536\n", "members[0].nfsPort must be a port number between 1 and 65535, got 65536"),
        ("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: /e\n    mode: direct\n    mountPort: -1\n", "members[0].mountPort must be a port number between 1 and 65535, got -1"),
        ("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: /e\n    mode: direct\n    mountPort: mountd\n", "members[0].mountPort must be an integer"),
        ("provisionerName: x.com/nfs\nmembers:\n  - address: a\n    export: /e\n    mode: direct\n    nfsPort: [2049]\n", "members[0].nfsPort must be an integer"),
    ])
    func badYAML_isRefused(text: String, message: String) {
        do {
            _ = try ProvisionerConfiguration.fromYAML(text, source: "bad.yaml")
            Issue.record("accepted:\n\(text)")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
            #expect(error.description.contains("bad.yaml"))
        }
    }

    @Test("direct members may name their NFS and MOUNT ports; absent ports are asked of rpcbind")
    func yaml_directMemberPorts() throws {
        let c = try ProvisionerConfiguration.fromYAML("""
            provisionerName: example.com/nfs
            members:
              - name: a
                address: 127.0.0.1
                export: /export
                mode: direct
                nfsPort: 12049
                mountPort: 65535
              - name: b
                address: 127.0.0.1
                export: /export
                mode: direct
                nfsPort: 1
            """, source: "ports.yaml")
        #expect(c.members[0].nfsPort == 12049 && c.members[0].mountPort == 65535)
        #expect(c.members[1].nfsPort == 1 && c.members[1].mountPort == nil)
        let store = try #require(try c.members[0].makeVolumeStore() as? DirectNFSVolumeStore)
        #expect(store.configuration.nfsPort == 12049 && store.configuration.mountPort == 65535)
        let other = try #require(try c.members[1].makeVolumeStore() as? DirectNFSVolumeStore)
        #expect(other.configuration.nfsPort == 1 && other.configuration.mountPort == nil)
    }

    @Test("ports set in code on a mounted member, or port 0, are refused by validate()")
    func validate_refusesPortsOnMountedMembersAndPortZero() {
        let mounted = MemberConfiguration(name: "m", address: "h", export: "/e", mountPath: "/mnt/m", nfsPort: 2049)
        let zero = MemberConfiguration(name: "d", address: "h", export: "/e", mountPath: nil, mode: .direct, mountPort: 0)
        for (member, message) in [(mounted, "members[0].nfsPort is only valid with `mode: direct`"),
                                  (zero, "members[0].mountPort must be a port number between 1 and 65535, got 0")] {
            let configuration = ProvisionerConfiguration(
                provisionerName: "example.com/nfs", ring: RingConfiguration(virtualNodesPerMember: 10, hash: .xxh3),
                members: [member], source: "code")
            do {
                try configuration.validate()
                Issue.record("accepted \(member)")
            } catch {
                #expect(error.description.hasPrefix("code: " + message), "\(error.description)")
            }
        }
    }

    @Test("an unreadable file names the path and the reason")
    func unreadableFile() {
        #expect(throws: ConfigurationError.self) { try ProvisionerConfiguration.fromYAMLFile("/nonexistent/config.yaml") }
        do { _ = try ProvisionerConfiguration.fromYAMLFile("/nonexistent/config.yaml") } catch {
            #expect(error.description.contains("/nonexistent/config.yaml"))
        }
    }
}
