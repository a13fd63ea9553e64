import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Service

/// Session ids, expiry, tombstones, capacity, and the per-session serial execution.
@Suite struct SessionTests {
    @Test func idsCarryReplicaAndEpochAnd128RandomBits() {
        let client = TestClient { $0.replicaID = 3; $0.bootEpoch = "k9" }
        let ids = (0..<20).map { _ in client.call("POST", "/v1/sessions")["id"]?.string ?? "" }
        #expect(Set(ids).count == 20)
        for id in ids {
            #expect(id.hasPrefix("r3ek9-"))
            let random = id.dropFirst("r3ek9-".count)
            #expect(random.count == 26)   // 128 bits in base32
            #expect(random.allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) })
            #expect(SessionID.owner(of: id)?.replica == 3)
            #expect(SessionID.owner(of: id)?.epoch == "k9")
        }
    }

    @Test func replicasRestartedWithinASecondGetANewEpoch() {
        // The scale-out test restarts a replica in well under a second; its old ids must still
        // be recognised as a previous boot's (404 replica-restarted), so epochs tick in ms.
        let start = 1_800_000_000.0
        #expect(ServiceConfiguration.epoch(at: start) != ServiceConfiguration.epoch(at: start + 0.4))
        #expect(ServiceConfiguration.epoch(at: start) == ServiceConfiguration.epoch(at: start + 0.0004))
    }

    @Test func base32MatchesRFC4648() {
        // RFC 4648 §10 test vectors, lower case, no padding.
        #expect(SessionID.base32(Array("f".utf8)) == "my")
        #expect(SessionID.base32(Array("fo".utf8)) == "mzxq")
        #expect(SessionID.base32(Array("foo".utf8)) == "mzxw6")
        #expect(SessionID.base32(Array("foobar".utf8)) == "mzxw6ytboi")
    }

    @Test func notFoundReasons() {
        let clock = TestClock()
        let client = TestClient { $0.replicaID = 2; $0.bootEpoch = "new"; $0.clock = { clock.now() } }
        #expect(client.call("GET", "/v1/sessions/r2eold-abc")["reason"]?.string == "replica-restarted")
        #expect(client.call("GET", "/v1/sessions/r5eold-abc")["reason"]?.string == "unknown")
        #expect(client.call("GET", "/v1/sessions/whatever")["reason"]?.string == "unknown")
        let s = client.newSession()
        #expect(client.call("DELETE", s).status == 204)
        #expect(client.call("DELETE", s)["reason"]?.string == "deleted")
    }

    @Test func idleSessionsExpireAndLeaveATombstone() {
        let clock = TestClock()
        let client = TestClient { $0.idleTimeout = 60; $0.tombstoneLifetime = 600; $0.clock = { clock.now() } }
        let idle = client.newSession()
        let busy = client.newSession()
        let custom = client.newSession(#"{"idle_timeout_s":1000}"#)
        clock.advance(40)
        #expect(client.call("GET", "\(busy)/flags").status == 200)   // activity resets the timer
        clock.advance(30)
        #expect(client.service.sweepIdleSessions() == 1)
        let expired = client.call("GET", "\(idle)/flags")
        #expect(expired.code == "session-not-found")
        #expect(expired["reason"]?.string == "expired")
        #expect(client.call("GET", "\(busy)/flags").status == 200)
        #expect(client.call("GET", custom).status == 200)
        let expiresAt = client.call("GET", busy)["expires_at"]?.string
        #expect(expiresAt != nil)
        // Tombstones are forgotten after their lifetime.
        clock.advance(700)
        client.service.sweepIdleSessions()
        #expect(client.call("GET", "\(idle)/flags")["reason"]?.string == "unknown")
        #expect(client.call("GET", "/v1/sessions")["sessions"]?.array?.map { $0["id"]?.string } == [String(custom.dropFirst("/v1/sessions/".count))])
    }

    @Test func tombstonesAreCapped() {
        let clock = TestClock()
        let client = TestClient { $0.maxTombstones = 2; $0.clock = { clock.now() } }
        let ids = (0..<3).map { _ in client.newSession() }
        for id in ids {
            clock.advance(1)
            _ = client.call("DELETE", id)
        }
        client.service.sweepIdleSessions()
        #expect(ids.map { client.call("GET", $0)["reason"]?.string } == ["unknown", "deleted", "deleted"])
    }

    @Test func idleTimeoutIsValidated() {
        let client = TestClient()
        #expect(client.call("POST", "/v1/sessions", #"{"idle_timeout_s":0}"#).code == "invalid-argument")
        #expect(client.call("POST", "/v1/sessions", #"{"idle_timeout_s":"soon"}"#).code == "invalid-argument")
        #expect(client.call("POST", "/v1/sessions", #"{"idle_timeout_s":1.5}"#).code == "invalid-argument")
    }

    @Test func drainingRefusesNewSessions() {
        let client = TestClient()
        let s = client.newSession()
        client.service.beginDraining()
        let refused = client.call("POST", "/v1/sessions")
        #expect(refused.code == "capacity")
        #expect(refused["reason"]?.string == "draining")
        #expect(client.call("GET", "/readyz").status == 503)
        #expect(client.call("GET", "\(s)/flags").status == 200)
    }

    @Test func oneSessionRunsRequestsInArrivalOrder() {
        // 200 in-place increments sent without waiting: each must see the previous one.
        let client = TestClient()
        let s = client.newSession()
        client.array(s, "x", #""data":[0]"#)
        let group = DispatchGroup()
        let statuses = Mutex<[Int]>([])
        for _ in 0..<200 {
            group.enter()
            client.send("POST", "\(s)/ops/_plus_scalar", body: Array(#"{"inputs":["x"],"params":{"scalar":1},"out":"x"}"#.utf8),
                        headers: [("Content-Type", "application/json")]) { response in
                statuses.withLock { $0.append(response.status) }
                group.leave()
            }
        }
        // Overwrites in order: the last one wins.
        for value in 1...50 {
            group.enter()
            client.send("PUT", "\(s)/arrays/x/data", body: Array("{\"data\":[\(value * 1000)]}".utf8)) { _ in group.leave() }
        }
        group.wait()
        #expect(statuses.withLock { $0 } == Array(repeating: 201, count: 200))
        #expect(client.values(s, "x/data") == [50_000])
    }

    @Test func sessionsRunInParallel() {
        // While session A works through a long program, session B still answers.
        let client = TestClient()
        let a = client.newSession()
        let b = client.newSession()
        client.array(a, "m", #""data":[1],"shape":[1]"#)
        let steps = (0..<8000).map { _ in #"{"op":"_plus_scalar","inputs":["m"],"params":{"scalar":1},"out":"m"}"# }
        let program = Array("{\"steps\":[\(steps.joined(separator: ","))]}".utf8)
        let order = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        client.send("POST", "\(a)/run", body: program) { response in
            order.withLock { $0.append("a:\(response.status)") }
            done.signal()
        }
        let quick = client.call("GET", "\(b)/flags")
        order.withLock { $0.append("b:\(quick.status)") }
        done.wait()
        #expect(order.withLock { $0 } == ["b:200", "a:200"])
        #expect(client.values(a, "m/data") == [8001])
    }

    @Test func concurrentClientsOnManySessions() {
        let client = TestClient()
        let sessions = (0..<8).map { _ in client.newSession() }
        DispatchQueue.concurrentPerform(iterations: sessions.count) { index in
            let s = sessions[index]
            client.array(s, "x", "\"data\":[\(index)]")
            for _ in 0..<25 {
                _ = client.call("POST", "\(s)/ops/_plus_scalar", #"{"inputs":["x"],"params":{"scalar":2},"out":"x"}"#)
            }
        }
        for (index, s) in sessions.enumerated() {
            #expect(client.values(s, "x/data") == [Double(index + 50)])
        }
    }
}
