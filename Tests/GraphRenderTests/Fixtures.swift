import Foundation
import GraphRender

/// Graphs used by several suites.
enum Graphs {
    /// The seed example: x (variable, grad_req write), y = x * x + 1, after y.backward().
    static let seed = RenderGraph(nodes: [
        RenderNode(id: 0, op: "null", name: "var0", shape: [4], dtype: "float32", isVariable: true, gradReq: "write", highlighted: true),
        RenderNode(id: 1, op: "broadcast_mul", name: "node_1", shape: [4], dtype: "float32", inputs: [0, 0]),
        RenderNode(id: 2, op: "_plus_scalar", name: "node_2", shape: [4], dtype: "float32", inputs: [1]),
    ], heads: [2])

    static func variable(_ id: Int, name: String? = nil, shape: [Int] = [2, 3]) -> RenderNode {
        RenderNode(id: id, op: "null", name: name ?? "var\(id)", shape: shape, dtype: "float32", isVariable: true, gradReq: "write")
    }

    static func op(_ id: Int, _ op: String, _ inputs: [Int], shape: [Int] = [2, 3]) -> RenderNode {
        RenderNode(id: id, op: op, name: "node_\(id)", shape: shape, dtype: "float32", inputs: inputs)
    }

    /// A random DAG: each node is a leaf or reads 1-3 earlier nodes; the last node is the head.
    /// Op names cycle through a list so that some chains repeat and some do not.
    static func random(seed: UInt64, count: Int, leafEvery: Int = 4) -> RenderGraph {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        let ops = ["broadcast_add", "broadcast_mul", "relu", "tanh", "dot", "_plus_scalar", "concat"]
        var nodes: [RenderNode] = []
        for id in 0..<count {
            if id < 2 || next(leafEvery) == 0 {
                nodes.append(variable(id))
            } else {
                // Mostly recent inputs (deep graphs), sometimes far back (long edges).
                let inputs = (0..<(1 + next(3))).map { _ in next(5) == 0 ? next(id) : id - 1 - next(min(id, 6)) }
                nodes.append(op(id, ops[next(ops.count)], inputs))
            }
        }
        return RenderGraph(nodes: nodes, heads: [count - 1])
    }

    /// Many leaves, each through its own op, into one variadic op.
    static func wide(_ width: Int) -> RenderGraph {
        var nodes = (0..<width).map { variable($0) }
        nodes += (0..<width).map { op(width + $0, $0 % 2 == 0 ? "relu" : "sigmoid", [$0]) }
        nodes.append(op(2 * width, "add_n", Array(width..<(2 * width))))
        return RenderGraph(nodes: nodes, heads: [2 * width])
    }

    /// A long chain of alternating ops with skip connections every few steps (long edges).
    static func deep(_ length: Int) -> RenderGraph {
        var nodes = [variable(0)]
        for id in 1..<length {
            nodes.append(op(id, id % 2 == 0 ? "sin" : "cos", id % 5 == 0 && id >= 7 ? [id - 1, id - 7] : [id - 1]))
        }
        return RenderGraph(nodes: nodes, heads: [length - 1])
    }
}

/// External tools, looked up on PATH.
enum Tools {
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let python3 = find("python3")
    static let dot = find("dot")

    /// Runs `executable` with `arguments`, returns (exit status, stdout, stderr).
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out; process.standardError = err
        try process.run()
        // Drain stderr concurrently so a chatty child cannot block on a full pipe.
        nonisolated(unsafe) var errData = Data()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); drained.signal() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        let errText = String(decoding: errData, as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), errText)
    }

    /// Writes `text` to a fresh temporary file and returns its path.
    static func temporaryFile(_ text: String, suffix: String) throws -> String {
        let path = NSTemporaryDirectory() + "graphrender-\(UUID().uuidString)\(suffix)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// What python's xml.dom.minidom sees in a rendered SVG.
struct ParsedSVG: Decodable {
    struct Node: Decodable { let classes: [String]; let texts: [String]; let title: String }
    struct Edge: Decodable { let from: Int; let to: Int; let label: String? }
    let root: String
    let nodes: [Node]
    let edges: [Edge]
    let notes: [String]

    static let script = """
    import json, sys, xml.dom.minidom
    doc = xml.dom.minidom.parse(sys.argv[1])
    def text(e): return "".join(c.data for c in e.childNodes if c.nodeType == c.TEXT_NODE)
    nodes, edges = [], []
    for g in doc.getElementsByTagName("g"):
        cls = g.getAttribute("class").split()
        if "node" in cls:
            nodes.append({"classes": cls, "texts": [text(t) for t in g.getElementsByTagName("text")],
                          "title": text(g.getElementsByTagName("title")[0])})
        elif "edge" in cls:
            labels = [text(t) for t in g.getElementsByTagName("text")]
            edges.append({"from": int(g.getAttribute("data-from")), "to": int(g.getAttribute("data-to")),
                          "label": labels[0] if labels else None})
    notes = [text(t) for t in doc.getElementsByTagName("text") if t.getAttribute("class") == "note"]
    print(json.dumps({"root": doc.documentElement.tagName, "nodes": nodes, "edges": edges, "notes": notes}))
    """

    /// Parses `svg` with python3's minidom (which rejects malformed XML).
    static func parse(_ svg: String) throws -> ParsedSVG {
        let file = try Tools.temporaryFile(svg, suffix: ".svg")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try Tools.run(Tools.python3!, ["-c", script, file])
        guard result.status == 0 else { throw ParseFailure(message: result.err) }
        return try JSONDecoder().decode(ParsedSVG.self, from: Data(result.out.utf8))
    }

    struct ParseFailure: Error { let message: String }
}
