import Foundation

/// The Lease of leader election on the API server: GET, POST, and PUT with the
/// resourceVersion (client-go's LeaseLock does exactly these; no patch, no watch), so a
/// lost race is a 409 Conflict. The Lease is owned entirely by this program, so a PUT of
/// the whole object loses nothing.
package struct KubeLeaseStore: LeaseStore {
    package let client: KubeClient
    package let name: String
    package let namespace: String

    package init(client: KubeClient, name: String, namespace: String) {
        self.client = client
        self.name = name
        self.namespace = namespace
    }

    package func get() async throws(LeaseStoreError) -> StoredLease? {
        do {
            return Self.stored(try await client.get(Lease.self, name: name, namespace: namespace))
        } catch let error as KubeError where error.isNotFound {
            return nil
        } catch {
            throw .failed("GET lease \(namespace)/\(name): \(error)")
        }
    }

    package func create(_ record: LeaseRecord) async throws(LeaseStoreError) -> StoredLease {
        do {
            return Self.stored(try await client.create(Lease(metadata: ObjectMeta(name: name, namespace: namespace), spec: Self.spec(record))))
        } catch let error as KubeError where error.isAlreadyExists {
            throw .alreadyExists
        } catch {
            throw .failed("POST lease \(namespace)/\(name): \(error)")
        }
    }

    package func update(_ record: LeaseRecord, resourceVersion: String) async throws(LeaseStoreError) -> StoredLease {
        let lease = Lease(metadata: ObjectMeta(name: name, namespace: namespace, resourceVersion: resourceVersion), spec: Self.spec(record))
        do {
            return Self.stored(try await client.update(lease))
        } catch let error as KubeError where error.isConflict {
            throw .conflict
        } catch {
            throw .failed("PUT lease \(namespace)/\(name): \(error)")
        }
    }

    static func spec(_ r: LeaseRecord) -> Lease.Spec {
        Lease.Spec(holderIdentity: r.holderIdentity, leaseDurationSeconds: Int32(clamping: r.leaseDurationSeconds),
                   acquireTime: MicroTime(r.acquireTime), renewTime: MicroTime(r.renewTime),
                   leaseTransitions: Int32(clamping: r.leaseTransitions))
    }

    static func stored(_ lease: Lease) -> StoredLease {
        let s = lease.spec
        let record = LeaseRecord(
            holderIdentity: s?.holderIdentity ?? "", leaseDurationSeconds: Int(s?.leaseDurationSeconds ?? 0),
            acquireTime: s?.acquireTime?.date ?? Date(timeIntervalSince1970: 0),
            renewTime: s?.renewTime?.date ?? Date(timeIntervalSince1970: 0),
            leaseTransitions: Int(s?.leaseTransitions ?? 0))
        return StoredLease(record: record, resourceVersion: lease.metadata.resourceVersion)
    }
}
