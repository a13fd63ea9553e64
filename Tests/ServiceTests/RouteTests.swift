import Foundation
import Testing
import Wire
@testable import Service

/// Every route of docs/API.md, in-process.
@Suite struct RouteTests {
    let client = TestClient()

    @Test func operationsEndpoints() {
        let live = client.call("GET", "/livez")
        #expect(live.status == 200)
        #expect(live["status"]?.string == "ok")
        #expect(live.contentType == "application/json")
        #expect(client.call("GET", "/readyz").status == 200)
        let spec = client.call("GET", "/openapi.yaml")
        if FileManager.default.fileExists(atPath: TestClient.repoRoot + "/openapi.yaml") {
            #expect(spec.status == 200)
            #expect(spec.contentType == "application/yaml")
            #expect(spec.text.contains("openapi: 3.1"))
            #expect(client.request("GET", "/openapi.yaml", headers: [("Accept", "text/*")]).status == 200)
            #expect(client.request("GET", "/openapi.yaml", headers: [("Accept", "application/json")]).code == "not-acceptable")
        } else {
            #expect(spec.code == "not-found")
        }
    }

    @Test func operatorCatalog() {
        let ops = client.call("GET", "/v1/ops")
        #expect(ops.status == 200)
        let list = ops["ops"]?.array ?? []
        #expect(list.count > 20)
        let mul = list.first { $0["name"]?.string == "broadcast_mul" }
        #expect(mul?["inputs"]?.array?.count == 2)
        #expect(mul?["differentiable"]?.bool == true)
        let one = client.call("GET", "/v1/ops/_plus_scalar")
        #expect(one.status == 200)
        #expect(one["params"]?.array?.contains { $0["name"]?.string == "scalar" } == true)
        #expect(client.call("GET", "/v1/ops/nope").code == "unknown-op")
    }

    @Test func sessionLifecycle() {
        let created = client.call("POST", "/v1/sessions", #"{"idle_timeout_s":60,"seed":3,"labels":{"team":"a"}}"#)
        #expect(created.status == 201)
        let id = created["id"]?.string ?? ""
        #expect(created.headers["Location"] == "/v1/sessions/\(id)")
        #expect(created["idle_timeout_s"] == .int(60))
        #expect(created["labels"]?["team"]?.string == "a")
        #expect(created["limits"]?["max_bytes"]?.number?.int == 1 << 30)
        let s = "/v1/sessions/\(id)"
        client.array(s, "x", #""data":[1,2]"#)
        let got = client.call("GET", s)
        #expect(got.status == 200)
        #expect(got["usage"]?["arrays"] == .int(1))
        #expect((got["usage"]?["bytes"]?.number?.int ?? 0) >= 8)
        #expect(got["state"]?["is_recording"]?.bool == false)
        let listed = client.call("GET", "/v1/sessions")
        #expect(listed["sessions"]?.array?.contains { $0["id"]?.string == id } == true)
        #expect(client.call("DELETE", s).status == 204)
        let gone = client.call("GET", s)
        #expect(gone.status == 404)
        #expect(gone["reason"]?.string == "deleted")
    }

    @Test func flagsAndSeed() {
        let s = client.newSession()
        let flags = client.call("GET", "\(s)/flags")
        #expect(flags["is_recording"]?.bool == false)
        #expect(flags["is_training"]?.bool == false)
        #expect(client.call("PATCH", "\(s)/flags", #"{"is_training":true}"#)["current"]?["is_training"]?.bool == true)
        // Same seed, same random numbers.
        func draw() -> [Double] {
            #expect(client.call("POST", "\(s)/seed", #"{"seed":42}"#).status == 200)
            let r = client.call("POST", "\(s)/ops/random_uniform", #"{"params":{"shape":[4]},"return_data":true}"#)
            #expect(r.status == 201, "\(r.text)")
            return doubles(r["outputs"]?.array?.first?["data"])
        }
        let first = draw()
        #expect(first.count == 4)
        #expect(first == draw())
    }

    @Test func scopesRoutes() {
        let s = client.newSession()
        let pushed = client.call("POST", "\(s)/scopes", #"{"kind":"pause","train_mode":true}"#)
        #expect(pushed.status == 201)
        #expect(pushed["kind"]?.string == "pause")
        #expect(pushed["train_mode"]?.bool == true)
        #expect(pushed["depth"] == .int(1))
        let listed = client.call("GET", "\(s)/scopes")
        #expect(listed["scopes"]?.array?.first?["id"] == pushed["id"])
        let session = client.call("GET", s)
        #expect(session["state"]?["scopes"]?.array?.count == 1)
        let popped = client.call("DELETE", "\(s)/scopes/\(pushed["id"]?.string ?? "")")
        #expect(popped.status == 200)
        #expect(popped["is_training"]?.bool == false)
    }

    @Test func clientChosenScopeIDs() {
        let s = client.newSession()
        let mine = client.call("POST", "\(s)/scopes", #"{"kind":"record","id":"sc1"}"#)
        #expect(mine.status == 201)
        #expect(mine["id"]?.string == "sc1")
        // Open scope ids are unique: the same id again is refused, and the server's own
        // numbering skips an id a client chose.
        let again = client.call("POST", "\(s)/scopes", #"{"kind":"pause","id":"sc1"}"#)
        #expect(again.status == 400)
        #expect(again["code"]?.string == "invalid-argument")
        let first = client.call("POST", "\(s)/scopes", #"{"kind":"pause"}"#)
        #expect(first["id"]?.string == "sc0")
        let second = client.call("POST", "\(s)/scopes", #"{"kind":"pause"}"#)
        #expect(second["id"]?.string == "sc2")
        let bad = client.call("POST", "\(s)/scopes", #"{"kind":"pause","id":"a b"}"#)
        #expect(bad.status == 400)
        for id in ["sc2", "sc0", "sc1"] {
            #expect(client.call("DELETE", "\(s)/scopes/\(id)").status == 200)
        }
        #expect(client.call("GET", "\(s)/flags")["is_recording"]?.bool == false)
    }

    @Test func arrayRoutes() {
        let s = client.newSession()
        let nested = client.call("POST", "\(s)/arrays", #"{"data":[[1,2,3],[4,5,6]],"dtype":"FP64"}"#)
        #expect(nested.status == 201)
        #expect(nested["shape"] == .array([.int(2), .int(3)]))
        #expect(nested["dtype"]?.string == "float64")
        #expect(nested["bytes"] == .int(48))
        let serverID = nested["id"]?.string ?? ""
        #expect(serverID.hasPrefix("t"))
        #expect(nested.headers["Location"] == "\(s)/arrays/\(serverID)")
        let flat = client.call("POST", "\(s)/arrays", #"{"id":"m","data":[1,2,3,4],"shape":[2,2],"dtype":"int32","return_data":true}"#)
        #expect(flat["shape"] == .array([.int(2), .int(2)]))
        #expect(flat["data"] == .array([.int(1), .int(2), .int(3), .int(4)]))
        let scalar = client.call("POST", "\(s)/arrays", #"{"id":"s","data":5}"#)
        #expect(scalar["shape"] == .array([.int(1)]))
        let list = client.call("GET", "\(s)/arrays")
        #expect(list["arrays"]?.array?.map { $0["id"]?.string ?? "" } == [serverID, "m", "s"])
        #expect(client.call("GET", "\(s)/arrays/m?data=true")["data"] == .array([.int(1), .int(2), .int(3), .int(4)]))
        #expect(client.call("GET", "\(s)/arrays/m")["data"] == nil)
        let data = client.call("GET", "\(s)/arrays/m/data")
        #expect(data["shape"] == .array([.int(2), .int(2)]))
        #expect(data["dtype"]?.string == "int32")
        let put = client.call("PUT", "\(s)/arrays/m/data", #"{"data":[[9,8],[7,6]]}"#)
        #expect(put.status == 200)
        #expect(client.values(s, "m/data") == [9, 8, 7, 6])
        #expect(client.call("DELETE", "\(s)/arrays/s").status == 204)
        let released = client.call("POST", "\(s)/release", "{\"ids\":[\"m\",\"\(serverID)\",\"unknown\"]}")
        #expect(released["released"] == .int(2))
        #expect(client.call("GET", "\(s)/arrays")["arrays"]?.array?.isEmpty == true)
    }

    @Test func batchedReleaseCountsEachIdOnceAndKeepsTheOthersInOrder() {
        let s = client.newSession()
        for id in ["a", "b", "c", "d", "e"] { client.array(s, id, #""data":[1]"#) }
        let released = client.call("POST", "\(s)/release", #"{"ids":["d","b","b","zz"]}"#)
        #expect(released["released"] == .int(2))
        #expect(client.call("GET", "\(s)/arrays")["arrays"]?.array?.map { $0["id"]?.string ?? "" } == ["a", "c", "e"])
    }

    @Test func backwardListsTheReachedVariablesInTableOrder() {
        let s = client.newSession()
        for id in ["w", "a", "unused", "b"] { client.array(s, id, #""data":[1,2]"#) }
        for id in ["b", "unused", "w", "a"] { #expect(client.call("PUT", "\(s)/arrays/\(id)/grad", "").status == 200) }
        let run = client.call("POST", "\(s)/run", """
            {"steps": [{"scope": "record", "steps": [
                {"op": "broadcast_mul", "inputs": ["b", "a"], "id": "ab"},
                {"op": "broadcast_mul", "inputs": ["ab", "w"], "id": "y"}]}]}
            """)
        #expect(run.status == 200, "\(run.text)")
        let backward = client.call("POST", "\(s)/backward", #"{"heads":["y"]}"#)
        #expect(backward["updated"]?.array == [.string("w"), .string("a"), .string("b")])
        let again = client.call("POST", "\(s)/run", """
            {"steps": [{"scope": "record", "steps": [{"op": "_mul_scalar", "inputs": ["a"], "params": {"scalar": 3}, "id": "z"}]}]}
            """)
        #expect(again.status == 200, "\(again.text)")
        #expect(client.call("POST", "\(s)/backward", #"{"heads":["z"]}"#)["updated"]?.array == [.string("a")])
        #expect(client.values(s, "a/grad") == [3, 3])
    }

    @Test func gradRoutes() {
        let s = client.newSession()
        client.array(s, "x", #""data":[1,2]"#)
        let attached = client.call("PUT", "\(s)/arrays/x/grad", "")
        #expect(attached["grad_req"]?.string == "write")
        let grad = client.call("GET", "\(s)/arrays/x/grad")
        #expect(grad.status == 200)
        #expect(doubles(grad["data"]) == [0, 0])
    }

    @Test func opRoutes() {
        let s = client.newSession()
        client.array(s, "a", #""data":[1,2,3,4],"shape":[2,2]"#)
        let sum = client.call("POST", "\(s)/ops/sum", #"{"inputs":["a"],"params":{"axis":[1],"keepdims":false},"return_data":true}"#)
        #expect(sum.status == 201, "\(sum.text)")
        #expect(doubles(sum["outputs"]?.array?.first?["data"]) == [3, 7])
        let out = client.call("POST", "\(s)/ops/_plus_scalar", #"{"inputs":["a"],"params":{"scalar":1},"out":"a"}"#)
        #expect(out["outputs"]?.array?.first?["id"]?.string == "a")
        #expect(client.values(s, "a/data") == [2, 3, 4, 5])
        let split = client.call("POST", "\(s)/ops/split", #"{"inputs":["a"],"params":{"num_outputs":2,"axis":0},"ids":["top","bottom"]}"#)
        #expect(split.status == 201, "\(split.text)")
        #expect(client.values(s, "bottom/data") == [4, 5])
    }

    @Test func gradRouteReturnsNewArrays() {
        let s = client.newSession()
        client.array(s, "x", #""data":[1,2,3]"#)
        _ = client.call("PUT", "\(s)/arrays/x/grad", "{}")
        let scope = client.call("POST", "\(s)/scopes", #"{"kind":"record"}"#)["id"]?.string ?? ""
        _ = client.call("POST", "\(s)/ops/_mul_scalar", #"{"inputs":["x"],"params":{"scalar":3},"ids":["y"]}"#)
        _ = client.call("DELETE", "\(s)/scopes/\(scope)")
        let grads = client.call("POST", "\(s)/grad", #"{"heads":["y"],"variables":["x"],"return_data":true}"#)
        #expect(grads.status == 201, "\(grads.text)")
        #expect(doubles(grads["grads"]?.array?.first?["data"]) == [3, 3, 3])
        // autograd.grad leaves .grad alone.
        #expect(client.values(s, "x/grad") == [0, 0, 0])
    }

    @Test func headRequestsAnswerLikeGet() {
        #expect(client.request("HEAD", "/livez").status == 200)
    }
}
