import Engine
import KubeRuntime
import VolumeStorage
import Foundation
import LocalCluster
import Logging
import RingCore

/// The demo's script: each step prints what happened and checks it against the cluster
/// and the disks; disagreements are collected as mismatches (the demo then fails).
struct DemoScenario {
    struct Outcome {
        var mismatches: [String] = []
    }

    let cluster: LocalCluster
    let root: String
    let configuration: ProvisionerConfiguration
    /// Where each member's export is on this machine: the mount path of a mounted member,
    /// the served directory of a real NFS server. The demo writes workload data there and
    /// checks deletes there, as a pod on a node would see the volume.
    let localDirectories: [String: String]
    /// The engine's client-side API rate limit (`--kube-api-qps`, `--kube-api-burst`).
    let rateLimit: RateLimit
    let claimCount: Int
    let show: DemoOutput
    let verbose: Bool
    let provisionerName = "demo.example.com/nfs"
    let classes = [("nfs-delete", "delete"), ("nfs-archive", "archive"), ("nfs-retain", "retain")]

    /// - Parameters:
    ///   - members: the ring's members (see ``localMembers(root:count:)``, and
    ///     `DemoNFSServers` for real servers).
    ///   - localDirectories: member name → its export's directory on this machine.
    init(cluster: LocalCluster, root: String, members: [MemberConfiguration], localDirectories: [String: String], rateLimit: RateLimit,
         claimCount: Int, hash: RingHash, show: DemoOutput, verbose: Bool) {
        self.cluster = cluster
        self.root = root
        self.claimCount = claimCount
        self.show = show
        self.verbose = verbose
        self.localDirectories = localDirectories
        self.rateLimit = rateLimit
        configuration = ProvisionerConfiguration(provisionerName: provisionerName,
                                                 ring: RingConfiguration(virtualNodesPerMember: 255, hash: hash),
                                                 members: members, source: "demo")
    }

    /// Mounted members on plain directories `<root>/nfs-<i>` (the default demo).
    static func localMembers(root: String, count: Int) throws -> (members: [MemberConfiguration], directories: [String: String]) {
        var members: [MemberConfiguration] = []
        var directories: [String: String] = [:]
        for i in 1...count {
            let dir = root + "/nfs-\(i)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            members.append(MemberConfiguration(name: "nfs-\(i)", address: "nfs-\(i).demo.local", export: "/exports", mountPath: dir))
            directories["nfs-\(i)"] = dir
        }
        return (members, directories)
    }

    /// The local directory of a member's export.
    func localDirectory(_ member: String) throws -> String {
        guard let directory = localDirectories[member] else { throw DemoError.unknownMember(member) }
        return directory
    }

    /// Claim names like a few StatefulSets' in three namespaces.
    var claimNames: [(namespace: String, name: String, className: String)] {
        let namespaces = ["shop", "analytics", "ci"]
        let apps = ["postgres", "redis", "kafka", "elasticsearch", "minio", "grafana", "etcd", "mysql"]
        return (0..<claimCount).map { i in
            (namespaces[i % namespaces.count], "data-\(apps[(i / 3) % apps.count])-\(i / (3 * apps.count))", classes[i % classes.count].0)
        }
    }

    func run() async throws -> Outcome {
        var outcome = Outcome()
        func check(_ ok: Bool, _ what: @autoclosure () -> String) {
            if !ok { outcome.mismatches.append(what()) }
        }

        let kubeconfig = root + "/kubeconfig"
        try cluster.kubeconfigYAML(namespace: "default").write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        // Two clients, as in a cluster: the engine's, with its rate limit, and the demo's own
        // (the user's kubectl), unlimited, for its writes and its watches.
        var userConfiguration = try Kubeconfig.load(paths: [kubeconfig])
        userConfiguration.rateLimit = .unlimited
        var engineConfiguration = userConfiguration
        engineConfiguration.rateLimit = rateLimit
        let logger = Logger(label: "nfs-cluster-provisioner")
        let client = KubeClient(configuration: userConfiguration, transport: try AsyncHTTPClientTransport(configuration: userConfiguration), logger: logger)
        let engineTransport = try AsyncHTTPClientTransport(configuration: engineConfiguration)
        defer { Task { try? await client.shutdown(); try? await engineTransport.shutdown() } }
        let watch = DemoWatch(client: client, logger: Logger(label: "demo", factory: { _ in SwiftLogNoOpLogHandler() }))
        defer { watch.stop() }

        // The engine, with leader election as in a real Deployment.
        var options = ProvisionerEngine.Options(engine: EngineConfiguration(provisionerName: provisionerName))
        options.storeFactory = MemberRegistry.standardFactory(requireMountPoints: false)
        options.engine.minFreeBytes = 0
        options.leaderElection = LeaderElectionConfiguration(
            identity: "demo-replica-\(String(UInt16.random(in: 0...UInt16.max), radix: 16))", leaseName: ProvisionerName.leaseName(for: provisionerName),
            namespace: "default", leaseDuration: .seconds(4), renewDeadline: .seconds(3), retryPeriod: .milliseconds(500))
        let engine = try ProvisionerEngine(configuration: configuration, api: engineConfiguration, transport: engineTransport,
                                           options: options, logger: logger)
        let run = Task { try await engine.run() }

        show.heading("1. \(configuration.members.count) NFS servers on a \(configuration.ring) ring")
        let ring = try RingSnapshot(members: configuration.ringMembers, configuration: configuration.ring)
        let shares = ring.ownership()
        if shares.count > Self.listedMembers, let low = shares.min(by: { $0.share < $1.share }), let high = shares.max(by: { $0.share < $1.share }) {
            show.line("  \(shares.count) members, \(configuration.members.first.map { "\($0.name) \($0.address):\($0.export) → \($0.mountPath ?? "")" } ?? "") ...")
            show.line("  ring shares from \(String(format: "%.3f", low.share * 100))% (\(low.member.name)) to \(String(format: "%.3f", high.share * 100))% (\(high.member.name)); even would be \(String(format: "%.3f", 100 / Double(shares.count)))%")
        }
        for share in shares where shares.count <= Self.listedMembers {
            guard let m = configuration.member(named: share.member.name) else { continue }
            let reach = m.mode == .direct
                ? "direct NFSv3, ports \(m.nfsPort.map(String.init) ?? "rpcbind")/\(m.mountPort.map(String.init) ?? "rpcbind")"
                : "→ \(m.mountPath ?? "")"
            show.line("  \(share.member.name)  \(m.address):\(m.export)  \(reach)   owns \(String(format: "%.1f", share.share * 100))% of the ring")
        }
        try await waitFor("leadership", timeout: .seconds(20)) { await engine.leadership == .leader }
        show.line("  this replica holds the leader Lease default/\(ProvisionerName.leaseName(for: provisionerName))")

        show.heading("2. StorageClasses, one per delete policy")
        for (name, policy) in classes {
            _ = try await client.create(StorageClass(metadata: ObjectMeta(name: name), provisioner: provisionerName,
                                                     parameters: ["onDelete": policy], reclaimPolicy: "Delete"))
            show.line("  \(name): onDelete=\(policy)")
        }

        show.heading("3. \(claimCount) claims (StatefulSet-like names in three namespaces)")
        let names = claimNames
        let started = ContinuousClock.now
        // Created as a deployment of StatefulSets would: many at once (16 requests in flight).
        var uids: [String: String] = [:]
        try await withThrowingTaskGroup(of: (String, String).self) { group in
            var next = names.makeIterator()
            func submit() {
                guard let c = next.next() else { return }
                group.addTask {
                    let created = try await client.create(PersistentVolumeClaim(
                        metadata: ObjectMeta(name: c.name, namespace: c.namespace),
                        spec: .init(accessModes: ["ReadWriteMany"], resources: .init(requests: ["storage": "1Gi"]), storageClassName: c.className)))
                    return ("\(c.namespace)/\(c.name)", created.metadata.uid)
                }
            }
            for _ in 0..<16 { submit() }
            while let (key, uid) = try await group.next() {
                uids[key] = uid
                submit()
            }
        }
        var placed: [String: VolumeRecord] = [:]
        // PVs as the watch brings them (no re-listing): the first few printed, then progress.
        let expected = Set(names.map { "\($0.namespace)/\($0.name)" })
        let volumes = try await watch.collect("a PV for every claim", from: watch.volumes, count: expected.count,
                                              timeout: Self.timeout(claims: names.count)) { pv -> (String, (VolumeRecord, String))? in
            guard let ref = pv.spec?.claimRef, let ns = ref.namespace, let name = ref.name, expected.contains("\(ns)/\(name)"),
                  let record = try? VolumeRecord(annotations: pv.metadata.annotations) else { return nil }
            let key = "\(ns)/\(name)"
            let line = "  \(key.padding(toLength: 32, withPad: " ", startingAt: 0)) → \(record.member) (\(pv.metadata.annotations[Annotations.placement] ?? "?"))  \(pv.metadata.name.prefix(16))…  \(pv.spec?.nfs?.server ?? ""):\(pv.spec?.nfs?.path ?? "")"
            return (key, (record, line))
        } each: { found, _, item in
            // The first PVs one line each (all of them in a small demo), then progress.
            if found <= Self.listedVolumes {
                show.line(item.1)
            } else if found % Self.progressStep(expected.count) == 0 {
                show.line("  ... \(found) of \(expected.count) claims have their PV")
            }
        }
        placed = volumes.mapValues(\.0)
        _ = try await watch.collect("every claim Bound", from: watch.claims, count: expected.count,
                                    timeout: Self.timeout(claims: names.count)) { claim -> (String, Bool)? in
            let key = "\(claim.metadata.namespace)/\(claim.metadata.name)"
            return claim.status?.phase == "Bound" && expected.contains(key) ? (key, true) : nil
        }
        let elapsed = started.duration(to: .now).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        for c in names {
            let key = "\(c.namespace)/\(c.name)"
            check(placed[key]?.member == (try? ring.locate("\(c.namespace)-\(c.name)").name), "\(key) is not on its ring member")
        }
        show.line("  all \(names.count) claims Bound, \(String(format: "%.1f", seconds)) s after the first claim was created (\(String(format: "%.0f", Double(names.count) / max(seconds, 0.001))) claims/s)")

        show.heading("4. Balance")
        var perMemberPlaced: [String: Int] = [:]
        for record in placed.values { perMemberPlaced[record.member, default: 0] += 1 }
        if shares.count > Self.listedMembers {
            let deviations = shares.map { share in
                (share.member.name, perMemberPlaced[share.member.name] ?? 0, Double(perMemberPlaced[share.member.name] ?? 0) - share.share * Double(names.count))
            }
            let counts = deviations.map(\.1).sorted()
            show.line("  volumes per member: min \(counts.first ?? 0), median \(counts[counts.count / 2]), max \(counts.last ?? 0) (ring shares predict \(String(format: "%.1f", Double(names.count) / Double(shares.count))) on average)")
            if let worst = deviations.max(by: { abs($0.2) < abs($1.2) }) {
                show.line("  furthest from its ring share: \(worst.0) with \(worst.1) volumes (\(String(format: "%+.1f", worst.2)) against its share)")
            }
        }
        for share in shares where shares.count <= Self.listedMembers {
            let count = perMemberPlaced[share.member.name] ?? 0
            show.line("  \(share.member.name): \(count) volumes (\(String(format: "%.1f", 100 * Double(count) / Double(names.count)))%), ring share \(String(format: "%.1f", share.share * 100))%")
        }

        // Workload data in every volume.
        for (key, record) in placed {
            let dir = try localDirectory(record.member) + "/" + record.directory.description
            try "written by \(key)\n".write(toFile: dir + "/data.txt", atomically: true, encoding: .utf8)
        }

        show.heading("5. Deleting one claim of each class")
        var deleted: [(key: String, policy: String, record: VolumeRecord, pv: String)] = []
        for (className, policy) in classes {
            guard let c = names.first(where: { $0.className == className }) else { continue }
            let key = "\(c.namespace)/\(c.name)"
            let pv = "pvc-\(uids[key] ?? "")"
            _ = try await client.delete(PersistentVolumeClaim.self, name: c.name, namespace: c.namespace)
            deleted.append((key, policy, placed[key]!, pv))
        }
        let deletedNames = Set(deleted.map(\.pv))
        try await watch.until("released volumes reclaimed", on: watch.volumes, timeout: .seconds(60)) { [volumes = watch.volumes] in
            deletedNames.allSatisfy { volumes.get(name: $0) == nil }
        }
        for d in deleted {
            let mount = try localDirectory(d.record.member)
            let dir = mount + "/" + d.record.directory.description
            let archived = ((try? FileManager.default.contentsOfDirectory(atPath: mount + "/.nfs-cluster-provisioner/archive")) ?? []).filter { $0.hasPrefix(d.pv) }
            switch d.policy {
            case "delete":
                check(!FileManager.default.fileExists(atPath: dir), "\(d.key): directory should be deleted")
                show.line("  \(d.key) (delete): PV gone, \(dir) removed")
            case "archive":
                check(!FileManager.default.fileExists(atPath: dir) && archived.count == 1, "\(d.key): directory should be archived")
                show.line("  \(d.key) (archive): PV gone, directory renamed to \(mount)/.nfs-cluster-provisioner/archive/\(archived.first ?? "?")")
            default:
                check(FileManager.default.fileExists(atPath: dir + "/data.txt"), "\(d.key): data should be retained")
                show.line("  \(d.key) (retain): PV gone, data kept in \(dir)")
            }
        }

        show.heading("6. Re-creating the retained claim (a StatefulSet pod coming back)")
        if let retained = deleted.first(where: { $0.policy == "retain" }) {
            let parts = retained.key.split(separator: "/").map(String.init)
            let again = try await client.create(PersistentVolumeClaim(
                metadata: ObjectMeta(name: parts[1], namespace: parts[0]),
                spec: .init(accessModes: ["ReadWriteMany"], resources: .init(requests: ["storage": "1Gi"]), storageClassName: "nfs-retain")))
            try await watch.until("re-created claim bound", on: watch.claims, timeout: .seconds(60)) { [claims = watch.claims] in
                claims.get(name: parts[1], namespace: parts[0])?.status?.phase == "Bound"
            }
            let pv = try await client.get(PersistentVolume.self, name: "pvc-\(again.metadata.uid)")
            let record = try VolumeRecord(annotations: pv.metadata.annotations)
            let dir = try localDirectory(record.member) + "/" + record.directory.description
            let data = (try? String(contentsOfFile: dir + "/data.txt", encoding: .utf8)) ?? ""
            check(record.member == retained.record.member && record.directory == retained.record.directory, "re-created claim moved")
            check(data == "written by \(retained.key)\n", "re-created claim lost its data")
            show.line("  \(retained.key) → \(record.member) again (\(pv.metadata.annotations[Annotations.placement] ?? "?")), found its data: \(data.trimmingCharacters(in: .newlines).debugDescription)")
        }

        show.heading("7. Summary")
        let pvs = try await client.listAll(PersistentVolume.self).items
        let expectedCount = names.count - deleted.count + 1
        check(pvs.count == expectedCount, "the cluster holds \(pvs.count) PVs, expected \(expectedCount)")
        var perMember: [String: Int] = [:]
        var records: [(pv: String, claimUID: String?, path: String)] = []
        for pv in pvs {
            guard let record = try? VolumeRecord(annotations: pv.metadata.annotations),
                  let mount = localDirectories[record.member] else {
                check(false, "PV \(pv.metadata.name) has no readable record")
                continue
            }
            perMember[record.member, default: 0] += 1
            records.append((pv.metadata.name, pv.spec?.claimRef?.uid,
                            mount + "/" + OwnershipRecord.recordPath(for: record.directory).description))
        }
        // The engine marks a record bound just after saving its PV, so a claim can be Bound
        // a moment before its record says so: wait (bounded) for that last write.
        func boundToItsClaim(_ entry: (pv: String, claimUID: String?, path: String)) -> Bool {
            let owner = (try? Data(contentsOf: URL(fileURLWithPath: entry.path))).flatMap { try? OwnershipRecord.decode(Array($0)) }
            return owner?.claimUID == entry.claimUID && owner?.state == .bound
        }
        try? await waitFor("ownership records marked bound", timeout: .seconds(30)) { records.allSatisfy(boundToItsClaim) }
        for entry in records where !boundToItsClaim(entry) {
            check(false, "PV \(entry.pv): the ownership record of its directory does not name its claim as bound")
        }
        show.line("  PVs in the cluster: \(pvs.count) (expected \(expectedCount))")
        if configuration.members.count <= Self.listedMembers {
            for m in configuration.members { show.line("  \(m.name): \(perMember[m.name] ?? 0) volumes") }
        } else {
            show.line("  on \(perMember.count) of \(configuration.members.count) members")
        }
        show.line("  deleted 1, archived 1, retained 1, re-created 1 (found its data)")

        engine.beginShutdown()
        try await run.value
        let lease = try await client.get(Lease.self, name: ProvisionerName.leaseName(for: provisionerName), namespace: "default")
        check(lease.spec?.holderIdentity == "", "the leader lease was not released on shutdown")
        show.line("  engine stopped; leader lease released")
        return outcome
    }

    /// Members and volumes listed one per line; beyond, a summary.
    static let listedMembers = 20
    static let listedVolumes = 24

    /// How long provisioning may take: generous, as the API rate limit decides it.
    static func timeout(claims: Int) -> Duration { .seconds(max(120, claims)) }

    /// Progress lines every tenth of the claims (rounded to a readable step).
    static func progressStep(_ claims: Int) -> Int { max(1, claims / 10) }

    /// Polls `condition` (100 ms apart) until it holds; throws after `timeout`.
    func waitFor(_ what: String, timeout: Duration, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DemoError.timedOut(what)
    }
}

enum DemoError: Error, CustomStringConvertible {
    case timedOut(String)
    case unknownMember(String)
    var description: String {
        switch self {
        case .timedOut(let what): return "the demo timed out waiting for \(what)"
        case .unknownMember(let member): return "a volume names member \(member), which the demo did not configure"
        }
    }
}
