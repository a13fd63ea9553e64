import Dispatch
import Foundation
import Synchronization

/// A live session as the registry hands it out: its serial queue and the engine state confined to it.
final class SessionHandle: @unchecked Sendable {
    // @unchecked: `session` is only touched by one block at a time (see `async`); `state`
    // hands it from one block to the next.
    let id: String
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

    init(id: String, session: Session) {
        self.id = id
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
    let createdAt: Double
    let lastActivity: Double
    let idleTimeout: Double
    let labels: [(String, String)]
    let status: SessionStatus
    let limits: SessionLimitsSnapshot
}

struct SessionLimitsSnapshot: Sendable {
    let maxBytes: Int
    let maxArrayElements: Int
}

/// The sessions of this replica: create, look up, list, delete, idle expiry, tombstones, capacity.
final class SessionRegistry: Sendable {
    /// Why a session id no longer answers.
    enum Gone: String, Sendable { case expired, deleted }

    private struct Entry {
        let handle: SessionHandle
        let createdAt: Double
        let idleTimeout: Double
        let labels: [(String, String)]
        var lastActivity: Double
        var inFlight: Int
        var status: SessionStatus
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var order: [String] = []
        var tombstones: [String: (reason: Gone, at: Double)] = [:]
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

    /// Creates a session, or 503 `capacity` when the replica is full or draining.
    func create(idleTimeout: Int?, seed: UInt64, labels: [(String, String)]) throws(APIError) -> SessionInfo {
        let timeout = idleTimeout.map(Double.init) ?? configuration.idleTimeout
        guard timeout >= 1, timeout <= configuration.maxIdleTimeout else {
            throw APIError(.invalidArgument, "'idle_timeout_s' must be an integer from 1 to \(Int(configuration.maxIdleTimeout)).")
        }
        guard let id = SessionID.make(prefix: prefix) else {
            throw APIError(.internal, "The server could not generate a session id.")
        }
        let session = Session(id: id, seed: seed, limits: limits, opsExecuted: opsExecuted)
        let handle = SessionHandle(id: id, session: session)
        let status = SessionStatus(session)
        let time = now
        let result: Result<SessionInfo, APIError> = state.withLock { state in
            if let error = capacityError(state) { return .failure(error) }
            let entry = Entry(handle: handle, createdAt: time, idleTimeout: timeout, labels: labels,
                              lastActivity: time, inFlight: 0, status: status)
            state.entries[id] = entry
            state.order.append(id)
            return .success(info(entry))
        }
        let created = try result.get()
        createdCount.add()
        return created
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

    /// Looks a session up for one request: counts as activity and keeps it from expiring until
    /// ``finish(_:)``.
    func begin(_ id: String) throws(APIError) -> SessionHandle {
        let time = now
        let handle: SessionHandle? = state.withLock { state in
            guard var entry = state.entries[id] else { return nil }
            entry.lastActivity = time
            entry.inFlight += 1
            state.entries[id] = entry
            return entry.handle
        }
        guard let handle else { throw notFound(id) }
        return handle
    }

    /// Ends a request begun with ``begin(_:)``, recording the session's status after it.
    func finish(_ handle: SessionHandle, status: SessionStatus) {
        let time = now
        state.withLock { state in
            guard var entry = state.entries[handle.id] else { return }
            entry.lastActivity = time
            entry.inFlight -= 1
            entry.status = status
            state.entries[handle.id] = entry
        }
    }

    /// 404 `session-not-found` with the best `reason` we know.
    func notFound(_ id: String) -> APIError {
        let reason: String
        if let tombstone = state.withLock({ $0.tombstones[id] }) {
            reason = tombstone.reason.rawValue
        } else if let owner = SessionID.owner(of: id), owner.replica == configuration.replicaID,
                  owner.epoch != configuration.bootEpoch {
            reason = "replica-restarted"
        } else {
            reason = "unknown"
        }
        let detail = switch reason {
        case "expired": "Session '\(id)' expired after being idle; create a new one."
        case "deleted": "Session '\(id)' was deleted."
        case "replica-restarted": "Session '\(id)' belonged to an earlier run of this replica, which restarted; create a new session."
        default: "No session '\(id)'."
        }
        return APIError(.sessionNotFound, detail, ["session_id": .string(id), "reason": .string(reason)])
    }

    /// Deletes a session; requests already queued on it still run.
    func delete(_ id: String) throws(APIError) {
        let time = now
        let removed = state.withLock { state in
            guard state.entries.removeValue(forKey: id) != nil else { return false }
            state.order.removeAll { $0 == id }
            state.tombstones[id] = (.deleted, time)
            return true
        }
        guard removed else { throw notFound(id) }
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
        SessionInfo(id: entry.handle.id, createdAt: entry.createdAt, lastActivity: entry.lastActivity,
                    idleTimeout: entry.idleTimeout, labels: entry.labels, status: entry.status,
                    limits: SessionLimitsSnapshot(maxBytes: configuration.sessionMaxBytes,
                                                  maxArrayElements: configuration.maxArrayElements))
    }

    /// All live sessions, oldest first.
    func list() -> [SessionInfo] {
        state.withLock { state in state.order.compactMap { state.entries[$0].map(info) } }
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

    /// Expires sessions idle past their timeout (never one with a request in flight) and forgets
    /// old tombstones. Returns the expired ids.
    @discardableResult
    func sweep() -> [String] {
        let time = now
        return state.withLock { state in
            let expired = state.entries.values
                .filter { $0.inFlight == 0 && time - $0.lastActivity >= $0.idleTimeout }
                .map(\.handle.id)
            for id in expired {
                state.entries.removeValue(forKey: id)
                state.tombstones[id] = (.expired, time)
            }
            if !expired.isEmpty { state.order.removeAll { expired.contains($0) } }
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
