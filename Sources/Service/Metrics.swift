import Autograd
import Synchronization

/// A monotonically increasing count shared across threads (sessions created, ops executed, ...).
final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    func add(_ amount: Int = 1) { value.add(amount, ordering: .relaxed) }

    var count: Int { value.load(ordering: .relaxed) }
}

/// The Prometheus metrics of one ``Service``: request counters and latency histograms recorded
/// per request, everything else read from the registry when `/metrics` is scraped.
///
/// Labels are bounded: `route` is a route template (or `unmatched`), `method` one of the HTTP
/// methods (else `other`), `status` an HTTP status. No session, array or client ids.
final class Metrics: Sendable {
    /// The version reported by `tensord_build_info` (openapi.yaml's `info.version`).
    static let version = "1.0.0"
    /// Upper bounds of the request-duration histogram buckets, in seconds (`+Inf` is implicit).
    static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    private static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]

    private struct RequestKey: Hashable {
        /// Index into the route table; the table's count stands for `unmatched`.
        let route: Int
        let method: String
        let status: Int
    }

    private struct Histogram {
        /// Per-bucket (not cumulative) counts; the last entry is `+Inf`.
        var buckets = [Int](repeating: 0, count: Metrics.buckets.count + 1)
        var sum = 0.0
        var count = 0
    }

    private struct State {
        var requests: [RequestKey: Int] = [:]
        var durations: [Histogram]
    }

    /// Route templates by route index, plus `unmatched` at the end.
    private let routes: [String]
    private let state: Mutex<State>

    init(routes: [String]) {
        self.routes = routes + ["unmatched"]
        state = Mutex(State(durations: Array(repeating: Histogram(), count: routes.count + 1)))
    }

    /// Counts one finished request. `route` is its index in the route table, nil when no route matched.
    func record(route: Int?, method: String, status: Int, seconds: Double) {
        let slot = route ?? routes.count - 1
        let key = RequestKey(route: slot, method: Self.methods.contains(method) ? method : "other", status: status)
        let bucket = Self.buckets.firstIndex { seconds <= $0 } ?? Self.buckets.count
        state.withLock { state in
            state.requests[key, default: 0] += 1
            state.durations[slot].buckets[bucket] += 1
            state.durations[slot].sum += seconds
            state.durations[slot].count += 1
        }
    }

    /// What a scrape reads besides the request statistics.
    struct Snapshot {
        var sessionsActive: Int
        var sessionsCreated: Int
        var sessionsEnded: [(reason: String, count: Int)]
        var connectionsActive: Int
        var arrayBytes: Int
        var graphBytes: Int
        var opsExecuted: Int
        /// Nil without `--data-dir` (then the snapshot families are left out).
        var snapshots: Snapshots?
    }

    /// Counters of the durable-session snapshots.
    struct Snapshots {
        var written: Int
        var passes: Int
        var failures: Int
        var restored: Int
        var setAside: Int
    }

    /// The Prometheus text exposition (format 0.0.4).
    func render(_ snapshot: Snapshot) -> String {
        let (requests, durations) = state.withLock { ($0.requests, $0.durations) }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ labels: [(String, String)], _ value: String) {
            let text = labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",")
            out += labels.isEmpty ? "\(name) \(value)\n" : "\(name){\(text)} \(value)\n"
        }
        /// A family with one unlabelled sample.
        func single(_ name: String, _ type: String, _ help: String, _ value: Int) {
            family(name, type, help)
            sample(name, [], String(value))
        }

        family("tensord_http_requests_total", "counter", "HTTP requests by method, route template and status.")
        let keys = requests.keys.sorted { ($0.route, $0.method, $0.status) < ($1.route, $1.method, $1.status) }
        for key in keys {
            sample("tensord_http_requests_total",
                   [("method", key.method), ("route", routes[key.route]), ("status", String(key.status))],
                   String(requests[key] ?? 0))
        }

        family("tensord_http_request_duration_seconds", "histogram", "Time from receiving a request to handing over its response.")
        for (index, histogram) in durations.enumerated() where histogram.count > 0 {
            let route = routes[index]
            var cumulative = 0
            for (bound, count) in zip(Self.buckets.map { "\($0)" } + ["+Inf"], histogram.buckets) {
                cumulative += count
                sample("tensord_http_request_duration_seconds_bucket", [("route", route), ("le", bound)], String(cumulative))
            }
            sample("tensord_http_request_duration_seconds_sum", [("route", route)], "\(histogram.sum)")
            sample("tensord_http_request_duration_seconds_count", [("route", route)], String(histogram.count))
        }

        single("tensord_sessions_active", "gauge", "Live sessions.", snapshot.sessionsActive)
        single("tensord_sessions_created_total", "counter", "Sessions created.", snapshot.sessionsCreated)
        family("tensord_sessions_ended_total", "counter", "Sessions ended, by reason (deleted, expired).")
        for (reason, count) in snapshot.sessionsEnded { sample("tensord_sessions_ended_total", [("reason", reason)], String(count)) }
        single("tensord_connections_active", "gauge", "Open client connections.", snapshot.connectionsActive)
        single("tensord_array_bytes", "gauge", "Bytes held by arrays over all sessions (as of each session's last request).", snapshot.arrayBytes)
        single("tensord_graph_bytes", "gauge", "Bytes retained by recorded graphs over all sessions (as of each session's last request).", snapshot.graphBytes)
        single("tensord_ops_executed_total", "counter", "Operator invocations that succeeded (single ops, run steps, function bodies).", snapshot.opsExecuted)
        if let snapshots = snapshot.snapshots {
            single("tensord_snapshots_written_total", "counter", "Session snapshot files written (only changed sessions are rewritten).", snapshots.written)
            single("tensord_snapshot_passes_total", "counter", "Snapshot passes completed; every change acknowledged before a pass began is on disk once this moves.", snapshots.passes)
            single("tensord_snapshot_failures_total", "counter", "Session snapshots that could not be written.", snapshots.failures)
            single("tensord_snapshots_restored_total", "counter", "Sessions restored from snapshots at start-up.", snapshots.restored)
            single("tensord_snapshots_set_aside_total", "counter", "Snapshots found unreadable at start-up and moved to corrupt/.", snapshots.setAside)
        }
        single("tensord_tensor_storages", "gauge", "Live tensor buffers in the process (arrays, gradients, saved tensors); back to its idle value when sessions end, else memory leaks.", LiveStorage.count)
        family("tensord_blas_core_info", "gauge", "The CPU core OpenBLAS selected; always 1.")
        sample("tensord_blas_core_info", [("core", BLAS.coreName)], "1")
        family("tensord_build_info", "gauge", "The tensord version; always 1.")
        sample("tensord_build_info", [("version", Self.version)], "1")
        return out
    }

    /// A label value with `\`, `"` and newlines escaped.
    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
