import Testing
@testable import Service

/// Bad input gives a typed 4xx problem on every route, never a 5xx or a crash.
@Suite struct MalformedInputTests {
    /// Bodies that are wrong in shape or type for every route.
    static let bodies: [String] = [
        "", "null", "[]", "\"x\"", "12", "{}", "{", "{\"a\":}", "[1,2", "{\"data\":NaN}",
        #"{"data":{},"shape":{},"dtype":7}"#, #"{"id":5,"data":[1]}"#, #"{"inputs":"x","params":[]}"#,
        #"{"inputs":[1,2],"out":7,"ids":{}}"#, #"{"heads":{},"variables":7,"head_grads":"x"}"#,
        #"{"steps":{},"fetch":5}"#, #"{"steps":[1,"x",null,[]]}"#, #"{"steps":[{"scope":7,"steps":5}]}"#,
        #"{"steps":[{"op":5},{"create":[]},{"backward":7},{"grad":"x"},{"mark_variables":[]}]}"#,
        #"{"kind":"record","train_mode":"yes"}"#, #"{"grad_req":5}"#, #"{"seed":-1}"#, #"{"seed":1.5}"#,
        #"{"is_recording":"true"}"#, #"{"ids":"x"}"#, #"{"ids":[1]}"#, #"{"variables":["x"],"gradients":[],"grad_reqs":7}"#,
        #"{"forward":{},"backward":[]}"#, #"{"forward":{"inputs":["a"],"steps":[],"outputs":["zz"]},"backward":{"inputs":["g"],"steps":[],"outputs":["g"]}}"#,
        #"{"idle_timeout_s":-5,"labels":[]}"#, #"{"data":[[[[[[[[[[1]]]]]]]]]],"shape":[1,1,1,1,1,1,1,1,1,2]}"#,
        #"{"data":[1e400]}"#, #"{"data":[1],"dtype":"int64","shape":[]}"#,
        String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
    ]

    @Test func everyRouteAnswersBadBodiesWith4xx() {
        let client = TestClient()
        let s = client.newSession()
        client.array(s, "x", #""data":[1,2,3,4]"#)
        _ = client.call("PUT", "\(s)/arrays/x/grad", "{}")
        let fid = client.call("POST", "\(s)/functions", """
            {"forward":{"inputs":["a"],"steps":[],"outputs":["zz"]},"backward":{"inputs":["g"],"steps":[],"outputs":["g"]}}
            """)["id"]?.string ?? "f0"
        var checked = 0
        for route in Routes.all {
            let path = route.path
                .replacingOccurrences(of: "{sid}", with: String(s.dropFirst("/v1/sessions/".count)))
                .replacingOccurrences(of: "{aid}", with: "x")
                .replacingOccurrences(of: "{op}", with: "broadcast_add")
                .replacingOccurrences(of: "{scope_id}", with: "sc0")
                .replacingOccurrences(of: "{fid}", with: fid)
            guard !(route.method == "DELETE" && route.path == "/v1/sessions/{sid}") else { continue }
            for body in Self.bodies {
                let response = client.request(route.method, path, body: Array(body.utf8),
                                              headers: [("Content-Type", "application/json")])
                checked += 1
                #expect(response.status < 500, "\(route.method) \(route.path) with \(body.prefix(60)): \(response.text)")
                if response.status >= 400 {
                    #expect(response.contentType == "application/problem+json", "\(route.method) \(route.path)")
                    #expect(response.code != nil, "\(route.method) \(route.path)")
                }
            }
        }
        #expect(checked > 1_000)
        // The session survived all of it and is still usable.
        #expect(client.call("GET", "\(s)/flags").status == 200)
    }
}

import Foundation
