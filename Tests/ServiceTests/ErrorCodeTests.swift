import Dispatch
import Foundation
import Synchronization
import Testing
import Autograd
import Wire
@testable import Service

/// Every error code of docs/API.md: its status, the RFC 9457 body, and a request that produces it.
@Suite struct ErrorCodeTests {
    let client = TestClient()

    /// The table of docs/API.md, transcribed.
    static let table: [String: Int] = [
        "invalid-body": 400, "invalid-argument": 400, "unsupported-media-type": 415, "not-acceptable": 406,
        "body-too-large": 413, "data-size-mismatch": 422, "unsupported-dtype": 422, "unsupported-layout": 422,
        "shape-mismatch": 422, "dtype-mismatch": 422, "invalid-attribute": 422, "not-differentiable": 422,
        "array-too-large": 422, "not-found": 404, "method-not-allowed": 405, "session-not-found": 404,
        "array-not-found": 404, "unknown-op": 404, "grad-not-attached": 404, "array-exists": 409,
        "not-recorded": 409, "graph-freed": 409, "no-grad-variables": 409, "variable-not-attached": 409,
        "variable-unreachable": 422, "inplace-in-graph": 409, "inplace-while-recording": 409, "not-in-graph": 409,
        "scope-order": 409, "function-reused": 409, "session-quota-exceeded": 409, "too-many-sessions": 409, "capacity": 503,
        "rate-limited": 429, "unauthorized": 401, "internal": 500,
    ]

    @Test func everyCodeHasTheDocumentedStatus() {
        #expect(Set(APIError.Code.allCases.map(\.rawValue)) == Set(Self.table.keys))
        for code in APIError.Code.allCases {
            #expect(code.status == Self.table[code.rawValue], "\(code.rawValue)")
        }
    }

    @Test func problemBodyIsRFC9457() {
        let response = client.call("GET", "/v1/sessions/r0eaaaa-unknown")
        #expect(response.status == 404)
        #expect(response.contentType == "application/problem+json")
        let body = response.json
        #expect(body["type"]?.string == "https://tensord.dev/problems/session-not-found")
        #expect(body["title"]?.string == "Session not found")
        #expect(body["status"] == .int(404))
        #expect(body["code"]?.string == "session-not-found")
        #expect(body["detail"]?.string?.isEmpty == false)
        #expect(body["instance"]?.string == "/v1/sessions/r0eaaaa-unknown")
        #expect(body["session_id"]?.string == "r0eaaaa-unknown")
    }

    @Test func problemInstanceIsThePathAsSent() {
        // A malformed id still answers 404; `instance` stays a URI reference (percent-encoded),
        // while `session_id` echoes the id as decoded.
        let response = client.call("GET", "/v1/sessions/%C3%97%C2%9B/arrays")
        #expect(response.status == 404)
        #expect(response.json["instance"]?.string == "/v1/sessions/%C3%97%C2%9B/arrays")
        #expect(response.json["session_id"]?.string == "\u{D7}\u{9B}")
    }

    @Test func explicitNullMembersAreRejected() {
        // The spec declares no nullable request member: null is a wrong type, not "absent".
        expect(client.call("POST", "/v1/sessions", #"{"labels":null}"#), "invalid-argument")
        expect(client.call("POST", "/v1/sessions", #"{"idle_timeout_s":null}"#), "invalid-argument")
        let s = client.newSession()
        expect(client.call("POST", "\(s)/arrays", #"{"data":[1,2],"shape":null}"#), "invalid-argument")
        expect(client.call("POST", "\(s)/backward", #"{"heads":null}"#), "invalid-argument")
        expect(client.call("POST", "\(s)/run", #"{"steps":[{"create":{"data":[1]},"id":null}]}"#), "invalid-argument")
        // Absent members keep their defaults; null entries of head_grads still mean ones.
        client.array(s, "x", #""data":[1,2]"#)
        #expect(client.call("PUT", "\(s)/arrays/x/grad", "{}").status == 200)
        #expect(client.call("POST", "\(s)/scopes", #"{"kind":"record"}"#).status == 201)
        #expect(client.call("POST", "\(s)/ops/broadcast_mul", #"{"inputs":["x","x"],"ids":["y"]}"#).status == 201)
        #expect(client.call("POST", "\(s)/backward", #"{"heads":["y"],"head_grads":[null]}"#).status == 200)
    }

    @Test func idListsAreListsExceptWhereOneIdIsDocumented() {
        let s = client.newSession()
        client.array(s, "x", #""data":[1,2]"#)
        client.array(s, "o", #""data":[0,0]"#)
        let single = client.call("POST", "\(s)/ops/relu", #"{"inputs":"x"}"#)
        expect(single, "invalid-argument")
        #expect(single["detail"]?.string?.contains("'inputs'") == true, "\(single.text)")
        expect(client.call("POST", "\(s)/backward", #"{"heads":"x"}"#), "invalid-argument")
        expect(client.call("POST", "\(s)/run", #"{"steps":[{"op":"relu","inputs":"x"}]}"#), "invalid-argument")
        // `out` and the release route's `ids` take one id as a string (openapi.yaml says so).
        #expect(client.call("POST", "\(s)/ops/relu", #"{"inputs":["x"],"out":"o"}"#).status == 201)
        #expect(client.call("POST", "\(s)/release", #"{"ids":"o"}"#).status == 200)
    }

    @Test func internalErrorsRenderAsProblems() {
        let reply = Service.problem(APIError(.internal, "The server could not generate a session id."),
                                    TestClient.makeRequest("GET", "/x"))
        #expect(reply.status == 500)
        #expect(reply.contentType == "application/problem+json")
        let body = try? JSONParser.parse(reply.body)
        #expect(body?["code"]?.string == "internal")
        #expect(body?["title"]?.string == "Internal error")
    }

    @Test func wireErrorsMapByKind() {
        #expect(APIError(WireError(.invalidJSON, "x")).code == .invalidBody)
        #expect(APIError(WireError(.invalidNPY, "x")).code == .invalidBody)
        #expect(APIError(WireError(.unsupportedDtype, "x")).code == .unsupportedDType)
        #expect(APIError(WireError(.unsupportedLayout, "x")).code == .unsupportedLayout)
        #expect(APIError(WireError(.tooLarge, "x")).code == .arrayTooLarge)
        #expect(APIError(WireError(.valueOutOfRange, "x")).code == .invalidArgument)
    }

    func expect(_ response: TestResponse, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.code == code, "\(response.text)", sourceLocation: sourceLocation)
        #expect(response.status == Self.table[code], sourceLocation: sourceLocation)
        #expect(response.contentType == "application/problem+json", sourceLocation: sourceLocation)
    }

    @Test func requestErrors() {
        let s = client.newSession()
        expect(client.call("POST", "\(s)/arrays", #"{"data":[1,2"#), "invalid-body")
        expect(client.call("POST", "\(s)/arrays", #"{"data":[1,NaN]}"#), "invalid-body")
        expect(client.call("POST", "\(s)/arrays", #"{"data":[1,null]}"#), "invalid-body")
        expect(client.call("POST", "\(s)/arrays", #"[1,2]"#), "invalid-body")
        expect(client.call("POST", "\(s)/arrays", #"{"data":[1],"shape":"x"}"#), "invalid-argument")
        expect(client.call("PUT", "\(s)/arrays/x/grad", #"{"grad_req":"sometimes"}"#), "invalid-argument")
        expect(client.call("POST", "\(s)/scopes", #"{"kind":"forever"}"#), "invalid-argument")
        expect(client.call("POST", "\(s)/arrays", #"{"id":"bad id!","data":[1]}"#), "invalid-argument")
        // The npy query parameters are checked with a JSON body too.
        expect(client.call("POST", "\(s)/arrays?id=%C2%A5", #"{"id":"ok","data":[1]}"#), "invalid-argument")
        expect(client.call("POST", "\(s)/arrays?dtype=7", #"{"data":[1]}"#), "unsupported-dtype")
        expect(client.request("POST", "\(s)/arrays", body: Array("data=1".utf8),
                              headers: [("Content-Type", "application/x-www-form-urlencoded")]), "unsupported-media-type")
        expect(client.request("POST", "\(s)/arrays", body: [1, 2, 3], headers: [("Content-Type", "application/octet-stream")]),
               "invalid-body")
        expect(client.request("GET", "\(s)/flags", headers: [("Accept", "text/html")]), "not-acceptable")
        client.array(s, "x", #""data":[1,2]"#)
        expect(client.request("GET", "\(s)/arrays/x/data", headers: [("Accept", "image/png")]), "not-acceptable")
        expect(client.call("GET", "/v2/nothing"), "not-found")
        let notAllowed = client.call("PUT", "/v1/sessions")
        expect(notAllowed, "method-not-allowed")
        #expect(notAllowed.headers["Allow"] == "GET, HEAD, POST")
    }

    @Test func tensorContentErrors() {
        let s = client.newSession()
        expect(client.call("POST", "\(s)/arrays", #"{"data":[1,2,3],"shape":[2,2]}"#), "data-size-mismatch")
        client.array(s, "x", #""data":[1,2]"#)
        expect(client.call("PUT", "\(s)/arrays/x/data", #"{"data":[1,2,3]}"#), "data-size-mismatch")
        expect(client.call("POST", "\(s)/arrays", #"{"data":[1],"dtype":"float16"}"#), "unsupported-dtype")
        // A big-endian npy file.
        let npy = replacing(NPY.header(dtype: .float64, shape: [1]), "<f8", ">f8") + [0, 0, 0, 0, 0, 0, 0, 0]
        expect(client.request("POST", "\(s)/arrays", body: npy, headers: [("Content-Type", "application/x-npy")]),
               "unsupported-layout")
    }

    @Test func engineErrors() {
        let s = client.newSession()
        client.array(s, "a", #""data":[1,2,3]"#)
        client.array(s, "b", #""data":[1,2]"#)
        client.array(s, "d", #""data":[1,2,3],"dtype":"float64""#)
        expect(client.call("POST", "\(s)/ops/broadcast_add", #"{"inputs":["a","b"]}"#), "shape-mismatch")
        expect(client.call("POST", "\(s)/ops/broadcast_add", #"{"inputs":["a","d"]}"#), "dtype-mismatch")
        expect(client.call("POST", "\(s)/ops/sum", #"{"inputs":["a"],"params":{"axis":5}}"#), "invalid-attribute")
        expect(client.call("POST", "\(s)/ops/no_such_op", #"{"inputs":["a"]}"#), "unknown-op")
        expect(client.call("POST", "\(s)/ops/_plus_scalar", #"{"inputs":["zzz"],"params":{"scalar":1}}"#), "array-not-found")
        expect(client.call("GET", "\(s)/arrays/a/grad"), "grad-not-attached")
        expect(client.call("POST", "\(s)/arrays", #"{"id":"a","data":[1]}"#), "array-exists")
        expect(client.call("POST", "\(s)/backward", #"{"heads":["a"]}"#), "not-recorded")
        expect(client.call("GET", "\(s)/arrays/a/graph"), "not-in-graph")
    }

    @Test func graphErrors() {
        let s = client.newSession()
        client.array(s, "x", #""data":[1,2]"#)
        client.array(s, "w", #""data":[3,4]"#)
        client.array(s, "u", #""data":[3,4]"#)
        _ = client.call("PUT", "\(s)/arrays/x/grad", #"{"grad_req":"null"}"#)
        _ = client.call("PUT", "\(s)/arrays/u/grad", "{}")
        let scope = client.call("POST", "\(s)/scopes", #"{"kind":"record"}"#)["id"]?.string ?? ""
        _ = client.call("POST", "\(s)/ops/broadcast_mul", #"{"inputs":["x","x"],"ids":["y"]}"#)
        _ = client.call("POST", "\(s)/ops/broadcast_mul", #"{"inputs":["u","u"],"ids":["v"]}"#)
        _ = client.call("DELETE", "\(s)/scopes/\(scope)")
        expect(client.call("POST", "\(s)/backward", #"{"heads":["y"],"retain_graph":true}"#), "no-grad-variables")
        expect(client.call("POST", "\(s)/grad", #"{"heads":["v"],"variables":["w"],"retain_graph":true}"#), "variable-not-attached")
        let unreachable = client.call("POST", "\(s)/grad", #"{"heads":["v"],"variables":["x"],"retain_graph":true}"#)
        #expect(["variable-unreachable", "variable-not-attached"].contains(unreachable.code ?? ""), "\(unreachable.text)")
        _ = client.call("PUT", "\(s)/arrays/w/grad", "{}")
        let reach = client.call("POST", "\(s)/grad", #"{"heads":["v"],"variables":["w"],"retain_graph":true}"#)
        expect(reach, "variable-unreachable")
        #expect(reach["detail"]?.string == "Cannot differentiate with respect to the 1-th variable because it is unreachable from the outputs.")
        #expect(client.call("POST", "\(s)/backward", #"{"heads":["v"]}"#).status == 200)
        expect(client.call("POST", "\(s)/backward", #"{"heads":["v"]}"#), "graph-freed")
    }

    @Test func notDifferentiable() {
        // The engine records no node for an op without a gradient (its output is a constant, as
        // MXNet does for BlockGrad-like ops), so this code only arises from the engine's kind.
        let error = APIError(AutogradError(.notDifferentiable, "Operator _backward_x is non-differentiable"))
        #expect(error.code == .notDifferentiable)
        #expect(error.status == 422)
        #expect(error.detail == "Operator _backward_x is non-differentiable")
        let s = client.newSession()
        guard let op = Self.nonDifferentiableUnaryOp() else {
            Issue.record("the catalog has no non-differentiable one-input op to test with")
            return
        }
        client.array(s, "x", #""data":[1.5,2.5]"#)
        _ = client.call("PUT", "\(s)/arrays/x/grad", "{}")
        let scope = client.call("POST", "\(s)/scopes", #"{"kind":"record"}"#)["id"]?.string ?? ""
        let forward = client.call("POST", "\(s)/ops/\(op)", #"{"inputs":["x"],"ids":["y"]}"#)
        _ = client.call("DELETE", "\(s)/scopes/\(scope)")
        #expect(forward["outputs"]?.array?.first?["in_graph"]?.bool == false, "\(op): \(forward.text)")
    }

    /// A catalog op with one input, no required params and no gradient.
    static func nonDifferentiableUnaryOp() -> String? {
        OperatorIndex.byName.values.filter { spec in
            !spec.differentiable && spec.inputs.count == 1 && !spec.variadic && spec.outputs == 1
                && !spec.params.contains { $0.required }
        }.map(\.name).sorted().first
    }

    @Test func scopeAndFunctionErrors() {
        let s = client.newSession()
        expect(client.call("DELETE", "\(s)/scopes/sc0"), "scope-order")
        client.array(s, "x", #""data":[1]"#)
        let fid = client.call("POST", "\(s)/functions", """
            {"forward":{"inputs":["a"],"steps":[],"outputs":["a"]},"backward":{"inputs":["g"],"steps":[],"outputs":["g"]}}
            """)["id"]?.string ?? ""
        #expect(client.call("POST", "\(s)/functions/\(fid)/call", #"{"inputs":["x"]}"#).status == 201)
        expect(client.call("POST", "\(s)/functions/\(fid)/call", #"{"inputs":["x"]}"#), "function-reused")
        expect(client.call("POST", "\(s)/functions", """
            {"forward":{"inputs":["a"],"steps":[{"op":"warp","inputs":["a"],"id":"b"}],"outputs":["b"]},"backward":{"inputs":["g"],"steps":[],"outputs":["g"]}}
            """), "unknown-op")
    }

    @Test func limits() {
        let small = TestClient { $0.maxArrayElements = 4; $0.sessionMaxBytes = 64 }
        let s = small.newSession()
        expect(small.call("POST", "\(s)/arrays", #"{"data":[1,2,3,4,5]}"#), "array-too-large")
        small.array(s, "a", #""data":[1,2,3,4],"dtype":"float64""#)
        small.array(s, "b", #""data":[1,2,3,4],"dtype":"float64""#)
        expect(small.call("POST", "\(s)/arrays", #"{"data":[1,2,3,4],"dtype":"float64"}"#), "session-quota-exceeded")
        // Op outputs are checked by the engine with the same limits.
        expect(small.call("POST", "\(s)/ops/broadcast_add", #"{"inputs":["a","b"]}"#), "session-quota-exceeded")
        // An op result over the element limit is array-too-large, whatever the budget left.
        expect(small.call("POST", "\(s)/ops/zeros", #"{"params":{"shape":[5]}}"#), "array-too-large")
        #expect(small.call("POST", "\(s)/release", #"{"ids":["b"]}"#)["released"] == .int(1))
        #expect(small.call("POST", "\(s)/ops/broadcast_add", #"{"inputs":["a","a"]}"#).status == 201)
    }

    @Test func arrayCountLimit() {
        let small = TestClient { $0.maxArraysPerSession = 2 }
        let s = small.newSession()
        small.array(s, "a", #""data":[1]"#)
        _ = small.call("POST", "\(s)/ops/_plus_scalar", #"{"inputs":["a"],"params":{"scalar":1}}"#)
        expect(small.call("POST", "\(s)/arrays", #"{"data":[1]}"#), "session-quota-exceeded")
        expect(small.call("POST", "\(s)/ops/_plus_scalar", #"{"inputs":["a"],"params":{"scalar":1}}"#), "session-quota-exceeded")
        // In-place writes need no new array.
        #expect(small.call("POST", "\(s)/ops/_plus_scalar", #"{"inputs":["a"],"params":{"scalar":1},"out":"a"}"#).status == 201)
    }

    @Test func capacityAndAuth() {
        let one = TestClient { $0.maxSessions = 1 }
        _ = one.newSession()
        let full = one.call("POST", "/v1/sessions")
        expect(full, "capacity")
        #expect(full.headers["Retry-After"] == "5")
        #expect(full["reason"]?.string == "at-capacity")
        #expect(one.call("GET", "/readyz").status == 503)

        let guarded = TestClient { $0.apiKeys = ["k1"] }
        let denied = guarded.call("POST", "/v1/sessions")
        expect(denied, "unauthorized")
        #expect(denied.headers["WWW-Authenticate"] == "Bearer")
        expect(guarded.call("POST", "/v1/sessions", headers: [("Authorization", "Bearer k2")]), "unauthorized")
        #expect(guarded.call("POST", "/v1/sessions", headers: [("Authorization", "Bearer k1")]).status == 201)
        #expect(guarded.call("GET", "/v1/ops", headers: [("X-API-Key", "k1")]).status == 200)
        #expect(guarded.call("GET", "/livez").status == 200)
    }

    @Test func rateLimited() {
        let clock = TestClock()
        let limited = TestClient { $0.rateLimit = 1; $0.rateLimitBurst = 2; $0.clock = { clock.now() } }
        #expect(limited.call("GET", "/v1/ops").status == 200)
        #expect(limited.call("GET", "/v1/ops").status == 200)
        let third = limited.call("GET", "/v1/ops")
        expect(third, "rate-limited")
        #expect(third.headers["Retry-After"] == "1")
        #expect(limited.call("GET", "/livez").status == 200)
        clock.advance(1)
        #expect(limited.call("GET", "/v1/ops").status == 200)
        // Another connection (port) of the same host shares the bucket; another host does not.
        func from(_ address: String) -> Int {
            let result = Mutex<Int>(0)
            let done = DispatchSemaphore(value: 0)
            limited.service.handle(TestClient.makeRequest("GET", "/v1/ops", remoteAddress: address)) { response in
                result.withLock { $0 = response.status }
                done.signal()
            }
            done.wait()
            return result.withLock { $0 }
        }
        #expect(from("127.0.0.1:40001") == 429)
        #expect(from("[::1]:40001") == 200)
        #expect(Service.host(of: "[::1]:5") == "[::1]")
        #expect(Service.host(of: "10.0.0.1:80") == "10.0.0.1")
    }
}
