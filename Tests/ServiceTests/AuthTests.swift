import Foundation
import Testing
import Wire
@testable import Service

/// The secrets of the three keys used below.
enum Keys {
    static let a = "key-a-0123456789abcdef0123456789"
    static let b = "key-b-fedcba9876543210fedcba9876"
    static let admin = "key-admin-00112233445566778899aa"

    static func bearer(_ key: String) -> [(String, String)] { [("Authorization", "Bearer \(key)")] }
}

/// A client of a server with keys A, B (plain) and an admin key, on a manual clock.
struct KeyedClient {
    let client: TestClient
    let clock = TestClock()

    init(configure: (inout ServiceConfiguration) -> Void = { _ in }) {
        let clock = self.clock
        client = TestClient { configuration in
            configuration.apiKeys = [APIKey(Keys.a, name: "alice"), APIKey(Keys.b),
                                     APIKey(Keys.admin, name: "ops", isAdmin: true)]
            configuration.clock = { clock.now() }
            configure(&configuration)
        }
    }

    func call(_ key: String, _ method: String, _ target: String, _ json: String? = nil) -> TestResponse {
        client.call(method, target, json, headers: Keys.bearer(key))
    }

    /// Creates a session with `key`; returns its id.
    func session(_ key: String, _ json: String? = nil) -> String {
        let response = call(key, "POST", "/v1/sessions", json)
        #expect(response.status == 201, "\(response.text)")
        return response["id"]?.string ?? "missing"
    }
}

/// An id of this replica that was never issued: `id` with its last character changed.
func neverIssued(like id: String) -> String {
    String(id.dropLast()) + (id.last == "a" ? "b" : "a")
}

/// The response with every occurrence of `id` replaced, for comparing answers about two ids.
func body(_ response: TestResponse, without id: String) -> String {
    response.text.replacingOccurrences(of: id, with: "<sid>")
}

@Suite struct APIKeysFileTests {
    @Test func parsesKeysRolesNamesAndQuotas() throws {
        let keys = try APIKeys.parse("""
            # comment line
            alpha-key-1   admin name=ops

            beta-key-2\tname=alice max_sessions=3\r
              gamma-key-3
            """)
        #expect(keys.count == 3)
        #expect(keys[0].fingerprint == APIKey.fingerprint(of: "alpha-key-1"))
        #expect(keys[0].isAdmin && keys[0].name == "ops" && keys[0].maxSessions == nil)
        #expect(!keys[1].isAdmin && keys[1].name == "alice" && keys[1].maxSessions == 3)
        #expect(keys[2].name == nil && keys[2].label == "key:" + APIKey.fingerprint(of: "gamma-key-3").prefix(12))
        // The fingerprint is SHA-256 (FIPS 180-2 test vector "abc").
        #expect(APIKey.fingerprint(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func refusesMalformedFilesWithoutEchoingKeys() {
        let cases: [(String, String)] = [
            ("secret-one admni", "line 1: word 2"),
            ("# c\nsecret-two name=", "line 2: name="),
            ("secret-three name=a/b", "line 1: name="),
            ("secret-four max_sessions=-1", "line 1: max_sessions="),
            ("secret-five max_sessions=x", "line 1: max_sessions="),
            ("secret-six\nsecret-six admin", "line 2: the same key is given twice"),
            ("secret-seven name=x\nsecret-eight name=x", "line 2: the name 'x'"),
            ("sécret", "line 1: a key must be"),
        ]
        for (text, expected) in cases {
            do {
                _ = try APIKeys.parse(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.hasPrefix(expected), "\(error.description)")
                #expect(!error.description.contains("secret-") && !error.description.contains("sécret"), "\(error.description)")
            }
        }
        #expect(throws: APIKeysError.self) { try APIKeys.merge(try APIKeys.parse("k1"), try APIKeys.parseList("k2, k1")) }
        #expect((try? APIKeys.parseList(" k1 ,, k2 "))?.count == 2)
    }

    @Test func refusesAFileOthersCanReadOrOneWithoutKeys() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tensord-keys-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("keys").path
        try Data("private-key-1 admin\n".utf8).write(to: URL(fileURLWithPath: path))

        chmod(path, 0o644)
        do {
            _ = try APIKeys.load(path: path)
            Issue.record("a world-readable keys file was accepted")
        } catch {
            #expect(error.description.contains("accessible to other users") && error.description.contains("644"))
        }
        chmod(path, 0o640)
        #expect(try APIKeys.load(path: path).first?.isAdmin == true)
        chmod(path, 0o600)
        #expect(try APIKeys.load(path: path).count == 1)

        try Data("# only comments\n\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: APIKeysError.self) { try APIKeys.load(path: path) }
        #expect(throws: APIKeysError.self) { try APIKeys.load(path: dir.appendingPathComponent("missing").path) }
    }
}

@Suite struct OwnershipTests {
    @Test func anotherKeysSessionIsIndistinguishableFromANeverIssuedId() {
        let keyed = KeyedClient()
        let sid = keyed.session(Keys.a)
        let unknown = neverIssued(like: sid)
        let foreign = keyed.call(Keys.b, "GET", "/v1/sessions/\(sid)")
        let missing = keyed.call(Keys.b, "GET", "/v1/sessions/\(unknown)")
        #expect(foreign.status == 404 && foreign.code == "session-not-found" && foreign["reason"]?.string == "unknown")
        #expect(body(foreign, without: sid) == body(missing, without: unknown))
        #expect(foreign.headers["Content-Type"] == missing.headers["Content-Type"])

        // The owner and the admin see it; the owner label is the key's name.
        #expect(keyed.call(Keys.a, "GET", "/v1/sessions/\(sid)")["owner"]?.string == "alice")
        #expect(keyed.call(Keys.admin, "GET", "/v1/sessions/\(sid)").status == 200)
        #expect(keyed.client.service.registry.info(sid)?.owner == APIKey.fingerprint(of: Keys.a))

        // Deleted by its owner: the owner (and the admin) learn why; B still learns nothing.
        #expect(keyed.call(Keys.b, "DELETE", "/v1/sessions/\(sid)").status == 404)
        #expect(keyed.call(Keys.a, "DELETE", "/v1/sessions/\(sid)").status == 204)
        #expect(keyed.call(Keys.a, "GET", "/v1/sessions/\(sid)")["reason"]?.string == "deleted")
        #expect(keyed.call(Keys.admin, "GET", "/v1/sessions/\(sid)")["reason"]?.string == "deleted")
        let afterDelete = keyed.call(Keys.b, "GET", "/v1/sessions/\(sid)")
        #expect(body(afterDelete, without: sid) == body(missing, without: unknown))
    }

    @Test func listingShowsOwnSessionsAndAdminSeesAll() {
        let keyed = KeyedClient()
        let a1 = keyed.session(Keys.a), a2 = keyed.session(Keys.a), b1 = keyed.session(Keys.b)
        func ids(_ key: String) -> [String] {
            (keyed.call(key, "GET", "/v1/sessions")["sessions"]?.array ?? []).compactMap { $0["id"]?.string }
        }
        #expect(ids(Keys.a) == [a1, a2])
        #expect(ids(Keys.b) == [b1])
        #expect(ids(Keys.admin) == [a1, a2, b1])
        let owners = (keyed.call(Keys.admin, "GET", "/v1/sessions")["sessions"]?.array ?? []).compactMap { $0["owner"]?.string }
        #expect(owners == ["alice", "alice", "key:" + APIKey.fingerprint(of: Keys.b).prefix(12)])
        // The admin touches any session: deletes B's.
        #expect(keyed.call(Keys.admin, "DELETE", "/v1/sessions/\(b1)").status == 204)
        #expect(ids(Keys.b).isEmpty)
    }

    @Test func withoutKeysEverySessionIsSharedAndOwnerIsEmpty() {
        let client = TestClient()
        let response = client.call("POST", "/v1/sessions")
        #expect(response["owner"]?.string == "")
        #expect(client.service.registry.info(response["id"]?.string ?? "")?.owner == "")
        #expect(client.call("GET", "/v1/sessions")["sessions"]?.array?.count == 1)
    }

    @Test func aForeignRequestIsNotActivity() {
        let keyed = KeyedClient()
        let sid = keyed.session(Keys.a, #"{"idle_timeout_s":60}"#)
        keyed.clock.advance(40)
        #expect(keyed.call(Keys.b, "GET", "/v1/sessions/\(sid)").status == 404)
        keyed.clock.advance(30)
        #expect(keyed.client.service.sweepIdleSessions() == 1)
        #expect(keyed.call(Keys.a, "GET", "/v1/sessions/\(sid)")["reason"]?.string == "expired")
    }

    /// Key B tries every route of the table that names a session, against a session of key A
    /// (other path parameters filled with A's real ids, bodies that would change A's state):
    /// each answer is the 404 a never-issued id gets, and A's session is unchanged afterwards.
    @Test func everySessionRouteRefusesTheWrongKey() {
        let keyed = KeyedClient()
        let sessionRoutes = Service.routeTable.filter { $0.path.contains("{sid}") }
        #expect(sessionRoutes.count == Service.routeTable.count { $0.path.hasPrefix("/v1/sessions/{sid}") })
        #expect(sessionRoutes.count >= 25)
        let bodies: [String: String] = [
            "PATCH /v1/sessions/{sid}/flags": #"{"is_recording":true,"is_training":true}"#,
            "POST /v1/sessions/{sid}/seed": #"{"seed":7}"#,
            "POST /v1/sessions/{sid}/scopes": #"{"kind":"record"}"#,
            "POST /v1/sessions/{sid}/arrays": #"{"id":"z","data":[1]}"#,
            "POST /v1/sessions/{sid}/release": #"{"ids":["x"]}"#,
            "PUT /v1/sessions/{sid}/arrays/{aid}/data": #"{"data":[9,9,9,9]}"#,
            "PUT /v1/sessions/{sid}/arrays/{aid}/grad": #"{"grad_req":"add"}"#,
            "POST /v1/sessions/{sid}/arrays/{aid}/detach": #"{"id":"d"}"#,
            "POST /v1/sessions/{sid}/mark_variables": #"{"variables":["x"],"gradients":["y"]}"#,
            "POST /v1/sessions/{sid}/ops/{op}": #"{"inputs":["x","x"],"ids":["z"]}"#,
            "POST /v1/sessions/{sid}/backward": #"{"heads":["y"],"retain_graph":true}"#,
            "POST /v1/sessions/{sid}/grad": #"{"heads":["y"],"variables":["x"],"retain_graph":true}"#,
            "POST /v1/sessions/{sid}/functions": #"{"forward":{"inputs":["a"],"steps":[],"outputs":["a"]},"backward":{"inputs":["g"],"steps":[],"outputs":["g"]}}"#,
            "POST /v1/sessions/{sid}/functions/{fid}/call": #"{"inputs":["x"]}"#,
            "POST /v1/sessions/{sid}/run": #"{"steps":[{"create":{"data":[1]},"id":"r"}]}"#,
        ]
        for route in sessionRoutes {
            // A fresh session of A's per route, with an array, a gradient, a recorded graph, an open scope and a function.
            let sid = keyed.session(Keys.a)
            let s = "/v1/sessions/\(sid)"
            #expect(keyed.call(Keys.a, "POST", "\(s)/arrays", #"{"id":"x","data":[1,2,3,4]}"#).status == 201)
            #expect(keyed.call(Keys.a, "PUT", "\(s)/arrays/x/grad", #"{"grad_req":"write"}"#).status == 200)
            let scope = keyed.call(Keys.a, "POST", "\(s)/scopes", #"{"kind":"record"}"#)["id"]?.string ?? ""
            #expect(keyed.call(Keys.a, "POST", "\(s)/ops/broadcast_mul", #"{"inputs":["x","x"],"ids":["y"]}"#).status == 201)
            let fid = keyed.call(Keys.a, "POST", "\(s)/functions", bodies["POST /v1/sessions/{sid}/functions"])["id"]?.string ?? ""
            func snapshot() -> [String] {
                ["", "/flags", "/scopes", "/arrays?data=true", "/arrays/x/grad", "/arrays/y/graph"]
                    .map { keyed.call(Keys.a, "GET", s + $0).text }
            }
            let before = snapshot()
            let lastActivity = keyed.client.service.registry.info(sid)?.lastActivity
            keyed.clock.advance(5)

            func path(_ id: String) -> String {
                route.path.replacingOccurrences(of: "{sid}", with: id).replacingOccurrences(of: "{aid}", with: "x")
                    .replacingOccurrences(of: "{scope_id}", with: scope).replacingOccurrences(of: "{fid}", with: fid)
                    .replacingOccurrences(of: "{op}", with: "broadcast_add")
            }
            let json = bodies["\(route.method) \(route.path)"]
            let refused = keyed.call(Keys.b, route.method, path(sid), json)
            let unknown = neverIssued(like: sid)
            let missing = keyed.call(Keys.b, route.method, path(unknown), json)
            let label = "\(route.method) \(route.path)"
            #expect(refused.status == 404 && refused.code == "session-not-found", "\(label): \(refused.text)")
            #expect(body(refused, without: sid) == body(missing, without: unknown), "\(label)")
            #expect(refused.headers["Content-Type"] == missing.headers["Content-Type"], "\(label)")
            #expect(keyed.client.service.registry.info(sid)?.lastActivity == lastActivity, "\(label) touched the session")
            keyed.clock.advance(-5)
            #expect(snapshot() == before, "\(label) changed the session")
        }
    }
}

@Suite struct QuotaTests {
    @Test func sessionsPerKeyAreLimitedBeforeCreating() {
        let keyed = KeyedClient { $0.maxSessionsPerKey = 2; $0.maxSessions = 10 }
        let first = keyed.session(Keys.a)
        _ = keyed.session(Keys.a)
        let third = keyed.call(Keys.a, "POST", "/v1/sessions")
        #expect(third.status == 409 && third.code == "too-many-sessions" && third["expected"] == .int(2), "\(third.text)")
        #expect(keyed.client.service.sessionCount == 2)
        // Another key has its own quota; deleting one frees a place.
        _ = keyed.session(Keys.b)
        #expect(keyed.call(Keys.a, "DELETE", "/v1/sessions/\(first)").status == 204)
        _ = keyed.session(Keys.a)
        #expect(keyed.client.service.registry.configuration.maxSessions == 10)
    }

    @Test func aKeysOwnQuotaOverridesTheDefault() {
        let client = TestClient { $0.apiKeys = [APIKey("small", maxSessions: 1), APIKey("zero", maxSessions: 0)]; $0.maxSessionsPerKey = 5 }
        #expect(client.call("POST", "/v1/sessions", headers: Keys.bearer("small")).status == 201)
        #expect(client.call("POST", "/v1/sessions", headers: Keys.bearer("small")).code == "too-many-sessions")
        #expect(client.call("POST", "/v1/sessions", headers: Keys.bearer("zero")).code == "too-many-sessions")
    }

    @Test func withoutKeysOnlyTheTotalCounts() {
        let client = TestClient { $0.maxSessionsPerKey = 1; $0.maxSessions = 3 }
        for _ in 0..<3 { #expect(client.call("POST", "/v1/sessions").status == 201) }
        #expect(client.call("POST", "/v1/sessions").code == "capacity")
    }

    @Test func theRateLimitIsPerKeyNotPerAddress() {
        let keyed = KeyedClient { $0.rateLimit = 1; $0.rateLimitBurst = 2 }
        #expect(keyed.call(Keys.a, "GET", "/v1/ops/relu").status == 200)
        #expect(keyed.call(Keys.a, "GET", "/v1/ops/relu").status == 200)
        let limited = keyed.call(Keys.a, "GET", "/v1/ops/relu")
        #expect(limited.code == "rate-limited" && limited.headers["Retry-After"] == "1")
        // Same address, other key: its own bucket.
        #expect(keyed.call(Keys.b, "GET", "/v1/ops/relu").status == 200)
        keyed.clock.advance(1)
        #expect(keyed.call(Keys.a, "GET", "/v1/ops/relu").status == 200)
    }

    /// 10^12-element requests are refused from the shape, by code, without allocating (the
    /// live test measures time and memory on a real server).
    @Test func hugeArraysAreRefusedByShape() {
        let client = TestClient()
        let s = client.newSession()
        client.array(s, "one", #""data":[[1]]"#)
        let huge = "[1000000,1000000]"
        let cases: [(String, String, String)] = [
            ("\(s)/ops/zeros", #"{"params":{"shape":\#(huge)}}"#, "array-too-large"),
            ("\(s)/ops/ones", #"{"params":{"shape":\#(huge)}}"#, "array-too-large"),
            ("\(s)/ops/full", #"{"params":{"shape":\#(huge),"value":2}}"#, "array-too-large"),
            ("\(s)/ops/broadcast_to", #"{"inputs":["one"],"params":{"shape":\#(huge)}}"#, "array-too-large"),
            ("\(s)/arrays", #"{"shape":\#(huge),"data":[0]}"#, "data-size-mismatch"),
            ("\(s)/run", #"{"steps":[{"op":"zeros","params":{"shape":\#(huge)},"id":"z"}]}"#, "array-too-large"),
        ]
        for (path, json, code) in cases {
            let response = client.call("POST", path, json)
            #expect(response.code == code && response.status == 422, "\(path): \(response.text)")
        }
        // Within the element limit but over the memory budget: the other code.
        let small = TestClient { $0.sessionMaxBytes = 1 << 20 }
        let t = small.newSession()
        let budget = small.call("POST", "\(t)/ops/zeros", #"{"params":{"shape":[1024,1024]}}"#)
        #expect(budget.code == "session-quota-exceeded" && budget.status == 409, "\(budget.text)")
        #expect(client.call("GET", s)["usage"]?["bytes"] == .int(4))
    }
}

@Suite struct SessionLifetimeTests {
    @Test func aSessionExpiresAtItsLifetimeWhateverItsTraffic() {
        let clock = TestClock()
        let client = TestClient { $0.sessionTTL = 100; $0.clock = { clock.now() } }
        let created = client.call("POST", "/v1/sessions", #"{"idle_timeout_s":60}"#)
        #expect(created["ttl_s"] == .int(100))
        let s = created.headers["Location"] ?? ""
        // Busy every 30 s: the idle timeout never hits, the lifetime does.
        for _ in 0..<3 {
            clock.advance(30)
            #expect(client.call("GET", s).status == 200)
        }
        // At 90 s the next expiry is the lifetime's (100 s), not the idle timeout's (150 s).
        let info = client.call("GET", s)
        #expect(info["expires_at"]?.string == Timestamp.iso8601(clock.now() + 10))
        clock.advance(10)
        let gone = client.call("GET", s)
        #expect(gone.status == 404 && gone["reason"]?.string == "expired", "\(gone.text)")
        #expect(client.service.registry.expiredCount.count == 1)
    }

    @Test func theSweepExpiresSessionsPastTheirLifetime() {
        let clock = TestClock()
        let client = TestClient { $0.clock = { clock.now() } }
        let s = client.call("POST", "/v1/sessions", #"{"ttl_s":5}"#).headers["Location"] ?? ""
        #expect(client.call("GET", s)["ttl_s"] == .int(5))
        clock.advance(5)
        #expect(client.service.sweepIdleSessions() == 1)
        #expect(client.call("GET", s)["reason"]?.string == "expired")
        // No lifetime by default.
        #expect(client.call("POST", "/v1/sessions")["ttl_s"] == .null)
    }

    @Test func requestedLifetimesAreCapped() {
        let client = TestClient { $0.maxSessionTTL = 50 }
        #expect(client.call("POST", "/v1/sessions", #"{"ttl_s":51}"#).code == "invalid-argument")
        #expect(client.call("POST", "/v1/sessions", #"{"ttl_s":0}"#).code == "invalid-argument")
        #expect(client.call("POST", "/v1/sessions", #"{"ttl_s":50}"#)["ttl_s"] == .int(50))
        // With a cap and no default, a session asking for none gets the cap.
        #expect(client.call("POST", "/v1/sessions")["ttl_s"] == .int(50))
    }
}
