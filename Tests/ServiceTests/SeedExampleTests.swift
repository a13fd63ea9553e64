import Testing
@testable import Service

/// The seed example (x = [1,2,3,4]; y = x*x under record; y.backward(); x.grad = 2x) through
/// the API, step by step and as one `run` program.
@Suite struct SeedExampleTests {
    let client = TestClient()

    @Test func stepByStep() {
        let s = client.newSession()
        let created = client.call("POST", "\(s)/arrays", #"{"id":"x","data":[1,2,3,4]}"#)
        #expect(created.status == 201)
        #expect(created["shape"] == .array([.int(4)]))
        #expect(created["dtype"]?.string == "float32")
        #expect(created["in_graph"]?.bool == false)

        let attached = client.call("PUT", "\(s)/arrays/x/grad", #"{"grad_req":"write"}"#)
        #expect(attached.status == 200)
        #expect(attached["grad_req"]?.string == "write")
        #expect(attached["in_graph"]?.bool == true)

        let scope = client.call("POST", "\(s)/scopes", #"{"kind":"record"}"#)
        #expect(scope.status == 201)
        #expect(scope["is_recording"]?.bool == true)
        #expect(scope["is_training"]?.bool == true)
        let scopeID = scope["id"]?.string ?? ""

        let op = client.call("POST", "\(s)/ops/broadcast_mul", #"{"inputs":["x","x"],"ids":["y"]}"#)
        #expect(op.status == 201, "\(op.text)")
        #expect(op["outputs"]?.array?.first?["id"]?.string == "y")
        #expect(op["outputs"]?.array?.first?["in_graph"]?.bool == true)

        let popped = client.call("DELETE", "\(s)/scopes/\(scopeID)")
        #expect(popped.status == 200)
        #expect(popped["is_recording"]?.bool == false)

        let backward = client.call("POST", "\(s)/backward", #"{"heads":["y"]}"#)
        #expect(backward.status == 200, "\(backward.text)")
        #expect(backward["updated"]?.array == [.string("x")])

        #expect(client.values(s, "x/grad") == [2, 4, 6, 8])
        #expect(client.values(s, "y/data") == [1, 4, 9, 16])
    }

    @Test func asOneRunProgram() {
        let s = client.newSession()
        let run = client.call("POST", "\(s)/run", """
            {"steps": [
               {"create": {"data": [1,2,3,4]}, "id": "x"},
               {"attach_grad": "x", "grad_req": "write"},
               {"scope": "record", "train_mode": true, "steps": [
                   {"op": "broadcast_mul", "inputs": ["x", "x"], "id": "y"}]},
               {"backward": ["y"]}
             ],
             "fetch": ["x.grad", "y"]}
            """)
        #expect(run.status == 200, "\(run.text)")
        #expect(run["steps"] == .int(4))
        #expect(doubles(run["fetched"]?["x.grad"]?["data"]) == [2, 4, 6, 8])
        #expect(doubles(run["fetched"]?["y"]?["data"]) == [1, 4, 9, 16])
        #expect(run["outputs"]?["x"]?["grad_req"]?.string == "write")
        #expect(run["outputs"]?["y"]?["shape"] == .array([.int(4)]))
        // The scope opened by the program was exited.
        let flags = client.call("GET", "\(s)/flags")
        #expect(flags["is_recording"]?.bool == false)
        #expect(flags["is_training"]?.bool == false)
        #expect(client.call("GET", "\(s)/scopes")["scopes"]?.array?.isEmpty == true)
    }

    @Test func runWithTheFullStepVocabulary() {
        let s = client.newSession()
        let run = client.call("POST", "\(s)/run", """
            {"steps": [
               {"seed": 7},
               {"create": {"data": [[1,2],[3,4]]}, "id": "x"},
               {"attach_grad": "x"},
               {"scope": "record", "steps": [
                   {"op": "broadcast_mul", "inputs": ["x", "x"], "id": "xx"},
                   {"op": "_plus_scalar", "inputs": ["xx"], "params": {"scalar": 1}, "id": "y"}]},
               {"grad": {"heads": ["y"], "variables": ["x"], "retain_graph": true}, "ids": ["dx"]},
               {"backward": {"heads": ["y"], "head_grads": [null]}},
               {"detach": "y", "id": "yd"},
               {"assign": "yd", "data": [0,0,0,0]},
               {"release": ["xx"]},
               {"set_training": true},
               {"set_recording": false}
             ],
             "fetch": ["dx", "x.grad", "y", "yd"]}
            """)
        #expect(run.status == 200, "\(run.text)")
        #expect(run["steps"] == .int(11))
        #expect(doubles(run["fetched"]?["dx"]?["data"]) == [2, 4, 6, 8])
        #expect(doubles(run["fetched"]?["x.grad"]?["data"]) == [2, 4, 6, 8])
        // detach shares memory: assigning to yd changed y.
        #expect(doubles(run["fetched"]?["y"]?["data"]) == [0, 0, 0, 0])
        #expect(run["outputs"]?["xx"] == nil)
        #expect(client.call("GET", "\(s)/arrays/xx").code == "array-not-found")
        #expect(client.call("GET", "\(s)/flags")["is_training"]?.bool == true)
    }

    @Test func failingStepIsNamedAndScopesAreExited() {
        let s = client.newSession()
        let run = client.call("POST", "\(s)/run", """
            {"steps": [
               {"create": {"data": [1,2,3]}, "id": "a"},
               {"scope": "record", "steps": [
                   {"create": {"data": [1,2]}, "id": "b"},
                   {"scope": "pause", "steps": [
                       {"op": "broadcast_add", "inputs": ["a", "b"], "id": "c"}]}]}
             ]}
            """)
        #expect(run.status == 422, "\(run.text)")
        #expect(run.code == "shape-mismatch")
        #expect(run["step"]?.string == "1.1.0")
        #expect(run["completed"] == .int(1))   // top-level steps done
        // Both scopes were exited; arrays created before the failure stay.
        let flags = client.call("GET", "\(s)/flags")
        #expect(flags["is_recording"]?.bool == false)
        #expect(client.call("GET", "\(s)/scopes")["scopes"]?.array?.isEmpty == true)
        #expect(client.call("GET", "\(s)/arrays/b").status == 200)
        #expect(client.call("GET", "\(s)/arrays/c").code == "array-not-found")
    }

    @Test func aStepThatDoesNotParseRunsNothing() {
        let s = client.newSession()
        let run = client.call("POST", "\(s)/run", """
            {"steps": [{"create": {"data": [1,2,3]}, "id": "a"},
                       {"create": {"shape": [2, 2], "data": [1]}, "id": "b"}]}
            """)
        #expect(run.status == 422, "\(run.text)")
        #expect(run.code == "data-size-mismatch")
        #expect(run["step"]?.string == "1")
        #expect(run["completed"] == .int(0))   // the program is parsed whole before any step runs
        #expect(client.call("GET", "\(s)/arrays/a").status == 404)
    }

    @Test func continueOnErrorRunsEveryStepAndReportsTheFirstFailure() {
        let s = client.newSession()
        let run = client.call("POST", "\(s)/run", """
            {"steps": [
               {"create": {"data": [1,2,3]}, "id": "a"},
               {"scope": "record", "steps": [
                   {"op": "broadcast_add", "inputs": ["a", "missing"], "id": "bad"},
                   {"op": "_mul_scalar", "inputs": ["a"], "params": {"scalar": 2}, "id": "good"}]},
               {"op": "broadcast_add", "inputs": ["a", "bad"], "id": "worse"},
               {"op": "_plus_scalar", "inputs": ["good"], "params": {"scalar": 1}, "id": "after"}
             ],
             "on_error": "continue", "fetch": ["after"]}
            """)
        #expect(run.status == 404, "\(run.text)")
        #expect(run.code == "array-not-found")
        #expect(run["step"]?.string == "1.0")     // the first failure, not the later one
        #expect(run["completed"] == .int(3))      // a, the scope and `after` succeeded
        #expect(client.call("GET", "\(s)/arrays/good").status == 200)
        #expect(doubles(client.call("GET", "\(s)/arrays/after/data")["data"]) == [3, 5, 7])
        #expect(client.call("GET", "\(s)/arrays/worse").code == "array-not-found")
        #expect(client.call("GET", "\(s)/flags")["is_recording"]?.bool == false)
        let invalid = client.call("POST", "\(s)/run", #"{"steps":[{"seed":1}],"on_error":"ignore"}"#)
        #expect(invalid.code == "invalid-argument")
    }

    @Test func programLimits() {
        let limited = TestClient { $0.maxProgramSteps = 3; $0.maxProgramDepth = 1 }
        let s = limited.newSession()
        let tooMany = limited.call("POST", "\(s)/run", #"{"steps":[{"seed":1},{"seed":2},{"seed":3},{"seed":4}]}"#)
        #expect(tooMany.code == "invalid-argument")
        #expect(tooMany["step"]?.string == "3")
        let tooDeep = limited.call("POST", "\(s)/run",
                                   #"{"steps":[{"scope":"record","steps":[{"scope":"pause","steps":[{"seed":1}]}]}]}"#)
        #expect(tooDeep.code == "invalid-argument")
        #expect(tooDeep["step"]?.string == "0.0")
        let ambiguous = limited.call("POST", "\(s)/run", #"{"steps":[{"seed":1,"release":["a"]}]}"#)
        #expect(ambiguous.code == "invalid-argument")
        #expect(ambiguous["step"]?.string == "0")
        let unknown = limited.call("POST", "\(s)/run", #"{"steps":[{"frobnicate":1}]}"#)
        #expect(unknown.code == "invalid-argument")
        // Nothing ran: parsing happens before execution.
        #expect(limited.call("POST", "\(s)/run", #"{"steps":[{"create":{"data":[1]},"id":"k"},{"bogus":1}]}"#).status == 400)
        #expect(limited.call("GET", "\(s)/arrays/k").code == "array-not-found")
    }
}
