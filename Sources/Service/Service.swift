import Dispatch
import CLinux
import Glibc
import HTTP
import Synchronization

/// One line of the request log.
public struct RequestLog: Sendable {
    /// The request method.
    public let method: String
    /// The matched route template (`/v1/sessions/{sid}/ops/{op}`), or nil when no route matched.
    public let route: String?
    /// The response status.
    public let status: Int
    /// Time from receiving the request to handing over the response, in microseconds.
    public let durationMicroseconds: Int
    /// The `{sid}` of the route, when it names a session.
    public let sessionID: String?
    /// The request id echoed in `X-Request-Id` (the client's, or one generated here).
    public let requestID: String
}

/// Request ids: the client's `X-Request-Id` when it is 1-128 visible ASCII characters, else 16
/// random bytes as 32 lower-case hex digits.
enum RequestID {
    static let maxLength = 128

    /// The id for a request carrying `header` (the value of its `X-Request-Id`, if any).
    static func id(for header: String?) -> String {
        if let header, valid(header) { return header }
        return SessionID.hex(SessionID.randomBytes(16) ?? fallbackBytes())
    }

    /// Whether a client's id can be echoed and logged as is: 1-128 bytes of 0x21-0x7E.
    static func valid(_ text: String) -> Bool {
        var count = 0
        for byte in text.utf8 {
            guard byte >= 0x21, byte <= 0x7E else { return false }
            count += 1
            if count > maxLength { return false }
        }
        return count > 0
    }

    /// The system generator, should OpenSSL's fail (a request id needs uniqueness, not secrecy).
    private static func fallbackBytes() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}

/// The REST API as an `HTTPHandler`: routing, sessions, content negotiation and problem+json errors.
///
/// Requests naming a session run on that session's serial queue (one at a time, in arrival
/// order); everything else runs inline on the caller's thread.
public final class Service: HTTPHandler {
    let registry: SessionRegistry
    let interpreter: Interpreter
    /// The bytes of openapi.yaml, read once at start-up (nil if not found).
    let openAPIDocument: [UInt8]?
    private let router: Router<Int>
    private let log: (@Sendable (RequestLog) -> Void)?
    private let sweeping = Atomic<Bool>(false)
    /// `registry.endedCount` at the last `malloc_trim`.
    private let trimmedAtEndedCount = Atomic<Int>(0)
    /// The configured keys by fingerprint; empty = authentication off.
    private let keys: [String: APIKey]
    private let maxSessionsPerKey: Int
    private let rateLimiter: RateLimiter?
    let metrics: Metrics
    /// Snapshots under `--data-dir`; nil when sessions live only in memory.
    let persistence: Persistence?
    private let connectionCount = Mutex<(@Sendable () -> Int)?>(nil)

    /// Creates the service; `log` receives one entry per request.
    public init(configuration: ServiceConfiguration = ServiceConfiguration(),
                log: (@Sendable (RequestLog) -> Void)? = nil) {
        let registry = SessionRegistry(configuration: configuration)
        self.registry = registry
        persistence = configuration.dataDirectory.map { Persistence(directory: $0, registry: registry) }
        interpreter = Interpreter(maxSteps: configuration.maxProgramSteps, maxDepth: configuration.maxProgramDepth)
        openAPIDocument = OpenAPIDocument.load(path: configuration.openAPIPath)
        keys = Dictionary(configuration.apiKeys.map { ($0.fingerprint, $0) }, uniquingKeysWith: { first, _ in first })
        maxSessionsPerKey = configuration.maxSessionsPerKey
        rateLimiter = configuration.rateLimit.map {
            RateLimiter(rate: $0, burst: configuration.rateLimitBurst, clock: configuration.clock)
        }
        self.log = log
        metrics = Metrics(routes: Routes.all.map(\.path))
        router = Router(Routes.all.enumerated().map { (method: $0.element.method, pattern: $0.element.path, route: $0.offset) })
    }

    /// The route templates served, as `(method, path)` pairs (for the contract test).
    public static var routeTable: [(method: String, path: String)] { Routes.all.map { ($0.method, $0.path) } }

    /// True when an OpenAPI document was found to serve at `/openapi.yaml`.
    public var servesOpenAPI: Bool { openAPIDocument != nil }

    /// Number of live sessions.
    public var sessionCount: Int { registry.count }

    /// Reports `provider()` (the server's open connections) as `tensord_connections_active`.
    public func reportConnections(from provider: @escaping @Sendable () -> Int) {
        connectionCount.withLock { $0 = provider }
    }

    /// The Prometheus text served at `/metrics`.
    func metricsText() -> String {
        let totals = registry.totals()
        let connections = connectionCount.withLock { $0 }?() ?? 0
        return metrics.render(Metrics.Snapshot(
            sessionsActive: totals.sessions, sessionsCreated: registry.createdCount.count,
            sessionsEnded: [("deleted", registry.deletedCount.count), ("expired", registry.expiredCount.count)],
            connectionsActive: connections, arrayBytes: totals.arrayBytes, graphBytes: totals.graphBytes,
            opsExecuted: registry.opsExecuted.count,
            snapshots: persistence.map { persistence in
                Metrics.Snapshots(written: persistence.written.count, passes: persistence.passes.count,
                                  failures: persistence.failures.count, restored: persistence.restored.count,
                                  setAside: persistence.setAside.count)
            }))
    }

    // MARK: - Durable sessions

    /// With a data directory: creates it and restores every session snapshot in it (bad ones are
    /// moved to `corrupt/` and reported). Call once, before serving. Throws only when the
    /// directory cannot be created; nil without a data directory.
    public func restoreSessions() throws -> RestoreReport? {
        try persistence?.restore()
    }

    /// Writes the snapshots of all sessions changed since their last one (graceful shutdown
    /// calls this after draining); nil without a data directory.
    @discardableResult
    public func writeSnapshots() -> SnapshotReport? { persistence?.snapshot() }

    /// Writes snapshots every `configuration.snapshotInterval` seconds (none when it is 0)
    /// until ``stopSnapshotting()``, handing each pass's report to `report`.
    public func startSnapshotting(report: @escaping @Sendable (SnapshotReport) -> Void) {
        persistence?.start(every: registry.configuration.snapshotInterval, report: report)
    }

    /// Stops the periodic snapshots.
    public func stopSnapshotting() { persistence?.stop() }

    /// Stops accepting new sessions; `/readyz` answers 503 from now on.
    public func beginDraining() { registry.beginDraining() }

    /// Expires idle sessions now (the periodic sweep calls this).
    @discardableResult
    public func sweepIdleSessions() -> Int { registry.sweep().count }

    /// Starts a periodic idle-session sweep on a background queue until ``stopSweeping()``.
    public func startSweeping(every interval: Double) {
        guard !sweeping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        scheduleSweep(after: interval)
    }

    /// Stops the periodic sweep started by ``startSweeping(every:)``.
    public func stopSweeping() { sweeping.store(false, ordering: .releasing) }

    private func scheduleSweep(after interval: Double) {
        DispatchQueue.global().asyncAfter(deadline: .now() + interval) { [weak self] in
            guard let self, self.sweeping.load(ordering: .acquiring) else { return }
            self.registry.sweep()
            // A deleted or expired session frees its arrays back to malloc; hand the free pages
            // back to the OS so resident memory returns to its baseline.
            let ended = self.registry.endedCount
            if ended != self.trimmedAtEndedCount.exchange(ended, ordering: .relaxed) { malloc_trim(0) }
            self.scheduleSweep(after: interval)
        }
    }

    // MARK: - HTTPHandler

    /// Routes and answers one request; `respond` is called exactly once, inline or from the
    /// session's queue.
    public func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        let requestID = RequestID.id(for: request.headers["X-Request-Id"])
        // `routeIndex` is the matched route's index in `Routes.all`, nil when none matched.
        let finish: @Sendable (Reply, Int?, String?) -> Void = { [log, metrics] reply, routeIndex, sessionID in
            var reply = reply
            reply.headers.append(("X-Request-Id", requestID))
            // Counted before responding, so a client's next scrape already includes this request.
            let nanoseconds = DispatchTime.now().uptimeNanoseconds - start
            metrics.record(route: routeIndex, method: request.method, status: reply.status,
                           seconds: Double(nanoseconds) / 1e9)
            respond(Self.response(reply))
            log?(RequestLog(method: request.method, route: routeIndex.map { Routes.all[$0].path }, status: reply.status,
                            durationMicroseconds: Int(nanoseconds / 1_000), sessionID: sessionID, requestID: requestID))
        }
        let route: Route
        let routeIndex: Int
        var request = request
        switch router.match(method: request.method, path: request.rawPath) {
        case .notFound:
            finish(Self.problem(APIError(.notFound, "No route for \(request.path)."), request), nil, nil)
            return
        case .invalidPath:
            finish(Self.problem(APIError(.invalidArgument, "The request path cannot be decoded."), request), nil, nil)
            return
        case .methodNotAllowed(let allowed):
            let error = APIError(.methodNotAllowed, "\(request.method) is not allowed on \(request.path); allowed: \(allowed.joined(separator: ", ")).",
                                 headers: [("Allow", allowed.joined(separator: ", "))])
            finish(Self.problem(error, request), nil, nil)
            return
        case .found(let index, let parameters):
            route = Routes.all[index]
            routeIndex = index
            request.pathParameters = parameters
        }
        let routed = request
        let sessionID = request.pathParameters["sid"]
        do {
            let caller = try authorize(request, route: route)
            let context = RequestContext(request: routed, caller: caller, service: self)
            try limitRate(caller.rateKey, route: route)
            if route.produces == .json { try Negotiation.requireJSON(request) }
            switch route.action {
            case .global(let handler):
                finish(try handler(context), routeIndex, sessionID)
            case .session(let handler):
                let handle = try registry.begin(sessionID ?? "", caller: caller)
                // Bodies this small hold small requests (large programs and uploads are not run inline).
                handle.async(mayRunInline: routed.body.count <= 16 * 1024) { [registry] session in
                    let reply: Reply
                    do throws(APIError) {
                        reply = try handler(context, session)
                    } catch {
                        let named = error.extensions["session_id"] == nil ? error.with("session_id", .string(session.id)) : error
                        reply = Self.problem(named, routed)
                    }
                    registry.finish(handle, status: SessionStatus(session), changed: routed.method != "GET")
                    finish(reply, routeIndex, sessionID)
                }
            }
        } catch {
            finish(Self.problem(error, request), routeIndex, sessionID)
        }
    }

    /// API keys, when configured, guard everything under `/v1`. The presented key is hashed
    /// and the digest looked up (no comparison over the secret's bytes); the caller is known by
    /// that fingerprint only. Without keys every caller is anonymous and sees every session.
    private func authorize(_ request: HTTPRequest, route: Route) throws(APIError) -> Caller {
        guard !keys.isEmpty, route.path.hasPrefix("/v1/") else {
            return Caller(owner: "", isAdmin: true, maxSessions: nil, rateKey: Self.host(of: request.remoteAddress ?? "unknown"))
        }
        let bearer = request.headers["Authorization"].flatMap { value -> String? in
            value.lowercased().hasPrefix("bearer ") ? String(value.dropFirst(7)).trimmingSpaces() : nil
        }
        guard let presented = bearer ?? request.headers["X-API-Key"], let key = keys[APIKey.fingerprint(of: presented)] else {
            throw APIError(.unauthorized, "This server requires an API key: send 'Authorization: Bearer <key>'.",
                           headers: [("WWW-Authenticate", "Bearer")])
        }
        return Caller(owner: key.fingerprint, isAdmin: key.isAdmin, maxSessions: key.maxSessions ?? maxSessionsPerKey,
                      rateKey: "key:" + key.fingerprint)
    }

    /// A session's `owner` as the API shows it: its key's ``APIKey/label`` ("" when authentication is off).
    func ownerLabel(_ fingerprint: String) -> String {
        guard !fingerprint.isEmpty else { return "" }
        return keys[fingerprint]?.label ?? "key:" + fingerprint.prefix(12)
    }

    /// The host part of the server's `host:port` / `[v6]:port` peer text (a client's connections
    /// share one rate-limit bucket).
    static func host(of address: String) -> String {
        if address.hasPrefix("["), let close = address.firstIndex(of: "]") { return String(address[...close]) }
        guard let colon = address.lastIndex(of: ":") else { return address }
        return String(address[..<colon])
    }

    /// 429 `rate-limited` when the client's bucket is empty.
    private func limitRate(_ client: String, route: Route) throws(APIError) {
        guard let rateLimiter, route.path.hasPrefix("/v1/"), let wait = rateLimiter.take(client) else { return }
        let seconds = max(1, Int(wait.rounded(.up)))
        throw APIError(.rateLimited, "Too many requests; at most \(rateLimiter.rate) per second are allowed per client.",
                       headers: [("Retry-After", String(seconds))])
    }

    /// The one place errors become responses. Handlers, the engine and Wire throw typed errors
    /// (`APIError`, `AutogradError`, `WireError`, each mapped by one switch), so no unknown error
    /// can reach this boundary.
    /// `instance` is the path as sent (still percent-encoded), so it is always a URI reference.
    static func problem(_ error: APIError, _ request: HTTPRequest) -> Reply {
        var reply = Reply.json(DTO.problem(error, instance: String(request.rawPath)), status: error.status, headers: error.headers)
        reply.contentType = "application/problem+json"
        return reply
    }

    static func response(_ reply: Reply) -> HTTPResponse {
        var headers = HTTPHeaders(reply.headers)
        if let contentType = reply.contentType { headers.replaceOrAdd("Content-Type", contentType) }
        return HTTPResponse(status: reply.status, headers: headers, body: .bytes(reply.body))
    }
}
