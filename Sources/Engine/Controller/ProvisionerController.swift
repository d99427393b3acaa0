import Foundation
import Logging
import Synchronization
import KubeRuntime
import VolumeStorage

/// What `/readyz` needs to know about the controller.
package struct ControllerStatus: Sendable {
    package var cachesSynced: Bool
    package var claimsQueued: Int
    package var volumesQueued: Int
}

/// The provisioning controller: watches claims, volumes and classes into caches, and runs
/// the claim and volume reconcilers on work queues.
///
/// ```
/// Watcher(PVC) ─┐                      claim keys ──> WorkQueue ──> N × ClaimReconciler
/// Watcher(PV)  ─┼─> Stores ─ changes ─┤
/// Watcher(SC)  ─┘                      volume keys ─> WorkQueue ──> M × VolumeReconciler
/// ```
///
/// Everything runs inside ``run()`` in one task group (structured: nothing outlives it).
/// No reconcile starts before all three caches have synced. A class change re-queues its
/// claims; a periodic resync re-queues everything; members are probed on a timer.
/// ``beginShutdown()`` stops taking work: queued keys are dropped, reconciles in flight
/// finish, then ``run()`` returns.
package final class ProvisionerController<C: Clock>: Sendable where C.Duration == Duration {
    package let context: ProvisioningContext
    private let claimQueue: WorkQueue<ObjectKey, C>
    private let volumeQueue: WorkQueue<ObjectKey, C>
    private let clock: C
    private let synced = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let stopSignal = OneShotSignal()

    package init(context: ProvisioningContext, clock: C) {
        self.context = context
        self.clock = clock
        claimQueue = WorkQueue(clock: clock, backoff: context.configuration.backoff)
        volumeQueue = WorkQueue(clock: clock, backoff: context.configuration.backoff)
    }

    /// True once the caches synced and the members joined.
    var isSynced: Bool { synced.load(ordering: .acquiring) }

    package var status: ControllerStatus {
        get async {
            ControllerStatus(cachesSynced: synced.load(ordering: .acquiring),
                             claimsQueued: await claimQueue.depth, volumesQueued: await volumeQueue.depth)
        }
    }

    /// Stops taking new work; ``run()`` returns once the reconciles in flight finish.
    package func beginShutdown() async {
        stopping.store(true, ordering: .releasing)
        stopSignal.fire()
        await claimQueue.shutDown()
        await volumeQueue.shutDown()
        context.claims.finish()
        context.volumes.finish()
        context.classes.finish()
    }

    /// Runs until ``beginShutdown()`` (returns after in-flight work) or cancellation.
    package func run() async throws {
        let ctx = context
        let logger = context.logger
        let watcherLog = logger
        await withTaskGroup(of: Void.self) { group in
            // Caches. They run until the whole group is cancelled at the end.
            group.addTask {
                await withDiscardingTaskGroup { inner in
                    inner.addTask { await Reflector(source: Watcher<PersistentVolumeClaim>(client: ctx.client).backoff(), store: ctx.claims, logger: watcherLog).consume() }
                    inner.addTask { await Reflector(source: Watcher<PersistentVolume>(client: ctx.client).backoff(), store: ctx.volumes, logger: watcherLog).consume() }
                    inner.addTask { await Reflector(source: Watcher<StorageClass>(client: ctx.client).backoff(), store: ctx.classes, logger: watcherLog).consume() }
                }
            }
            group.addTask { await self.claimQueue.runDelays() }
            group.addTask { await self.volumeQueue.runDelays() }
            group.addTask { await ctx.events.run() }
            group.addTask { await self.probeMembers() }

            // Wait for the caches, unless a shutdown comes first (the API may be unreachable).
            let cachesReady = await withTaskGroup(of: Bool.self) { race in
                race.addTask {
                    do {
                        try await ctx.claims.waitUntilSynced()
                        try await ctx.volumes.waitUntilSynced()
                        try await ctx.classes.waitUntilSynced()
                        return true
                    } catch { return false }
                }
                race.addTask {
                    await self.stopSignal.wait()
                    return false
                }
                let first = await race.next() ?? false
                race.cancelAll()
                return first
            }
            guard cachesReady, !stopping.load(ordering: .acquiring) else {
                ctx.events.finish()
                group.cancelAll()
                return
            }
            // Members join before any reconcile: their records listed, older volumes
            // recorded (a member that cannot be reached joins later, from the probe loop).
            await self.joinMembers(onlyUnloaded: false)
            synced.store(true, ordering: .releasing)
            logger.info("caches synced", metadata: ["claims": "\(ctx.claims.count)", "volumes": "\(ctx.volumes.count)", "classes": "\(ctx.classes.count)"])

            // Keys from the caches into the queues.
            group.addTask { for await key in ctx.claims.changes() { await self.claimQueue.add(key) } }
            group.addTask { for await key in ctx.volumes.changes() { await self.volumeQueue.add(key) } }
            group.addTask {
                for await key in ctx.classes.changes(includeExisting: false) {
                    for claim in ctx.claims.objects where ClaimRules.className(of: claim) == key.name {
                        await self.claimQueue.add(claim.key)
                    }
                }
            }
            group.addTask { await self.resync() }

            // Workers: the only tasks whose end means the controller is done.
            await withDiscardingTaskGroup { workers in
                for _ in 0..<max(1, ctx.configuration.claimWorkers) {
                    workers.addTask { await self.work(self.claimQueue, "claim", ClaimReconciler(context: ctx).reconcile) }
                }
                for _ in 0..<max(0, ctx.configuration.volumeWorkers) {
                    workers.addTask { await self.work(self.volumeQueue, "volume", VolumeReconciler(context: ctx).reconcile) }
                }
            }
            ctx.events.finish()
            group.cancelAll()
        }
    }

    /// One worker: take a key, reconcile, apply the outcome, until the queue shuts down.
    private func work(_ queue: WorkQueue<ObjectKey, C>, _ kind: String,
                      _ reconcile: @Sendable (ObjectKey) async throws -> ReconcileOutcome) async {
        while let key = await queue.next() {
            let result: Result<ReconcileOutcome, any Error>
            do { result = .success(try await reconcile(key)) } catch { result = .failure(error) }
            switch ReconcileResultMapping.action(for: result) {
            case .forget:
                if case .failure(let error) = result {
                    context.logger.error("\(kind) reconcile failed; waiting for a change", metadata: ["key": "\(key)", "error": "\(error)"])
                }
                await queue.forget(key)
            case .forgetAndAdd(let delay):
                await queue.forget(key)
                await queue.add(key, after: delay)
            case .stop:
                await queue.done(key)
                return
            case .backoff:
                let delay = await queue.addRateLimited(key)
                let failures = await queue.failureCount(key)
                context.logger.warning("\(kind) reconcile failed; retrying", metadata: [
                    "key": "\(key)", "error": "\(result.failureDescription)", "retryIn": "\(delay)", "failures": "\(failures)",
                ])
            }
            await queue.done(key)
            context.metrics.queueDepth("claims", await claimQueue.depth)
            context.metrics.queueDepth("volumes", await volumeQueue.depth)
        }
    }

    /// One resync pass now, as the periodic one does: records listed again, crash leftovers
    /// collected, every claim and volume re-queued. Then waits until both queues are idle
    /// (each key handled once more; delayed retries not awaited). For tests and operators'
    /// tools: "the engine looked at everything again and did what it does".
    package func resyncNowAndWait() async {
        await resyncPass()
        await claimQueue.waitUntilIdle()
        await volumeQueue.waitUntilIdle()
    }

    /// Re-queues every claim and volume every resync period (level-based safety net), lists
    /// every member's records again (the index is a cache of the record files), and removes
    /// the empty volumes a crash left behind (``OrphanCollector``).
    private func resync() async {
        while !stopping.load(ordering: .acquiring) {
            do { try await clock.sleep(for: context.configuration.resyncPeriod) } catch { return }
            await resyncPass()
        }
    }

    /// One resync pass: records listed again, crash leftovers collected, every claim and
    /// volume re-queued.
    private func resyncPass() async {
        await joinMembers(onlyUnloaded: false)
        await OrphanCollector(context: context).collect()
        for claim in context.claims.objects { await claimQueue.add(claim.key) }
        for volume in context.volumes.objects { await volumeQueue.add(volume.key) }
    }

    /// Lists the members' records and records older volumes (``MemberJoin``), all members
    /// at once (one hung member costs one timeout); with `onlyUnloaded`, only members whose
    /// records are not loaded yet (added by a reload, or unreachable so far).
    func joinMembers(onlyUnloaded: Bool, names: Set<String>? = nil) async {
        let join = MemberJoin(context: context)
        await withDiscardingTaskGroup { group in
            for entry in context.members.all where (!onlyUnloaded || !entry.storage.records.isLoaded)
                && names.map({ $0.contains(entry.configuration.name) }) ?? true {
                group.addTask {
                    do throws(StorageError) {
                        try await join.join(entry)
                    } catch {
                        self.context.logger.warning("member records not loaded; the member takes no new volumes until they are", metadata: [
                            "member": "\(entry.configuration.name)", "error": "\(error)",
                        ])
                    }
                    self.context.metrics.memberRecords(member: entry.configuration.name, count: entry.storage.records.count,
                                                       loaded: entry.storage.records.isLoaded)
                }
            }
        }
    }

    /// Probes members when due, reads their free space for placement, lets members whose
    /// records are not loaded join, and publishes their health.
    private func probeMembers() async {
        while !stopping.load(ordering: .acquiring) {
            await withDiscardingTaskGroup { group in
                for entry in context.members.all {
                    group.addTask {
                        await entry.storage.setDraining(entry.configuration.state == .draining)
                        _ = await entry.storage.probeIfDue()
                        let health = await entry.storage.health
                        let reading = health.condition.isAvailable ? await entry.storage.refreshFreeSpace() : await entry.storage.lastFreeSpace
                        self.context.metrics.memberHealth(member: entry.configuration.name, healthy: health.condition.isAvailable,
                                                          availableBytes: reading.stats?.availableBytes)
                    }
                }
            }
            if synced.load(ordering: .acquiring) { await joinMembers(onlyUnloaded: true) }
            do { try await clock.sleep(for: context.configuration.probeInterval) } catch { return }
        }
    }
}

extension Result where Failure == any Error {
    var failureDescription: String {
        if case .failure(let error) = self { return "\(error)" }
        return ""
    }
}
