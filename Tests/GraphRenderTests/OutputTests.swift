import Foundation
import Testing
import GraphRender

/// Node and edge statements of a DOT document, read by a small tokenizer that honours quoting,
/// so the structure check does not depend on how the renderer spaced things.
struct ParsedDOT {
    var nodes: [String: [String: String]] = [:]
    var edges: [(from: String, to: String, attributes: [String: String])] = []
    var graphAttributes: [String: String] = [:]

    enum Token: Equatable { case word(String), quoted(String), symbol(Character) }

    struct Malformed: Error { let reason: String }

    static func tokens(_ text: String) throws -> [Token] {
        var out: [Token] = [], chars = Array(text), i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            if c == "\"" {
                var value = ""; i += 1
                while true {
                    guard i < chars.count else { throw Malformed(reason: "unterminated string") }
                    if chars[i] == "\"" { i += 1; break }
                    if chars[i] == "\\" && i + 1 < chars.count {
                        value.append(chars[i + 1] == "n" ? "\n" : chars[i + 1]); i += 2; continue
                    }
                    guard !chars[i].isNewline else { throw Malformed(reason: "raw newline in string") }
                    value.append(chars[i]); i += 1
                }
                out.append(.quoted(value))
            } else if c == "-" && i + 1 < chars.count && chars[i + 1] == ">" {
                out.append(.symbol(">")); i += 2
            } else if "{}[]=,;".contains(c) {
                out.append(.symbol(c)); i += 1
            } else if c.isLetter || c.isNumber || c == "_" || c == "." {
                var word = ""
                while i < chars.count && (chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == ".") { word.append(chars[i]); i += 1 }
                out.append(.word(word))
            } else {
                throw Malformed(reason: "unexpected character \(c)")
            }
        }
        return out
    }

    init(_ text: String) throws {
        var t = try Self.tokens(text)[...]
        func take() throws -> Token { guard let first = t.popFirst() else { throw Malformed(reason: "unexpected end") }; return first }
        func id(_ token: Token) throws -> String {
            switch token { case .word(let w), .quoted(let w): return w; case .symbol(let s): throw Malformed(reason: "expected id, got \(s)") }
        }
        func attributes() throws -> [String: String] {
            var result: [String: String] = [:]
            guard t.first == .symbol("[") else { return result }
            _ = try take()
            while t.first != .symbol("]") {
                let key = try id(try take())
                guard try take() == .symbol("=") else { throw Malformed(reason: "expected =") }
                result[key] = try id(try take())
                if t.first == .symbol(",") || t.first == .symbol(";") { _ = try take() }
            }
            _ = try take()
            return result
        }
        guard try take() == .word("digraph") else { throw Malformed(reason: "expected digraph") }
        if case .word = t.first { _ = try take() }
        guard try take() == .symbol("{") else { throw Malformed(reason: "expected {") }
        while t.first != .symbol("}") {
            let head = try id(try take())
            if t.first == .symbol(">") {
                _ = try take()
                let to = try id(try take())
                edges.append((head, to, try attributes()))
            } else if head == "graph" || head == "node" || head == "edge" {
                let a = try attributes()
                if head == "graph" { graphAttributes = a }
            } else {
                nodes[head] = try attributes()
            }
            guard try take() == .symbol(";") else { throw Malformed(reason: "expected ; after \(head)") }
        }
        _ = try take()
        guard t.isEmpty else { throw Malformed(reason: "text after the graph") }
    }
}

@Suite struct SVGTests {
    @Test(.enabled(if: Tools.python3 != nil, "python3 not installed: minidom checks skipped"))
    func seedExampleHasExactlyItsNodesAndEdges() throws {
        let svg = try GraphRenderer.svg(Graphs.seed)
        let parsed = try ParsedSVG.parse(svg)
        #expect(parsed.root == "svg")
        #expect(parsed.nodes.map(\.texts) == [["var0", "grad_req=write", "(4,) float32"],
                                              ["broadcast_mul", "node_1", "(4,) float32"],
                                              ["_plus_scalar", "node_2", "(4,) float32"]])
        #expect(parsed.nodes.map(\.classes) == [["node", "variable", "highlighted"], ["node", "op"], ["node", "op", "head"]])
        #expect(parsed.edges.count == 2)
        #expect(parsed.edges.contains { $0.from == 0 && $0.to == 1 && $0.label == "×2" })
        #expect(parsed.edges.contains { $0.from == 1 && $0.to == 2 && $0.label == nil })
        #expect(parsed.notes.isEmpty)
        #expect(parsed.nodes[2].title.contains("head (output)"))
        #expect(parsed.nodes[0].title.contains("gradient reached by the last backward"))
    }

    @Test func selfContained() throws {
        let svg = try GraphRenderer.svg(Graphs.random(seed: 3, count: 60))
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        for external in ["href", "<script", "<style", "@import", "url(", "<image", "<foreignObject"] { #expect(!svg.contains(external)) }
    }

    @Test(.enabled(if: Tools.python3 != nil, "python3 not installed: minidom checks skipped"))
    func markupInNamesIsEscaped() throws {
        let name = "a<b>&\"c\" 'd' </text><script>x</script>"
        let graph = RenderGraph(nodes: [
            Graphs.variable(0, name: name),
            RenderNode(id: 1, op: "my&op<1>", name: "n\u{1}1", shape: [1], dtype: "float32", inputs: [0]),
        ], heads: [1])
        let svg = try GraphRenderer.svg(graph)
        #expect(!svg.contains("<script"))
        let parsed = try ParsedSVG.parse(svg)
        #expect(parsed.nodes.count == 2)
        #expect(name.count < 40 && parsed.nodes[0].texts[0] == name)
        #expect(parsed.nodes[0].title.hasPrefix(name + "\n"))
        #expect(parsed.nodes[1].texts[0] == "my&op<1>")
        #expect(parsed.nodes[1].texts[1] == "n\u{FFFD}1")
    }

    @Test(.enabled(if: Tools.python3 != nil, "python3 not installed: minidom checks skipped"))
    func truncatedGraphShowsTheNote() throws {
        let svg = try GraphRenderer.svg(Graphs.random(seed: 11, count: 5_000), options: .init(collapseRepeats: 0))
        let parsed = try ParsedSVG.parse(svg)
        #expect(parsed.nodes.count == 200)
        #expect(parsed.notes == ["showing 200 of 5,000 nodes (limit 200 boxes); dashed boxes have inputs not shown"])
        #expect(svg.contains("stroke-dasharray=\"5,3\""))
    }

    @Test(.enabled(if: Tools.python3 != nil, "python3 not installed: minidom checks skipped"))
    func collapsedAndEmptyGraphsAreWellFormed() throws {
        var nodes = [Graphs.variable(0)]
        for id in 1...9 { nodes.append(Graphs.op(id, "tanh", [id - 1])) }
        let parsed = try ParsedSVG.parse(try GraphRenderer.svg(RenderGraph(nodes: nodes, heads: [9])))
        #expect(parsed.nodes.map { $0.texts[0] } == ["var0", "tanh ×9"])
        #expect(parsed.notes == ["1 repeated chain collapsed (op ×k)"])
        let empty = try ParsedSVG.parse(try GraphRenderer.svg(RenderGraph(nodes: [], heads: [])))
        #expect(empty.nodes.isEmpty && empty.notes == ["empty graph"])
    }

    @Test func deterministic() throws {
        for graph in [Graphs.seed, Graphs.random(seed: 5, count: 400), Graphs.wide(30)] {
            #expect(try GraphRenderer.svg(graph) == GraphRenderer.svg(graph))
            #expect(try GraphRenderer.dot(graph) == GraphRenderer.dot(graph))
        }
    }

    @Test func badGraphIsAnError() {
        #expect(throws: GraphRenderError.unknownHead(3)) { try GraphRenderer.svg(RenderGraph(nodes: [], heads: [3])) }
        #expect(throws: GraphRenderError.unknownHead(3)) { try GraphRenderer.dot(RenderGraph(nodes: [], heads: [3])) }
    }
}

@Suite struct DOTTests {
    @Test func seedExample() throws {
        let dot = try ParsedDOT(try GraphRenderer.dot(Graphs.seed))
        #expect(dot.graphAttributes["rankdir"] == "TB")
        #expect(dot.nodes.count == 3)
        #expect(dot.nodes["n0"]?["label"] == "var0\ngrad_req=write\n(4,) float32")
        #expect(dot.nodes["n0"]?["style"] == "rounded,filled")
        #expect(dot.nodes["n1"]?["label"] == "broadcast_mul\nnode_1\n(4,) float32")
        #expect(dot.nodes["n1"]?["style"] == "filled")
        #expect(dot.nodes["n2"]?["peripheries"] == "2")
        #expect(dot.nodes["n0"]?["fillcolor"] != dot.nodes["n1"]?["fillcolor"])
        #expect(dot.edges.count == 2)
        #expect(dot.edges.contains { $0.from == "n0" && $0.to == "n1" && $0.attributes["label"] == "×2" })
        #expect(dot.edges.contains { $0.from == "n1" && $0.to == "n2" && $0.attributes.isEmpty })
    }

    @Test func quotesAndBackslashesAreEscaped() throws {
        let name = "say \"hi\" \\n {x}; a->b"
        let dot = try ParsedDOT(try GraphRenderer.dot(RenderGraph(nodes: [Graphs.variable(0, name: name)], heads: [0])))
        #expect(dot.nodes["n0"]?["label"] == name + "\ngrad_req=write\n(2, 3) float32")
    }

    @Test func truncationNoteAndDashedBoxes() throws {
        let dot = try ParsedDOT(try GraphRenderer.dot(Graphs.random(seed: 11, count: 1_000), options: .init(maxNodes: 50, collapseRepeats: 0)))
        #expect(dot.nodes.count == 50)
        #expect(dot.graphAttributes["label"] == "showing 50 of 1,000 nodes (limit 50 boxes); dashed boxes have inputs not shown")
        #expect(dot.nodes.values.contains { $0["style"]?.contains("dashed") == true })
    }

    @Test(.enabled(if: Tools.dot != nil, "graphviz not installed: dot acceptance skipped (structure is checked above)"))
    func graphvizAcceptsIt() throws {
        let cases: [(RenderGraph, RenderOptions)] = [
            (Graphs.seed, .init()), (Graphs.random(seed: 9, count: 80), .init()),
            (Graphs.random(seed: 9, count: 500), .init(maxNodes: 40)),       // truncated: graph label, dashed boxes
            (RenderGraph(nodes: [Graphs.variable(0, name: "q\"\\<&>\\n\n{x};")], heads: [0]), .init()),
        ]
        for (graph, options) in cases {
            let file = try Tools.temporaryFile(try GraphRenderer.dot(graph, options: options), suffix: ".dot")
            defer { try? FileManager.default.removeItem(atPath: file) }
            let result = try Tools.run(Tools.dot!, ["-Tsvg", file])
            #expect(result.status == 0, "\(result.err)")
            #expect(result.err.isEmpty, "\(result.err)")
        }
    }
}
