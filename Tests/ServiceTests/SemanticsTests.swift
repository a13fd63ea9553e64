import Autograd
import Glibc
import Testing
@testable import Service

/// MXNet autograd semantics as the API exposes them (mxnet-autograd.md §1-§9).
@Suite struct SemanticsTests {
    let client = TestClient()

    func flags(_ s: String) -> (Bool?, Bool?) {
        let r = client.call("GET", "\(s)/flags")
        return (r["is_recording"]?.bool, r["is_training"]?.bool)
    }

    func push(_ s: String, _ body: String) -> String {
        let r = client.call("POST", "\(s)/scopes", body)
        #expect(r.status == 201, "\(r.text)")
        return r["id"]?.string ?? ""
    }

    @Test func scopeNestingFollowsMXNet() {
        let s = client.newSession()
        let record = push(s, #"{"kind":"record"}"#)
        #expect(flags(s) == (true, true))
        let pause = push(s, #"{"kind":"pause"}"#)
        #expect(flags(s) == (false, false))
        let inner = push(s, #"{"kind":"record","train_mode":false}"#)
        #expect(flags(s) == (true, false))
        #expect(client.call("GET", "\(s)/scopes")["scopes"]?.array?.map { $0["depth"] } == [.int(1), .int(2), .int(3)])
        #expect(client.call("DELETE", "\(s)/scopes/\(inner)").status == 200)
        #expect(flags(s) == (false, false))
        #expect(client.call("DELETE", "\(s)/scopes/\(pause)").status == 200)
        #expect(client.call("DELETE", "\(s)/scopes/\(record)").status == 200)
        #expect(flags(s) == (false, false))
        let train = push(s, #"{"kind":"train_mode"}"#)
        #expect(flags(s) == (false, true))
        let predict = push(s, #"{"kind":"predict_mode"}"#)
        #expect(flags(s) == (false, false))
        _ = client.call("DELETE", "\(s)/scopes/\(predict)")
        _ = client.call("DELETE", "\(s)/scopes/\(train)")
        #expect(flags(s) == (false, false))
    }

    @Test func exitRestoresOnlyWhatTheScopeChanged() {
        // record() inside record(): the inner exit leaves recording alone, so a manual
        // set_recording(False) made inside it survives (the MXNet quirk).
        let s = client.newSession()
        let outer = push(s, #"{"kind":"record"}"#)
        let inner = push(s, #"{"kind":"record"}"#)
        let patch = client.call("PATCH", "\(s)/flags", #"{"is_recording":false}"#)
        #expect(patch["previous"]?["is_recording"]?.bool == true)
        #expect(patch["current"]?["is_recording"]?.bool == false)
        _ = client.call("DELETE", "\(s)/scopes/\(inner)")
        #expect(flags(s).0 == false)
        _ = client.call("DELETE", "\(s)/scopes/\(outer)")
        #expect(flags(s).0 == false)
    }

    @Test func popOnlyTheInnermostScope() {
        let s = client.newSession()
        let outer = push(s, #"{"kind":"record"}"#)
        _ = push(s, #"{"kind":"pause"}"#)
        let wrong = client.call("DELETE", "\(s)/scopes/\(outer)")
        #expect(wrong.status == 409)
        #expect(wrong.code == "scope-order")
        #expect(client.call("GET", "\(s)/scopes")["scopes"]?.array?.count == 2)
        let empty = client.newSession()
        #expect(client.call("DELETE", "\(empty)/scopes/sc0").code == "scope-order")
    }

    @Test func setFlagsReturnsPreviousValues() {
        let s = client.newSession()
        let first = client.call("PATCH", "\(s)/flags", #"{"is_recording":true}"#)
        #expect(first["previous"]?["is_recording"]?.bool == false)
        let second = client.call("PATCH", "\(s)/flags", #"{"is_recording":true,"is_training":true}"#)
        #expect(second["previous"]?["is_recording"]?.bool == true)
        #expect(second["current"]?["is_training"]?.bool == true)
    }

    /// Records y = x*x and returns nothing; x must have a gradient attached.
    func recordSquare(_ s: String, into y: String) {
        let scope = push(s, #"{"kind":"record"}"#)
        let op = client.call("POST", "\(s)/ops/broadcast_mul", "{\"inputs\":[\"x\",\"x\"],\"ids\":[\"\(y)\"]}")
        #expect(op.status == 201, "\(op.text)")
        _ = client.call("DELETE", "\(s)/scopes/\(scope)")
    }

    @Test func gradReqAddAccumulates() {
        let s = client.newSession()
        client.array(s, "x", #""data":[1,2,3]"#)
        _ = client.call("PUT", "\(s)/arrays/x/grad", #"{"grad_req":"add"}"#)
        for (round, expected) in [[2.0, 4, 6], [4, 8, 12], [6, 12, 18]].enumerated() {
            recordSquare(s, into: "y\(round)")
            #expect(client.call("POST", "\(s)/backward", "{\"heads\":[\"y\(round)\"]}").status == 200)
            #expect(client.values(s, "x/grad") == expected)
        }
        // Re-attaching zeroes the buffer.
        _ = client.call("PUT", "\(s)/arrays/x/grad", #"{"grad_req":"write"}"#)
        #expect(client.values(s, "x/grad") == [0, 0, 0])
    }

    @Test func retainGraph() {
        let s = client.newSession()
        client.array(s, "x", #""data":[1,2,3]"#)
        _ = client.call("PUT", "\(s)/arrays/x/grad", #"{"grad_req":"add"}"#)
        recordSquare(s, into: "y")
        #expect(client.call("POST", "\(s)/backward", #"{"heads":["y"],"retain_graph":true}"#).status == 200)
        #expect(client.call("POST", "\(s)/backward", #"{"heads":["y"]}"#).status == 200)
        #expect(client.values(s, "x/grad") == [4, 8, 12])
        let third = client.call("POST", "\(s)/backward", #"{"heads":["y"]}"#)
        #expect(third.status == 409)
        #expect(third.code == "graph-freed")
        #expect(third["detail"]?.string?.hasPrefix("Cannot differentiate node because it is not in a computational graph.") == true)
    }

    @Test func runBackwardStepKeepsItsOptionsBesideTheHeadList() {
        let s = client.newSession()
        client.array(s, "x", #""data":[1,2,3]"#)
        _ = client.call("PUT", "\(s)/arrays/x/grad", #"{"grad_req":"add"}"#)
        recordSquare(s, into: "y")
        // {"backward": [...], "retain_graph": true}: the sibling option must apply, so a second backward works.
        let run = client.call("POST", "\(s)/run", #"{"steps":[{"backward":["y"],"retain_graph":true},{"backward":["y"]}]}"#)
        #expect(run.status == 200)
        #expect(client.values(s, "x/grad") == [4, 8, 12])
        let nested = client.call("POST", "\(s)/run", #"{"steps":[{"backward":{"heads":["y"]}}]}"#)
        #expect(nested.code == "graph-freed")
    }

    @Test func inPlaceWritesInsideRecord() {
        let s = client.newSession()
        client.array(s, "x", #""data":[1,2]"#)
        client.array(s, "c", #""data":[5,5]"#)
        _ = client.call("PUT", "\(s)/arrays/x/grad", "{}")
        let scope = push(s, #"{"kind":"record"}"#)
        let onGraph = client.call("PUT", "\(s)/arrays/x/data", #"{"data":[0,0]}"#)
        #expect(onGraph.status == 409)
        #expect(onGraph.code == "inplace-in-graph")
        #expect(onGraph["detail"]?.string?.hasPrefix("Assigning to NDArrays that are already in a computational graph") == true)
        let intoPlain = client.call("POST", "\(s)/ops/broadcast_add", #"{"inputs":["c","x"],"out":"c"}"#)
        #expect(intoPlain.status == 409)
        #expect(intoPlain.code == "inplace-while-recording")
        #expect(intoPlain["op"]?.string == "broadcast_add")
        // Neither operand in a graph: allowed, not recorded.
        let plain = client.call("POST", "\(s)/ops/_plus_scalar", #"{"inputs":["c"],"params":{"scalar":1},"out":"c"}"#)
        #expect(plain.status == 201, "\(plain.text)")
        _ = client.call("DELETE", "\(s)/scopes/\(scope)")
        // Outside record every in-place write is allowed.
        #expect(client.call("PUT", "\(s)/arrays/x/data", #"{"data":[7,8]}"#).status == 200)
        #expect(client.values(s, "x/data") == [7, 8])
        #expect(client.values(s, "c/data") == [6, 6])
    }

    @Test func headGradientsAreCheckedAndUsed() {
        let s = client.newSession()
        client.array(s, "x", #""data":[1,2]"#)
        client.array(s, "g", #""data":[1,10]"#)
        client.array(s, "bad", #""data":[1,2,3]"#)
        _ = client.call("PUT", "\(s)/arrays/x/grad", "{}")
        let scope = push(s, #"{"kind":"record"}"#)
        _ = client.call("POST", "\(s)/ops/_mul_scalar", #"{"inputs":["x"],"params":{"scalar":3},"ids":["y"]}"#)
        _ = client.call("DELETE", "\(s)/scopes/\(scope)")
        let mismatch = client.call("POST", "\(s)/backward", #"{"heads":["y"],"head_grads":["bad"],"retain_graph":true}"#)
        #expect(mismatch.status == 422)
        #expect(mismatch.code == "shape-mismatch")
        #expect(mismatch["expected"] == .array([.int(2)]))
        #expect(mismatch["actual"] == .array([.int(3)]))
        #expect(client.call("POST", "\(s)/backward", #"{"heads":["y"],"head_grads":["g"]}"#).status == 200)
        #expect(client.values(s, "x/grad") == [3, 30])
    }

    @Test func gradWithCreateGraphGivesSecondOrder() {
        // z = sin(x); dz/dx = cos(x) recorded; d(cos x)/dx = -sin(x).
        let s = client.newSession()
        client.array(s, "x", #""data":[0.5,1.0],"dtype":"float64""#)
        _ = client.call("PUT", "\(s)/arrays/x/grad", "{}")
        let scope = push(s, #"{"kind":"record"}"#)
        _ = client.call("POST", "\(s)/ops/sin", #"{"inputs":["x"],"ids":["z"]}"#)
        let grad = client.call("POST", "\(s)/grad",
                               #"{"heads":["z"],"variables":["x"],"create_graph":true,"retain_graph":true,"ids":["dx"]}"#)
        #expect(grad.status == 201, "\(grad.text)")
        #expect(grad["grads"]?.array?.first?["in_graph"]?.bool == true)
        _ = client.call("DELETE", "\(s)/scopes/\(scope)")
        #expect(isClose(client.values(s, "dx/data"), [0.5, 1.0].map { Foundation.cos($0) }))
        #expect(client.call("POST", "\(s)/backward", #"{"heads":["dx"]}"#).status == 200)
        #expect(isClose(client.values(s, "x/grad"), [0.5, 1.0].map { -Foundation.sin($0) }))
    }

    @Test func detachSharesMemoryAndBlocksGradient() {
        let s = client.newSession()
        client.array(s, "x", #""data":[2,3]"#)
        let detached = client.call("POST", "\(s)/arrays/x/detach", #"{"id":"d"}"#)
        #expect(detached.status == 201)
        #expect(detached["id"]?.string == "d")
        _ = client.call("PUT", "\(s)/arrays/d/data", #"{"data":[9,9]}"#)
        #expect(client.values(s, "x/data") == [9, 9])
    }

    @Test func graphOfARecordedArray() {
        let s = client.newSession()
        client.array(s, "x", #""data":[1,2]"#)
        _ = client.call("PUT", "\(s)/arrays/x/grad", "{}")
        recordSquare(s, into: "y")
        let symbol = client.call("GET", "\(s)/arrays/y/graph")
        #expect(symbol.status == 200, "\(symbol.text)")
        #expect(symbol["arguments"]?.array?.count == 1)
        #expect(symbol["nodes"]?.array?.contains { $0["op"]?.string == "broadcast_mul" } == true)
        let svg = client.request("GET", "\(s)/arrays/y/graph?format=svg")
        #expect(svg.status == 200)
        #expect(svg.contentType == "image/svg+xml")
        #expect(svg.text.contains("<svg"))
        let dot = client.request("GET", "\(s)/arrays/y/graph", headers: [("Accept", "text/vnd.graphviz")])
        #expect(dot.status == 200)
        #expect(dot.text.contains("digraph"))
        client.array(s, "k", #""data":[1]"#)
        let notInGraph = client.call("GET", "\(s)/arrays/k/graph")
        #expect(notInGraph.status == 409)
        #expect(notInGraph.code == "not-in-graph")
        #expect(notInGraph["detail"]?.string == "NDArray is not part of a computation graph. Did you forget to turn on recording?")
    }

    @Test func markVariablesUsesCallerBuffers() {
        let s = client.newSession()
        client.array(s, "x", #""data":[1,2]"#)
        client.array(s, "u", #""data":[100,100]"#)
        let marked = client.call("POST", "\(s)/mark_variables", #"{"variables":["x"],"gradients":["u"],"grad_reqs":"add"}"#)
        #expect(marked.status == 200, "\(marked.text)")
        recordSquare(s, into: "y")
        _ = client.call("POST", "\(s)/backward", #"{"heads":["y"]}"#)
        #expect(client.values(s, "u/data") == [102, 104])
        #expect(client.values(s, "x/grad") == [102, 104])
    }

    @Test func customFunctionRunsItsPrograms() {
        // f(a) = a*a with a hand-written backward 2*a*dy; called once per definition.
        let s = client.newSession()
        client.array(s, "x", #""data":[1,2,3]"#)
        _ = client.call("PUT", "\(s)/arrays/x/grad", "{}")
        let defined = client.call("POST", "\(s)/functions", """
            {"forward": {"inputs": ["a"], "steps": [{"op": "broadcast_mul", "inputs": ["a", "a"], "id": "sq"}], "outputs": ["sq"]},
             "backward": {"inputs": ["dsq"], "steps": [
                 {"op": "_mul_scalar", "inputs": ["a"], "params": {"scalar": 2}, "id": "two_a"},
                 {"op": "broadcast_mul", "inputs": ["two_a", "dsq"], "id": "da"}], "outputs": ["da"]}}
            """)
        #expect(defined.status == 201, "\(defined.text)")
        let fid = defined["id"]?.string ?? ""
        let scope = push(s, #"{"kind":"record"}"#)
        let called = client.call("POST", "\(s)/functions/\(fid)/call", #"{"inputs":["x"],"ids":["x2"]}"#)
        #expect(called.status == 201, "\(called.text)")
        let again = client.call("POST", "\(s)/functions/\(fid)/call", #"{"inputs":["x"]}"#)
        #expect(again.status == 409)
        #expect(again.code == "function-reused")
        _ = client.call("DELETE", "\(s)/scopes/\(scope)")
        #expect(client.values(s, "x2/data") == [1, 4, 9])
        #expect(client.call("POST", "\(s)/backward", #"{"heads":["x2"]}"#).status == 200)
        #expect(client.values(s, "x/grad") == [2, 4, 6])
        // Function locals never become session arrays.
        #expect(client.call("GET", "\(s)/arrays/sq").code == "array-not-found")
        #expect(client.call("POST", "\(s)/functions/f99/call", #"{"inputs":["x"]}"#).code == "not-found")
    }

    @Test func recordedCustomFunctionIsFreedWithItsSession() throws {
        // Found by the program fuzzer (Fuzz/Regressions/program/recorded-function-call-never-backwarded.json):
        // the recorded node held the function, whose forward locals held the very output the
        // node was linked to; until a backward freed the graph, nothing could free any of it.
        let s = client.newSession()
        let defined = client.call("POST", "\(s)/functions", """
            {"forward": {"inputs": ["a"], "steps": [{"op": "broadcast_mul", "inputs": ["a", "a"], "id": "sq"}], "outputs": ["sq"]},
             "backward": {"inputs": ["dsq"], "steps": [{"op": "broadcast_mul", "inputs": ["a", "dsq"], "id": "da"}], "outputs": ["da"]}}
            """)
        #expect(defined.status == 201, "\(defined.text)")
        let program = client.call("POST", "\(s)/run", """
            {"steps": [{"create": {"data": [1,2,3]}, "id": "x"}, {"attach_grad": "x"},
                       {"scope": "record", "steps": [{"call": "f0", "inputs": ["x"], "ids": ["y"]}]}]}
            """)
        #expect(program.status == 200, "\(program.text)")
        let id = String(s.dropFirst("/v1/sessions/".count))
        weak var context: Context?
        do {
            let handle = try client.service.registry.begin(id, caller: Caller(owner: "", isAdmin: true, maxSessions: nil, rateKey: "test"))
            context = handle.session.context
            client.service.registry.finish(handle, status: SessionStatus(handle.session))
        }
        #expect(client.call("DELETE", s).status == 204)
        // The session's queue may still be finishing its last block.
        for _ in 0..<200 where context != nil { usleep(10_000) }
        #expect(context == nil, "the deleted session's engine context is still alive")
    }

    @Test func customFunctionErrorsKeepTheirCode() {
        let s = client.newSession()
        client.array(s, "x", #""data":[1,2,3]"#)
        client.array(s, "w", #""data":[1,2]"#)
        let fid = client.call("POST", "\(s)/functions", """
            {"forward": {"inputs": ["a", "b"], "steps": [{"op": "broadcast_add", "inputs": ["a", "b"], "id": "c"}], "outputs": ["c"]},
             "backward": {"inputs": ["dc"], "steps": [], "outputs": ["dc", "dc"]}}
            """)["id"]?.string ?? ""
        let failed = client.call("POST", "\(s)/functions/\(fid)/call", #"{"inputs":["x","w"]}"#)
        #expect(failed.status == 422)
        #expect(failed.code == "shape-mismatch")
        #expect(failed["step"]?.string == "0")
        #expect(failed["detail"]?.string?.hasPrefix("In the custom function's forward program:") == true)
    }
}

import Foundation
