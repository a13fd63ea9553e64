import Dispatch
import Synchronization

/// What restoring the snapshots of `--data-dir` did at start-up.
public struct RestoreReport: Sendable {
    /// Ids of the sessions restored.
    public var restored: [String] = []
    /// Snapshots that could not be restored: where each was moved and why.
    public var setAside: [(path: String, reason: String)] = []
    /// Temp files of interrupted writes that were deleted.
    public var leftoversRemoved = 0
    /// Snapshots of sessions another replica owns (by id), left in place untouched.
    public var foreign: [String] = []
}

/// What one snapshot pass did.
public struct SnapshotReport: Sendable {
    /// Sessions whose snapshot was (re)written.
    public var written = 0
    /// Snapshot files of sessions that no longer exist, removed.
    public var removed = 0
    /// Sessions whose snapshot could not be written, with the error.
    public var failures: [(id: String, error: String)] = []
}

/// Durable sessions (docs/DESIGN.md): restores snapshots at start-up and writes those of changed
/// sessions every `snapshotInterval` seconds and at shutdown. One pass runs at a time, on
/// `queue`; each session is captured on its own queue, between two of its requests.
final class Persistence: Sendable {
    let store: SnapshotStore
    private let registry: SessionRegistry
    private let queue = DispatchQueue(label: "tensord.snapshots")
    private let running = Atomic<Bool>(false)
    /// For `/metrics`.
    let written = Counter()
    let passes = Counter()
    let failures = Counter()
    let restored = Counter()
    let setAside = Counter()

    init(directory: String, registry: SessionRegistry) {
        store = SnapshotStore(directory: directory)
        self.registry = registry
    }

    private var limits: SnapshotLimits {
        let configuration = registry.configuration
        return SnapshotLimits(maxBytes: configuration.sessionMaxBytes, maxArrayElements: configuration.maxArrayElements,
                              maxArrays: configuration.maxArraysPerSession)
    }

    /// Creates the directories and restores every snapshot; a snapshot that fails any check is
    /// moved to `corrupt/` and reported. Throws only when the directories cannot be created.
    func restore() throws(SnapshotStore.IOError) -> RestoreReport {
        try store.prepare()
        var report = RestoreReport()
        let (ids, leftovers) = store.listing()
        for name in leftovers { store.removeLeftover(name) }
        report.leftoversRemoved = leftovers.count
        for id in ids {
            // A directory shared by mistake (or a pod given another ordinal): another replica's
            // sessions are neither served here nor set aside, and their files are never removed.
            if let owner = SessionID.owner(of: id), owner.replica != registry.configuration.replicaID {
                report.foreign.append(id)
                continue
            }
            do throws(SnapshotError) {
                let snapshot = try SnapshotFormat.decode(try store.read(id: id, maxBytes: limits.maxFileBytes), limits: limits)
                guard snapshot.id == id else { throw SnapshotError("file name says '\(id)', metadata says '\(snapshot.id)'") }
                guard SessionID.owner(of: id) != nil else { throw SnapshotError("'\(id)' is not a session id") }
                do { try registry.restore(snapshot) } catch { throw SnapshotError(error.description) }
                report.restored.append(id)
                restored.add()
            } catch {
                let destination: String
                do { destination = try store.setAside(id: id, now: registry.configuration.clock()) } catch {
                    destination = "\(store.path(of: id)) (not moved: \(error))"
                }
                report.setAside.append((destination, error.message))
                setAside.add()
            }
        }
        return report
    }

    /// Writes the snapshot of every session changed since its last one and removes the files of
    /// sessions that ended. Waits for a pass already running.
    func snapshot() -> SnapshotReport {
        queue.sync { pass() }
    }

    private func pass() -> SnapshotReport {
        var report = SnapshotReport()
        for handle in registry.unsavedSessions() {
            guard let (snapshot, generation) = registry.capture(handle) else { continue }
            do throws(SnapshotStore.IOError) {
                try store.write(SnapshotFormat.encode(snapshot), id: handle.id)
                registry.markSaved(handle.id, generation: generation)
                report.written += 1
                written.add()
            } catch {
                report.failures.append((handle.id, error.description))
                failures.add()
            }
        }
        // After the writes, so a session deleted while it was being written loses its file too.
        let live = registry.liveIDs()
        let replica = registry.configuration.replicaID
        for id in store.listing().ids where !live.contains(id) && SessionID.owner(of: id)?.replica ?? replica == replica {
            store.remove(id: id)
            report.removed += 1
        }
        passes.add()
        return report
    }

    /// Runs a pass every `interval` seconds until ``stop()``, handing each report to `report`.
    func start(every interval: Double, report: @escaping @Sendable (SnapshotReport) -> Void) {
        guard interval > 0, !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        schedule(after: interval, report: report)
    }

    /// Stops the periodic passes (a pass in progress finishes).
    func stop() { running.store(false, ordering: .releasing) }

    private func schedule(after interval: Double, report: @escaping @Sendable (SnapshotReport) -> Void) {
        queue.asyncAfter(deadline: .now() + interval) { [weak self] in
            guard let self, self.running.load(ordering: .acquiring) else { return }
            report(self.pass())
            self.schedule(after: interval, report: report)
        }
    }
}
