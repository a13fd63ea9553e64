import Dispatch
import Foundation
import Synchronization

/// A live session as the registry hands it out: its serial queue and the engine state confined to it.
final class SessionHandle: @unchecked Sendable {
    // @unchecked: `session` is only touched by one block at a time (see `async`); `state`
    // hands it from one block to the next.
    let id: String
    /// Fingerprint of the API key that created the session (``APIKey/fingerprint``), "" when
    /// authentication is off. Never the key itself.
    let owner: String
    let session: Session
    private let queue: DispatchQueue
    private let state = Mutex(Serial())

    private struct Serial {
        /// Blocks submitted while another one runs, in order.
        var waiting: [@Sendable (Session) -> Void] = []
        /// A block is running (inline or on the queue).
        var running = false
        /// The last block took longer than ``inlineLimitNanoseconds``.
        var slow = false
    }

    /// A session whose last request took longer than this runs its next one on its queue, so
    /// that heavy work does not hold up the event loop (and its other connections).
    static let inlineLimitNanoseconds: UInt64 = 1_000_000

    init(id: String, owner: String, session: Session) {
        self.id = id
        self.owner = owner
        self.session = session
        self.queue = DispatchQueue(label: "tensord.session.\(id)")
    }

    /// Runs `body` on the session after every block submitted before it, one at a time.
    /// With `mayRunInline` (a small request), when the session is idle and its last request
    /// was quick, `body` runs right here on the calling thread (the connection's event loop):
    /// no hop to another thread and back, which is most of the time of a small request.
    /// Otherwise it waits its turn on the session's queue. (A quick session's first slow
    /// request therefore holds its event loop once; then the session runs on its queue until
    /// a request is quick again.)
    func async(mayRunInline: Bool, _ body: @escaping @Sendable (Session) -> Void) {
        let inline = state.withLock { serial -> Bool in
            if serial.running || serial.slow || !mayRunInline {
                serial.waiting.append(body)
                if serial.running { return false }
                serial.running = true
                queue.async { self.drain() }
                return false
            }
            serial.running = true
            return true
        }
        guard inline else { return }
        let slow = timed(body)
        let more = state.withLock { serial -> Bool in
            serial.slow = slow
            if serial.waiting.isEmpty { serial.running = false }
            return !serial.waiting.isEmpty
        }
        if more { queue.async { self.drain() } }
    }

    /// Runs the waiting blocks on the queue until none is left.
    private func drain() {
        var slow = false
        while let next = state.withLock({ serial -> (@Sendable (Session) -> Void)? in
            serial.slow = slow
            guard !serial.waiting.isEmpty else {
                serial.running = false
                return nil
            }
            return serial.waiting.removeFirst()
        }) {
            slow = timed(next)
        }
    }

    /// Runs `body` on the session between two of its requests (after every block submitted
    /// before it, never inline) and returns its result. Not for event-loop threads: it waits.
    func sync<Result: Sendable>(_ body: @escaping @Sendable (Session) -> Result) -> Result {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result?>(nil)
        async(mayRunInline: false) { session in
            let value = body(session)
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        // The block ran and stored its value before signalling.
        return result.withLock { $0! }
    }

    /// Runs `body`; returns whether it was slow.
    private func timed(_ body: (Session) -> Void) -> Bool {
        let start = DispatchTime.now().uptimeNanoseconds
        body(session)
        return DispatchTime.now().uptimeNanoseconds - start > Self.inlineLimitNanoseconds
    }
}

/// What a session looked like after its last request (served by the session list without
/// waiting on each session's queue).
struct SessionStatus: Sendable {
    let flags: Flags
    let scopes: [ScopeFrameSnapshot]
    let arrays: Int
    let bytes: Int
    let graphBytes: Int

    init(_ session: Session) {
        flags = session.flags
        scopes = session.scopes.map(ScopeFrameSnapshot.init)
        arrays = session.arrays.count
        bytes = session.context.allocatedBytes
        graphBytes = session.context.graphBytes
    }
}

/// A `ScopeFrame` without its engine token (so it can leave the session's queue).
struct ScopeFrameSnapshot: Sendable {
    let id: String
    let kind: String
    let trainMode: Bool
    let depth: Int
    let isRecording: Bool
    let isTraining: Bool

    init(_ frame: ScopeFrame) {
        id = frame.id
        kind = frame.kind.rawValue
        trainMode = frame.trainMode
        depth = frame.depth
        isRecording = frame.isRecording
        isTraining = frame.isTraining
    }
}

/// Everything the `Session` resource shows.
struct SessionInfo: Sendable {
    let id: String
    /// The owner's key fingerprint ("" when authentication is off).
    let owner: String
    let createdAt: Double
    let lastActivity: Double
    let idleTimeout: Double
    /// Absolute lifetime in seconds from `createdAt`; nil = none.
    let ttl: Double?
    let labels: [(String, String)]
    let status: SessionStatus
    let limits: SessionLimitsSnapshot
}

struct SessionLimitsSnapshot: Sendable {
    let maxBytes: Int
    let maxArrayElements: Int
}

extension SessionInfo {
    /// When the session expires if nothing else happens: idle timeout or end of life, whichever is first.
    var expiresAt: Double {
        let idle = lastActivity + idleTimeout
        guard let ttl else { return idle }
        return min(idle, createdAt + ttl)
    }
}

/// The sessions of this replica: create, look up, list, delete, ownership, idle and lifetime
/// expiry, tombstones, capacity and per-key quotas.
final class SessionRegistry: Sendable {
    /// Why a session id no longer answers.
    enum Gone: String, Sendable { case expired, deleted }

    private struct Entry {
        let handle: SessionHandle
        let createdAt: Double
        let idleTimeout: Double
        let ttl: Double?
        let labels: [(String, String)]
        var lastActivity: Double
        var inFlight: Int
        var status: SessionStatus
        /// Counts requests that may have changed the session; `savedGeneration` is the value
        /// its last snapshot captured.
        var generation = 1
        var savedGeneration = 0

        /// Past its absolute lifetime at `time`.
        func outlived(at time: Double) -> Bool { ttl.map { time - createdAt >= $0 } ?? false }
    }

    private struct Tombstone {
        let reason: Gone
        let at: Double
        let owner: String
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var order: [String] = []
        var tombstones: [String: Tombstone] = [:]
        var draining = false
    }

    let configuration: ServiceConfiguration
    private let prefix: String
    private let state = Mutex(State())
    /// Sessions created, deleted and expired so far (for `/metrics`).
    let createdCount = Counter()
    let deletedCount = Counter()
    let expiredCount = Counter()
    /// Operator invocations that succeeded in any session (for `/metrics`).
    let opsExecuted = Counter()

    /// Sessions deleted or expired so far; the sweeper returns freed memory to the OS when it moves.
    var endedCount: Int { deletedCount.count + expiredCount.count }

    init(configuration: ServiceConfiguration) {
        self.configuration = configuration
        self.prefix = SessionID.prefix(replica: configuration.replicaID, epoch: configuration.bootEpoch)
    }

    private var now: Double { configuration.clock() }

    private var limits: SessionLimits {
        SessionLimits(maxBytes: configuration.sessionMaxBytes, maxArrayElements: configuration.maxArrayElements,
                      maxArrays: configuration.maxArraysPerSession)
    }

    /// Creates a session owned by `caller`, or 503 `capacity` when the replica is full or
    /// draining, or 409 `too-many-sessions` when the caller holds its quota. Every limit is
    /// checked before the session's engine state is built.
    func create(caller: Caller, idleTimeout: Int?, ttl: Int?, seed: UInt64, labels: [(String, String)]) throws(APIError) -> SessionInfo {
        let timeout = idleTimeout.map(Double.init) ?? configuration.idleTimeout
        guard timeout >= 1, timeout <= configuration.maxIdleTimeout else {
            throw APIError(.invalidArgument, "'idle_timeout_s' must be an integer from 1 to \(Int(configuration.maxIdleTimeout)).")
        }
        let lifetime = try self.lifetime(requested: ttl)
        let time = now
        if let error = state.withLock({ admissionError($0, caller: caller) }) { throw error }
        guard let id = SessionID.make(prefix: prefix) else {
            throw APIError(.internal, "The server could not generate a session id.")
        }
        let session = Session(id: id, seed: seed, limits: limits, opsExecuted: opsExecuted)
        let handle = SessionHandle(id: id, owner: caller.owner, session: session)
        let status = SessionStatus(session)
        let result: Result<SessionInfo, APIError> = state.withLock { state in
            // Checked again: another request may have taken the last place meanwhile.
            if let error = admissionError(state, caller: caller) { return .failure(error) }
            let entry = Entry(handle: handle, createdAt: time, idleTimeout: timeout, ttl: lifetime, labels: labels,
                              lastActivity: time, inFlight: 0, status: status)
            state.entries[id] = entry
            state.order.append(id)
            return .success(info(entry))
        }
        let created = try result.get()
        createdCount.add()
        return created
    }

    /// The absolute lifetime for a session asking for `requested` seconds (nil = the default).
    private func lifetime(requested: Int?) throws(APIError) -> Double? {
        let cap = configuration.maxSessionTTL
        guard let requested else {
            let fallback = configuration.sessionTTL > 0 ? configuration.sessionTTL : cap
            return fallback > 0 ? fallback : nil
        }
        guard requested >= 1, cap <= 0 || Double(requested) <= cap else {
            throw APIError(.invalidArgument, cap > 0 ? "'ttl_s' must be an integer from 1 to \(Int(cap))." : "'ttl_s' must be a positive integer.")
        }
        return Double(requested)
    }

    /// `capacityError`, else 409 `too-many-sessions` when `caller` already holds its quota.
    private func admissionError(_ state: State, caller: Caller) -> APIError? {
        if let error = capacityError(state) { return error }
        guard let quota = caller.maxSessions else { return nil }
        let held = state.entries.values.count { $0.handle.owner == caller.owner }
        guard held >= quota else { return nil }
        return APIError(.tooManySessions, "This API key holds \(held) sessions, its maximum of \(quota); delete one first.",
                        ["expected": .int(quota)])
    }

    /// 503 `capacity` when no session can be added now (draining, or full); nil otherwise.
    private func capacityError(_ state: State) -> APIError? {
        let headers = [("Retry-After", String(configuration.retryAfterSeconds))]
        if state.draining {
            return APIError(.capacity, "This replica is shutting down and accepts no new sessions.",
                            ["reason": .string("draining")], headers: headers)
        }
        guard state.entries.count < configuration.maxSessions else {
            return APIError(.capacity, "This replica holds its maximum of \(configuration.maxSessions) sessions; retry later or delete idle sessions.",
                            ["reason": .string("at-capacity")], headers: headers)
        }
        return nil
    }

    /// Looks a session up for one request by `caller`: counts as activity and keeps it from
    /// expiring until ``finish(_:status:)``. A session of another key answers exactly like an
    /// id that never existed; one past its lifetime expires now.
    func begin(_ id: String, caller: Caller) throws(APIError) -> SessionHandle {
        let time = now
        var lifetimeEnded = false
        let handle: SessionHandle? = state.withLock { state in
            guard var entry = state.entries[id], caller.owns(entry.handle.owner) else { return nil }
            if entry.outlived(at: time) {
                remove(id, reason: .expired, at: time, from: &state)
                lifetimeEnded = true
                return nil
            }
            entry.lastActivity = time
            entry.inFlight += 1
            state.entries[id] = entry
            return entry.handle
        }
        if lifetimeEnded { expiredCount.add() }
        guard let handle else { throw notFound(id, caller: caller) }
        return handle
    }

    /// Ends a live session: the id answers with `reason` from its tombstone.
    private func remove(_ id: String, reason: Gone, at time: Double, from state: inout State) {
        guard let entry = state.entries.removeValue(forKey: id) else { return }
        state.order.removeAll { $0 == id }
        state.tombstones[id] = Tombstone(reason: reason, at: time, owner: entry.handle.owner)
    }

    /// Ends a request begun with ``begin(_:)``, recording the session's status after it;
    /// `changed` is false for requests that cannot have modified the session (reads).
    func finish(_ handle: SessionHandle, status: SessionStatus, changed: Bool = true) {
        let time = now
        state.withLock { state in
            guard var entry = state.entries[handle.id] else { return }
            entry.lastActivity = time
            entry.inFlight -= 1
            entry.status = status
            if changed { entry.generation += 1 }
            state.entries[handle.id] = entry
        }
    }

    /// 404 `session-not-found` with the best `reason` we know; a tombstone of another key's
    /// session is not told to `caller` (the answer is the same as for an id never issued).
    func notFound(_ id: String, caller: Caller) -> APIError {
        let reason: String
        if let tombstone = state.withLock({ $0.tombstones[id] }), caller.owns(tombstone.owner) {
            reason = tombstone.reason.rawValue
        } else if let owner = SessionID.owner(of: id), owner.replica == configuration.replicaID,
                  owner.epoch != configuration.bootEpoch {
            reason = "replica-restarted"
        } else {
            reason = "unknown"
        }
        let detail = switch reason {
        case "expired": "Session '\(id)' expired (idle timeout or lifetime reached); create a new one."
        case "deleted": "Session '\(id)' was deleted."
        case "replica-restarted": "Session '\(id)' belonged to an earlier run of this replica, which restarted; create a new session."
        default: "No session '\(id)'."
        }
        return APIError(.sessionNotFound, detail, ["session_id": .string(id), "reason": .string(reason)])
    }

    /// Deletes a session of `caller`'s; requests already queued on it still run.
    func delete(_ id: String, caller: Caller) throws(APIError) {
        let time = now
        let removed = state.withLock { state in
            guard let entry = state.entries[id], caller.owns(entry.handle.owner) else { return false }
            remove(id, reason: .deleted, at: time, from: &state)
            return true
        }
        guard removed else { throw notFound(id, caller: caller) }
        deletedCount.add()
    }

    /// The session resource (status as of its last finished request, unless `status` is given).
    func info(_ id: String, status: SessionStatus? = nil) -> SessionInfo? {
        state.withLock { state in
            guard let entry = state.entries[id] else { return nil }
            var copy = entry
            if let status { copy.status = status }
            return info(copy)
        }
    }

    private func info(_ entry: Entry) -> SessionInfo {
        SessionInfo(id: entry.handle.id, owner: entry.handle.owner, createdAt: entry.createdAt, lastActivity: entry.lastActivity,
                    idleTimeout: entry.idleTimeout, ttl: entry.ttl, labels: entry.labels, status: entry.status,
                    limits: SessionLimitsSnapshot(maxBytes: configuration.sessionMaxBytes,
                                                  maxArrayElements: configuration.maxArrayElements))
    }

    // MARK: - Snapshots

    /// Adds a session from its snapshot (id, owner and arrays as saved; idle time restarts now),
    /// checking every limit a new session and its arrays would meet.
    func restore(_ snapshot: SessionSnapshot) throws(APIError) {
        let session = Session(id: snapshot.id, seed: 0, limits: limits, opsExecuted: opsExecuted)
        _ = try session.load(snapshot.arrays)
        _ = session.setFlags(recording: snapshot.flags.isRecording, training: snapshot.flags.isTraining)
        let handle = SessionHandle(id: snapshot.id, owner: snapshot.owner, session: session)
        let status = SessionStatus(session)
        let time = now
        let result: Result<Void, APIError> = state.withLock { state in
            if let error = capacityError(state) { return .failure(error) }
            guard state.entries[snapshot.id] == nil else {
                return .failure(APIError(.invalidArgument, "Session '\(snapshot.id)' is already live."))
            }
            // A timeout this server would not grant (its limit may have changed) is clamped.
            let timeout = min(max(1, snapshot.idleTimeout), configuration.maxIdleTimeout)
            var entry = Entry(handle: handle, createdAt: snapshot.createdAt, idleTimeout: timeout, ttl: snapshot.ttl,
                              labels: snapshot.labels, lastActivity: time, inFlight: 0, status: status)
            entry.savedGeneration = entry.generation
            state.entries[snapshot.id] = entry
            state.order.append(snapshot.id)
            return .success(())
        }
        try result.get()
    }

    /// Live sessions changed since their last snapshot.
    func unsavedSessions() -> [SessionHandle] {
        state.withLock { state in
            state.order.compactMap { id in state.entries[id].flatMap { $0.generation != $0.savedGeneration ? $0.handle : nil } }
        }
    }

    /// The session's durable state at a point between two of its requests (taken on its queue),
    /// with the generation it reflects; nil once the session is gone.
    func capture(_ handle: SessionHandle) -> (snapshot: SessionSnapshot, generation: Int)? {
        handle.sync { [self] _ in
            guard let entry = state.withLock({ $0.entries[handle.id] }) else { return nil }
            let session = handle.session
            let snapshot = SessionSnapshot(id: handle.id, owner: handle.owner, createdAt: entry.createdAt,
                                           idleTimeout: entry.idleTimeout, ttl: entry.ttl, labels: entry.labels,
                                           flags: session.flags, arrays: session.records())
            return (snapshot, entry.generation)
        }
    }

    /// Records that the snapshot of `generation` is on disk.
    func markSaved(_ id: String, generation: Int) {
        state.withLock { state in state.entries[id]?.savedGeneration = generation }
    }

    /// Ids of the live sessions.
    func liveIDs() -> Set<String> { state.withLock { Set($0.entries.keys) } }

    /// The live sessions `caller` may see, oldest first.
    func list(caller: Caller) -> [SessionInfo] {
        state.withLock { state in
            state.order.compactMap { id in state.entries[id].flatMap { caller.owns($0.handle.owner) ? info($0) : nil } }
        }
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Live sessions and the bytes their arrays and graphs hold (as of each one's last request).
    func totals() -> (sessions: Int, arrayBytes: Int, graphBytes: Int) {
        state.withLock { state in
            state.entries.values.reduce((state.entries.count, 0, 0)) { sum, entry in
                (sum.0, sum.1 + entry.status.bytes, sum.2 + entry.status.graphBytes)
            }
        }
    }

    /// The readiness probe: throws 503 `capacity` unless a new session could be created now.
    func checkAcceptsSessions() throws(APIError) {
        if let error = state.withLock({ capacityError($0) }) { throw error }
    }

    /// Stops accepting new sessions (graceful shutdown); existing ones keep working.
    func beginDraining() { state.withLock { $0.draining = true } }

    /// Expires sessions idle past their timeout or past their lifetime (never one with a request
    /// in flight) and forgets old tombstones. Returns the expired ids.
    @discardableResult
    func sweep() -> [String] {
        let time = now
        return state.withLock { state in
            let expired = state.entries.values
                .filter { $0.inFlight == 0 && (time - $0.lastActivity >= $0.idleTimeout || $0.outlived(at: time)) }
                .map(\.handle.id)
            for id in expired { remove(id, reason: .expired, at: time, from: &state) }
            state.tombstones = state.tombstones.filter { time - $0.value.at < configuration.tombstoneLifetime }
            if state.tombstones.count > configuration.maxTombstones {
                let oldest = state.tombstones.sorted { $0.value.at < $1.value.at }
                    .prefix(state.tombstones.count - configuration.maxTombstones)
                for (id, _) in oldest { state.tombstones.removeValue(forKey: id) }
            }
            expiredCount.add(expired.count)
            return expired
        }
    }
}

/// RFC 3339 timestamps for the session resource.
enum Timestamp {
    static func iso8601(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}
