import Testing
import Wire
@testable import Service

/// `GET .../graph` marks the variables whose gradient the session's last backward (or grad)
/// reached: `highlighted` boxes in SVG/DOT, `grad_reached` in the JSON.
@Suite struct GraphHighlightTests {
    let client = TestClient()

    /// Seed example with a second variable: x (shape [4]) and w (shape [1]) are marked;
    /// z = x*x + 1 involves only x, u = w * (x*x) involves both.
    func seeded() -> String {
        let s = client.newSession()
        let run = client.call("POST", "\(s)/run", """
            {"steps": [
               {"create": {"data": [1,2,3,4]}, "id": "x"},
               {"create": {"data": [3]}, "id": "w"},
               {"attach_grad": "x"}, {"attach_grad": "w"},
               {"scope": "record", "steps": [
                   {"op": "broadcast_mul", "inputs": ["x", "x"], "id": "y"},
                   {"op": "_plus_scalar", "inputs": ["y"], "params": {"scalar": 1}, "id": "z"},
                   {"op": "broadcast_mul", "inputs": ["w", "y"], "id": "u"}]}
             ]}
            """)
        #expect(run.status == 200, "\(run.text)")
        return s
    }

    /// JSON variable nodes of `aid`'s graph: node id, shape and `grad_reached`.
    func variables(_ s: String, _ aid: String) -> [(id: Int, shape: [Int], reached: Bool?)] {
        let graph = client.call("GET", "\(s)/arrays/\(aid)/graph")
        #expect(graph.status == 200, "\(graph.text)")
        return (graph["nodes"]?.array ?? []).filter { $0["is_variable"]?.bool == true }.map { node in
            (Int(node["id"]?.number?.double ?? -1), ints(node["shape"]), node["grad_reached"]?.bool)
        }
    }

    /// The SVG `<g ...>` opening line of the box whose data-id is `id`.
    func svgBox(_ svg: String, id: Int) -> String? {
        svg.split(separator: "\n").first { $0.hasPrefix("<g class=\"node") && $0.contains("data-id=\"\(id)\"") }
            .map { String($0.prefix { $0 != ">" }) }
    }

    @Test func backwardHighlightsTheVariablesItReached() {
        let s = seeded()
        let backward = client.call("POST", "\(s)/backward", #"{"heads":["z"],"retain_graph":true}"#)
        #expect(backward.status == 200, "\(backward.text)")
        #expect(backward["updated"]?.array == [.string("x")])

        // z's graph: the seed example's, with x reached.
        let zVars = variables(s, "z")
        #expect(zVars.count == 1)
        #expect(zVars.first?.reached == true)
        let zSVG = client.call("GET", "\(s)/arrays/z/graph?format=svg").text
        #expect(zSVG.contains("broadcast_mul") && zSVG.contains("_plus_scalar"))
        #expect(svgBox(zSVG, id: zVars.first?.id ?? -1)?.contains("highlighted") == true)

        // u's graph holds x (reached) and w (not in z's graph, so not reached).
        let uVars = variables(s, "u")
        let x = uVars.first { $0.shape == [4] }, w = uVars.first { $0.shape == [1] }
        #expect(uVars.count == 2)
        #expect(x?.reached == true)
        #expect(w?.reached == false)
        let uSVG = client.call("GET", "\(s)/arrays/u/graph?format=svg").text
        let xBox = svgBox(uSVG, id: x?.id ?? -1), wBox = svgBox(uSVG, id: w?.id ?? -1)
        #expect(xBox?.contains("variable highlighted") == true, "\(xBox ?? "no box for x")")
        #expect(wBox?.contains("variable") == true && wBox?.contains("highlighted") == false, "\(wBox ?? "no box for w")")
        #expect(uSVG.components(separatedBy: "class=\"node variable highlighted\"").count == 2)

        // DOT: exactly one box carries the reached note and the highlight colour.
        let dot = client.call("GET", "\(s)/arrays/u/graph?format=dot").text
        #expect(dot.components(separatedBy: "gradient reached by the last backward").count == 2)
        #expect(dot.components(separatedBy: "fillcolor=\"#fde68a\"").count == 2)
    }

    @Test func highlightFalseDrawsNothingAsReached() {
        let s = seeded()
        #expect(client.call("POST", "\(s)/backward", #"{"heads":["z"],"retain_graph":true}"#).status == 200)
        let svg = client.call("GET", "\(s)/arrays/u/graph?format=svg&highlight=false").text
        #expect(svg.contains("broadcast_mul"))
        #expect(!svg.contains("class=\"node variable highlighted\""))
        let dot = client.call("GET", "\(s)/arrays/u/graph?format=dot&highlight=0").text
        #expect(!dot.contains("gradient reached by the last backward"))
        // The JSON still reports what the backward reached.
        let reached = variables(s, "u").map(\.reached)
        #expect(reached.filter { $0 == true }.count == 1 && reached.filter { $0 == false }.count == 1)
        #expect(client.call("GET", "\(s)/arrays/u/graph?format=svg&highlight=maybe").status == 400)
    }

    @Test func onlyTheLastBackwardCounts() {
        let s = seeded()
        // Before any backward nothing is reached.
        #expect(variables(s, "u").allSatisfy { $0.reached == false })
        #expect(client.call("POST", "\(s)/backward", #"{"heads":["u"],"retain_graph":true}"#).status == 200)
        #expect(variables(s, "u").allSatisfy { $0.reached == true })
        #expect(client.call("POST", "\(s)/backward", #"{"heads":["z"],"retain_graph":true}"#).status == 200)
        let uVars = variables(s, "u")
        #expect(uVars.first { $0.shape == [4] }?.reached == true)
        #expect(uVars.first { $0.shape == [1] }?.reached == false)
    }

    @Test func gradMarksItsVariables() {
        let s = seeded()
        let grad = client.call("POST", "\(s)/grad", #"{"heads":["u"],"variables":["w"],"retain_graph":true}"#)
        #expect(grad.status == 201, "\(grad.text)")
        let uVars = variables(s, "u")
        #expect(uVars.first { $0.shape == [1] }?.reached == true)
        #expect(uVars.first { $0.shape == [4] }?.reached == false)
    }
}
