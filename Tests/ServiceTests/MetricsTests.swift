import Foundation
import Synchronization
import Testing
@testable import Service

/// `GET /metrics` (Prometheus text) and `X-Request-Id`.
@Suite struct MetricsTests {
    /// The samples of a Prometheus text exposition, keyed by `name{labels}` exactly as written.
    /// Records every line that breaks the 0.0.4 line grammar, and every sample whose family has
    /// no `# TYPE` line before it.
    struct Exposition {
        var samples: [String: Double] = [:]
        var types: [String: String] = [:]
        var errors: [String] = []

        init(_ text: String) throws {
            let name = "[a-zA-Z_:][a-zA-Z0-9_:]*"
            let label = #"[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*""#
            let value = #"[-+]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|Inf)|NaN"#
            let help = try Regex("^# HELP (\(name)) .+$")
            let type = try Regex("^# TYPE (\(name)) (counter|gauge|histogram|summary|untyped)$")
            let sample = try Regex("^((\(name))(?:\\{\(label)(?:,\(label))*\\})?) (\(value))$")
            #expect(text.hasSuffix("\n"))
            for line in text.split(separator: "\n").map(String.init) {
                if line.wholeMatch(of: help) != nil { continue }
                if let match = line.wholeMatch(of: type), let family = match[1].substring, let kind = match[2].substring {
                    types[String(family)] = String(kind)
                } else if let match = line.wholeMatch(of: sample), let series = match[1].substring,
                          let metric = match[2].substring, let number = match[3].substring {
                    let family = ["_bucket", "_sum", "_count"].reduce(String(metric)) { name, suffix in
                        name.hasSuffix(suffix) && types[String(name.dropLast(suffix.count))] == "histogram"
                            ? String(name.dropLast(suffix.count)) : name
                    }
                    if types[family] == nil { errors.append("no # TYPE before: \(line)") }
                    samples[String(series)] = Double(number)
                } else {
                    errors.append("not a valid line: \(line)")
                }
            }
        }
    }

    static func scrape(_ client: TestClient) throws -> Exposition {
        let response = client.request("GET", "/metrics")
        #expect(response.status == 200)
        #expect(response.contentType?.hasPrefix("text/plain; version=0.0.4") == true)
        let exposition = try Exposition(response.text)
        #expect(exposition.errors == [])
        return exposition
    }

    @Test func exposesTheDocumentedFamiliesInValidTextFormat() throws {
        let client = TestClient()
        let metrics = try Self.scrape(client)
        #expect(metrics.types["tensord_http_requests_total"] == "counter")
        #expect(metrics.types["tensord_http_request_duration_seconds"] == "histogram")
        for gauge in ["tensord_sessions_active", "tensord_connections_active", "tensord_array_bytes",
                      "tensord_graph_bytes", "tensord_blas_core_info", "tensord_build_info"] {
            #expect(metrics.types[gauge] == "gauge", "\(gauge)")
        }
        for counter in ["tensord_sessions_created_total", "tensord_sessions_ended_total", "tensord_ops_executed_total"] {
            #expect(metrics.types[counter] == "counter", "\(counter)")
        }
        #expect(metrics.samples["tensord_build_info{version=\"\(Metrics.version)\"}"] == 1)
        let core = metrics.samples.keys.filter { $0.hasPrefix("tensord_blas_core_info{core=\"") }
        #expect(core.count == 1)
        // The first scrape sees no requests yet: it is counted after it is rendered.
        #expect(!metrics.samples.keys.contains { $0.hasPrefix("tensord_http_requests_total") })
    }

    @Test func countsRequestsByRouteTemplateAndStatus() throws {
        let client = TestClient()
        _ = client.newSession()
        _ = client.newSession()
        #expect(client.call("GET", "/v1/sessions/r0eaaaa-unknown").status == 404)
        #expect(client.call("GET", "/no/such/route").status == 404)
        #expect(client.call("PUT", "/livez").status == 405)
        #expect(client.call("BREW", "/livez").status == 405)
        let metrics = try Self.scrape(client)
        let requests = "tensord_http_requests_total"
        #expect(metrics.samples[#"\#(requests){method="POST",route="/v1/sessions",status="201"}"#] == 2)
        #expect(metrics.samples[#"\#(requests){method="GET",route="/v1/sessions/{sid}",status="404"}"#] == 1)
        #expect(metrics.samples[#"\#(requests){method="GET",route="unmatched",status="404"}"#] == 1)
        #expect(metrics.samples[#"\#(requests){method="PUT",route="unmatched",status="405"}"#] == 1)
        #expect(metrics.samples[#"\#(requests){method="other",route="unmatched",status="405"}"#] == 1)
        let total = metrics.samples.filter { $0.key.hasPrefix(requests + "{") }.values.reduce(0, +)
        #expect(total == 6)
        #expect(!metrics.samples.keys.contains { $0.contains("/no/such/route") || $0.contains("r0eaaaa") })

        // A second scrape counts the first one.
        let again = try Self.scrape(client)
        #expect(again.samples[#"\#(requests){method="GET",route="/metrics",status="200"}"#] == 1)
    }

    @Test func durationHistogramIsCumulativeAndCountsEveryRequest() throws {
        let client = TestClient()
        for _ in 0..<3 { _ = client.newSession() }
        #expect(client.call("GET", "/livez").status == 200)
        let metrics = try Self.scrape(client)
        let histogram = "tensord_http_request_duration_seconds"
        for (route, requests) in [("/v1/sessions", 3.0), ("/livez", 1.0)] {
            let bounds = Metrics.buckets.map { "\($0)" } + ["+Inf"]
            let counts = bounds.map { metrics.samples[#"\#(histogram)_bucket{route="\#(route)",le="\#($0)"}"#] }
            #expect(!counts.contains(nil), "\(route): a bucket is missing")
            let values = counts.compactMap { $0 }
            #expect(zip(values, values.dropFirst()).allSatisfy { $0 <= $1 }, "\(route): buckets not cumulative: \(values)")
            #expect(values.last == requests)
            #expect(metrics.samples[#"\#(histogram)_count{route="\#(route)"}"#] == requests)
            let sum = metrics.samples[#"\#(histogram)_sum{route="\#(route)"}"#] ?? -1
            #expect(sum > 0 && sum < 60)
        }
        #expect(!metrics.samples.keys.contains { $0.hasPrefix(histogram) && $0.contains("/v1/sessions/{sid}") })
    }

    @Test func sessionGaugesAndCountersFollowCreateDeleteAndExpiry() throws {
        let clock = TestClock()
        let client = TestClient { $0.idleTimeout = 60; $0.clock = { clock.now() } }
        let first = client.newSession()
        let second = client.newSession()
        _ = client.newSession(#"{"idle_timeout_s":1000}"#)
        var metrics = try Self.scrape(client)
        #expect(metrics.samples["tensord_sessions_active"] == 3)
        #expect(metrics.samples["tensord_sessions_created_total"] == 3)
        #expect(metrics.samples[#"tensord_sessions_ended_total{reason="deleted"}"#] == 0)

        #expect(client.call("DELETE", first).status == 204)
        metrics = try Self.scrape(client)
        #expect(metrics.samples["tensord_sessions_active"] == 2)
        #expect(metrics.samples[#"tensord_sessions_ended_total{reason="deleted"}"#] == 1)

        clock.advance(120)
        #expect(client.service.sweepIdleSessions() == 1)
        #expect(client.call("GET", second).status == 404)
        metrics = try Self.scrape(client)
        #expect(metrics.samples["tensord_sessions_active"] == 1)
        #expect(metrics.samples["tensord_sessions_created_total"] == 3)
        #expect(metrics.samples[#"tensord_sessions_ended_total{reason="expired"}"#] == 1)
    }

    @Test func bytesAndOpsComeFromTheSessionsAndNoIdIsALabel() throws {
        let client = TestClient()
        let session = client.newSession()
        client.array(session, "x", #""data":[1,2,3,4]"#)
        #expect(client.call("PUT", "\(session)/arrays/x/grad", #"{"grad_req":"write"}"#).status == 200)
        let scope = client.call("POST", "\(session)/scopes", #"{"kind":"record","train_mode":true}"#)
        #expect(client.call("POST", "\(session)/ops/broadcast_mul", #"{"inputs":["x","x"],"ids":["y"]}"#).status == 201)
        #expect(client.call("POST", "\(session)/ops/no_such_op", #"{"inputs":["x"]}"#).status == 404)
        let run = client.call("POST", "\(session)/run", #"{"steps":[{"op":"_plus_scalar","inputs":["y"],"params":{"scalar":1},"ids":["z"]}]}"#)
        #expect(run.status == 200, "\(run.text)")
        let usage = client.call("GET", session)["usage"]
        let text = client.request("GET", "/metrics").text
        let metrics = try Exposition(text)
        #expect(metrics.samples["tensord_ops_executed_total"] == 2)
        #expect(metrics.samples["tensord_array_bytes"] == usage?["bytes"]?.number?.double)
        #expect(metrics.samples["tensord_graph_bytes"] == usage?["graph_bytes"]?.number?.double)
        #expect((metrics.samples["tensord_array_bytes"] ?? 0) > 0)
        #expect(metrics.samples[#"tensord_http_requests_total{method="POST",route="/v1/sessions/{sid}/ops/{op}",status="201"}"#] == 1)
        #expect(metrics.samples[#"tensord_http_requests_total{method="POST",route="/v1/sessions/{sid}/ops/{op}",status="404"}"#] == 1)

        let sid = String(session.dropFirst("/v1/sessions/".count))
        let scopeID = scope["id"]?.string ?? "missing-scope"
        #expect(sid.count > 20)
        #expect(!text.contains(sid))
        #expect(!text.contains(scopeID))
        #expect(!text.contains("broadcast_mul"))
    }

    @Test func connectionGaugeReadsTheProvider() throws {
        let client = TestClient()
        #expect(try Self.scrape(client).samples["tensord_connections_active"] == 0)
        client.service.reportConnections { 7 }
        #expect(try Self.scrape(client).samples["tensord_connections_active"] == 7)
    }

    @Test func labelValuesAreEscaped() {
        #expect(Metrics.escape(#"a"b\c"# + "\nd") == #"a\"b\\c\nd"#)
    }

    // MARK: - X-Request-Id

    @Test func requestIdIsEchoedWhenValidAndGeneratedOtherwise() {
        let client = TestClient()
        let given = "trace-42.abc/DEF:1"
        #expect(client.call("GET", "/livez", headers: [("X-Request-Id", given)]).headers["X-Request-Id"] == given)
        // Errors, and requests that run on a session's queue, carry it too.
        let notFound = client.call("GET", "/nowhere", headers: [("X-Request-Id", given)])
        #expect(notFound.status == 404)
        #expect(notFound.headers["X-Request-Id"] == given)
        #expect(notFound["instance"]?.string == "/nowhere")
        let session = client.newSession()
        #expect(client.call("GET", "\(session)/flags", headers: [("X-Request-Id", given)]).headers["X-Request-Id"] == given)
        #expect(client.call("GET", "\(session)/arrays/nope", headers: [("X-Request-Id", given)]).headers["X-Request-Id"] == given)

        let maxLength = String(repeating: "a", count: RequestID.maxLength)
        #expect(client.call("GET", "/livez", headers: [("X-Request-Id", maxLength)]).headers["X-Request-Id"] == maxLength)

        var generated: Set<String> = []
        for header in [nil, "", "has space", "tab\there", "caf\u{e9}", String(repeating: "a", count: RequestID.maxLength + 1)] {
            let response = client.call("GET", "/livez", headers: header.map { [("X-Request-Id", $0)] } ?? [])
            let id = response.headers["X-Request-Id"] ?? ""
            #expect(id.count == 32 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) },
                    "generated id \(id) for \(String(describing: header))")
            generated.insert(id)
        }
        #expect(generated.count == 6)
    }

    @Test func logEntryCarriesTheRequestIdAndRouteTemplate() {
        let entries = Mutex<[RequestLog]>([])
        let service = Service(configuration: ServiceConfiguration()) { entry in entries.withLock { $0.append(entry) } }
        let done = DispatchSemaphore(value: 0)
        let echoed = Mutex<String?>(nil)
        service.handle(TestClient.makeRequest("GET", "/v1/ops/relu", headers: [("X-Request-Id", "abc-123")])) { response in
            echoed.withLock { $0 = response.headers["X-Request-Id"] }
            done.signal()
        }
        done.wait()
        service.handle(TestClient.makeRequest("GET", "/v1/sessions/r0eaaaa-x")) { _ in done.signal() }
        done.wait()
        let logged = entries.withLock { $0 }
        #expect(logged.count == 2)
        #expect(logged.first?.requestID == "abc-123")
        #expect(logged.first?.route == "/v1/ops/{op}")
        #expect(echoed.withLock { $0 } == "abc-123")
        #expect(logged.last?.requestID.count == 32)
        #expect(logged.last?.route == "/v1/sessions/{sid}")
        #expect(logged.last?.status == 404)
    }
}
