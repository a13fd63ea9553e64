import Foundation
import Testing
import Wire
@testable import Service

/// API keys against the built `tensord` binary over real loopback sockets: ownership on every
/// session route, keys absent from logs, responses and metrics, start-up refusals, and
/// 10^12-element requests answered fast without memory moving.
@Suite(.serialized) struct AuthLiveTests {
    /// A temporary directory with a keys file (mode 0600) holding keys A (named) and admin;
    /// key B comes from `--api-key`.
    final class KeysDirectory {
        let url: URL
        var keysFile: String { url.appendingPathComponent("keys").path }

        init(_ text: String = "# live test keys\n\(Keys.a) name=alice\n\(Keys.admin) admin name=ops\n") throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("tensord-auth-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try write(text, mode: 0o600)
        }

        func write(_ text: String, mode: mode_t) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: keysFile))
            chmod(keysFile, mode)
        }

        deinit { try? FileManager.default.removeItem(at: url) }
    }

    static func curl(_ key: String?, _ arguments: [String]) -> (Int, String) {
        LiveTests.curl((key.map { ["-H", "Authorization: Bearer \($0)"] } ?? []) + arguments)
    }

    static func json(_ text: String) -> JSONValue { (try? JSONParser.parse(text)) ?? .null }

    /// Resident memory of a process in KiB (VmRSS).
    static func residentKiB(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }

    @Test func wrongKeyIsRefusedOnEverySessionRouteAndKeysStayOutOfLogs() throws {
        let keys = try KeysDirectory()
        guard let daemon = LiveTests.Daemon(arguments: ["--api-keys-file", keys.keysFile, "--api-key", Keys.b]) else {
            Issue.record("tensord did not start: build it first (swift build)")
            return
        }
        let base = "http://127.0.0.1:\(daemon.port)"
        let json = ["-H", "Content-Type: application/json"]
        var transcript = ""   // every response, headers included, to search for keys
        func send(_ key: String?, _ arguments: [String]) -> (Int, String) {
            let (status, text) = Self.curl(key, ["-i"] + arguments)
            transcript += text
            let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? text
            return (status, body)
        }

        // Key A's session with an array, a gradient, a graph, an open scope and a function.
        let (created, createdBody) = send(Keys.a, ["-X", "POST", "\(base)/v1/sessions"])
        #expect(created == 201, "\(createdBody)")
        #expect(Self.json(createdBody)["owner"]?.string == "alice")
        let sid = Self.json(createdBody)["id"]?.string ?? ""
        let s = "\(base)/v1/sessions/\(sid)"
        #expect(send(Keys.a, ["-X", "POST", "\(s)/arrays"] + json + ["-d", #"{"id":"x","data":[1,2,3,4]}"#]).0 == 201)
        #expect(send(Keys.a, ["-X", "PUT", "\(s)/arrays/x/grad"] + json + ["-d", #"{"grad_req":"write"}"#]).0 == 200)
        let scope = Self.json(send(Keys.a, ["-X", "POST", "\(s)/scopes"] + json + ["-d", #"{"kind":"record"}"#]).1)["id"]?.string ?? ""
        #expect(send(Keys.a, ["-X", "POST", "\(s)/ops/broadcast_mul"] + json + ["-d", #"{"inputs":["x","x"],"ids":["y"]}"#]).0 == 201)
        let function = #"{"forward":{"inputs":["a"],"steps":[],"outputs":["a"]},"backward":{"inputs":["g"],"steps":[],"outputs":["g"]}}"#
        let fid = Self.json(send(Keys.a, ["-X", "POST", "\(s)/functions"] + json + ["-d", function]).1)["id"]?.string ?? ""
        func snapshot() -> [String] {
            // last_activity and expires_at move with A's own reads; everything else must not.
            ["", "/flags", "/scopes", "/arrays?data=true", "/arrays/x/grad"].map { send(Keys.a, [s + $0]).1 }
                .map { $0.replacingOccurrences(of: #""(last_activity|expires_at)":"[^"]*""#, with: "", options: .regularExpression) }
        }
        let before = snapshot()

        // Key B on every route that names a session: the answer a never-issued id gets.
        let unknown = neverIssued(like: sid)
        var tried = 0
        for route in Service.routeTable where route.path.contains("{sid}") {
            func url(_ id: String) -> String {
                base + route.path.replacingOccurrences(of: "{sid}", with: id).replacingOccurrences(of: "{aid}", with: "x")
                    .replacingOccurrences(of: "{scope_id}", with: scope).replacingOccurrences(of: "{fid}", with: fid)
                    .replacingOccurrences(of: "{op}", with: "broadcast_add")
            }
            let body = route.method == "GET" || route.method == "DELETE" ? [] : json + ["-d", #"{"data":[1]}"#]
            let refused = send(Keys.b, ["-X", route.method, url(sid)] + body)
            let missing = send(Keys.b, ["-X", route.method, url(unknown)] + body)
            #expect(refused.0 == 404 && Self.json(refused.1)["code"]?.string == "session-not-found", "\(route.method) \(route.path): \(refused.1)")
            #expect(refused.1.replacingOccurrences(of: sid, with: "<sid>") == missing.1.replacingOccurrences(of: unknown, with: "<sid>"),
                    "\(route.method) \(route.path)")
            tried += 1
        }
        #expect(tried >= 25)
        #expect(snapshot() == before)
        // The admin key sees A's session; wrong and malformed keys get 401.
        #expect(send(Keys.admin, [s]).0 == 200)
        let wrongKeys = [String(Keys.a.dropLast()) + "X", Keys.b + " extra", "Bearer"]
        for wrong in wrongKeys {
            #expect(send(wrong, [s]).0 == 401)
        }
        #expect(send(nil, ["-H", "X-API-Key: \(Keys.b)z", s]).0 == 401)
        transcript += Self.curl(nil, ["\(base)/metrics"]).1

        #expect(daemon.stop() == 0)
        let log = daemon.log.withLock { $0 }
        #expect(log.contains("\"session\":\"\(sid)\""))   // the log is there and names sessions...
        for secret in [Keys.a, Keys.b, Keys.admin] + wrongKeys.dropLast() {
            #expect(!log.contains(secret), "a key is in the log")          // ...but never a key
            #expect(!transcript.contains(secret), "a key is in a response or /metrics")
        }
        // Nor their fingerprints: owners show as names or 12-digit prefixes only.
        for secret in [Keys.a, Keys.b, Keys.admin] {
            #expect(!log.contains(APIKey.fingerprint(of: secret)) && !transcript.contains(APIKey.fingerprint(of: secret)))
        }
    }

    @Test func refusesToStartWithABadKeysFileAndNamesTheLineNotTheKey() throws {
        func run(_ arguments: [String]) -> (Int32, String) { LiveTests.runToExit(["--port", "0"] + arguments) ?? (-1, "") }
        let keys = try KeysDirectory("\(Keys.a) name=alice\n\(Keys.b) admn\n")
        let malformed = run(["--api-keys-file", keys.keysFile])
        #expect(malformed.0 == 2)
        #expect(malformed.1.contains("line 2: word 2 is not one of admin"), "\(malformed.1)")
        #expect(!malformed.1.contains(Keys.a) && !malformed.1.contains(Keys.b))

        try keys.write("\(Keys.a)\n", mode: 0o604)
        let readable = run(["--api-keys-file", keys.keysFile])
        #expect(readable.0 == 2 && readable.1.contains("accessible to other users"), "\(readable.1)")
        #expect(!readable.1.contains(Keys.a))

        try keys.write("\(Keys.a)\n", mode: 0o600)
        let duplicate = run(["--api-keys-file", keys.keysFile, "--api-key", Keys.a])
        #expect(duplicate.0 == 2 && duplicate.1.contains("the same key is given twice"), "\(duplicate.1)")
        #expect(!duplicate.1.contains(Keys.a))
    }

    /// 10^12-element requests: a clear 422 in microseconds (the server's own `duration_us`) and
    /// the server's resident memory does not move.
    @Test func hugeArrayRequestsAnswerFastAndTakeNoMemory() throws {
        guard let daemon = LiveTests.Daemon(arguments: []) else {
            Issue.record("tensord did not start: build it first (swift build)")
            return
        }
        let base = "http://127.0.0.1:\(daemon.port)"
        let json = ["-H", "Content-Type: application/json"]
        let sid = Self.json(Self.curl(nil, ["-X", "POST", "\(base)/v1/sessions"]).1)["id"]?.string ?? ""
        let s = "\(base)/v1/sessions/\(sid)"
        #expect(Self.curl(nil, ["-X", "POST", "\(s)/arrays"] + json + ["-d", #"{"id":"one","data":[[1]]}"#]).0 == 201)
        let huge = "[1000000,1000000]"
        let npyHeader = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }"
        let padded = npyHeader + String(repeating: " ", count: 117 - npyHeader.utf8.count) + "\n"
        let npyFile = FileManager.default.temporaryDirectory.appendingPathComponent("tensord-huge-\(daemon.port).npy")
        try Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(padded.utf8.count), 0] + Array(padded.utf8)).write(to: npyFile)
        defer { try? FileManager.default.removeItem(at: npyFile) }
        let requests: [([String], String)] = [
            (["-X", "POST", "\(s)/ops/zeros"] + json + ["-d", #"{"params":{"shape":\#(huge)}}"#], "array-too-large"),
            (["-X", "POST", "\(s)/ops/ones"] + json + ["-d", #"{"params":{"shape":\#(huge)}}"#], "array-too-large"),
            (["-X", "POST", "\(s)/ops/broadcast_to"] + json + ["-d", #"{"inputs":["one"],"params":{"shape":\#(huge)}}"#], "array-too-large"),
            (["-X", "POST", "\(s)/arrays", "-H", "Content-Type: application/x-npy", "--data-binary", "@\(npyFile.path)"], "array-too-large"),
            (["-X", "POST", "\(s)/arrays"] + json + ["-d", #"{"shape":\#(huge),"data":[0]}"#], "data-size-mismatch"),
        ]
        // Warm up the code paths once, then measure.
        for (arguments, _) in requests { _ = Self.curl(nil, arguments) }
        let pid = daemon.process.processIdentifier
        let rssBefore = Self.residentKiB(pid) ?? -1
        for _ in 0..<3 {
            for (arguments, code) in requests {
                let (status, body) = Self.curl(nil, arguments)
                #expect(status == 422 && Self.json(body)["code"]?.string == code, "\(body)")
            }
        }
        let rssAfter = Self.residentKiB(pid) ?? -1
        #expect(daemon.stop() == 0)
        let durations = daemon.log.withLock { $0 }.split(separator: "\n").map { Self.json(String($0)) }
            .filter { $0["msg"]?.string == "request" && $0["status"] == .int(422) }
            .compactMap { $0["duration_us"]?.number?.int }
        #expect(durations.count == 4 * requests.count)
        let slowest = durations.max() ?? .max
        print("huge-array requests: \(durations.count), server time max \(slowest) µs, median \(durations.sorted()[durations.count / 2]) µs; VmRSS \(rssBefore) -> \(rssAfter) KiB")
        #expect(slowest < 20_000, "server time \(durations) µs")
        #expect(rssBefore > 0 && abs(rssAfter - rssBefore) < 4_096, "VmRSS \(rssBefore) -> \(rssAfter) KiB")
    }
}
