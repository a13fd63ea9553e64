import Testing
import GraphRender

@Suite struct VisibleGraphTests {
    @Test func seedExample() throws {
        let visible = try VisibleGraph(Graphs.seed)
        #expect(visible.nodes.map(\.lines) == [["var0", "grad_req=write", "(4,) float32"],
                                               ["broadcast_mul", "node_1", "(4,) float32"],
                                               ["_plus_scalar", "node_2", "(4,) float32"]])
        #expect(visible.nodes.map(\.kind) == [.variable, .op, .op])
        #expect(visible.nodes.map(\.isHead) == [false, false, true])
        #expect(visible.nodes.map(\.highlighted) == [true, false, false])
        #expect(visible.edges == [.init(from: 0, to: 1, multiplicity: 2), .init(from: 1, to: 2, multiplicity: 1)])
        #expect(visible.notes.isEmpty && visible.totalNodes == 3 && visible.shownNodes == 3)
    }

    @Test func leafKinds() throws {
        // A plain array used by a recorded op is a constant leaf; a variable shows its grad_req.
        let graph = RenderGraph(nodes: [
            RenderNode(id: 0, op: "null", name: "c", shape: [], dtype: "int64"),
            RenderNode(id: 1, op: "null", name: "w", shape: [3], dtype: "float64", isVariable: true, gradReq: "add"),
            RenderNode(id: 2, op: "broadcast_mul", name: "y", shape: [3], dtype: "float64", gradReq: "write", inputs: [1, 0]),
        ], heads: [2])
        let visible = try VisibleGraph(graph)
        #expect(visible.nodes.map(\.kind) == [.constant, .variable, .op])
        #expect(visible.nodes.map(\.lines) == [["c", "constant", "() int64"], ["w", "grad_req=add", "(3,) float64"],
                                               ["broadcast_mul", "y", "(3,) float64"]])
        let svg = GraphRenderer.svg(visible)
        #expect(svg.contains("class=\"node constant\"") && svg.contains(">constant</text>"))
    }

    /// x -> relu^length -> sum, with the given collapse threshold.
    func chain(_ length: Int, collapse: Int) throws -> VisibleGraph {
        var nodes = [Graphs.variable(0)]
        for id in 1...length { nodes.append(Graphs.op(id, "relu", [id - 1])) }
        nodes.append(Graphs.op(length + 1, "sum", [length], shape: []))
        return try VisibleGraph(RenderGraph(nodes: nodes, heads: [length + 1]), options: .init(collapseRepeats: collapse))
    }

    @Test func repeatedChainCollapsesToOneBox() throws {
        let visible = try chain(5, collapse: 3)
        #expect(visible.nodes.map { $0.lines[0] } == ["var0", "relu ×5", "sum"])
        #expect(visible.nodes[1].memberIDs == [1, 2, 3, 4, 5])
        #expect(visible.nodes[1].lines[1] == "node_1 … node_5")
        #expect(visible.nodes[2].lines[2] == "() float32")
        #expect(visible.edges == [.init(from: 0, to: 1, multiplicity: 1), .init(from: 1, to: 2, multiplicity: 1)])
        #expect(visible.notes == ["1 repeated chain collapsed (op ×k)"])
        #expect(visible.shownNodes == 7)
    }

    @Test func collapseThreshold() throws {
        #expect(try chain(2, collapse: 3).nodes.count == 4)
        #expect(try chain(2, collapse: 2).nodes.count == 3)
        #expect(try chain(5, collapse: 0).nodes.count == 7)
        #expect(try chain(5, collapse: 0).notes.isEmpty)
    }

    @Test func chainBreaksAtBranchesHeadsAndShapeChanges() throws {
        // r1..r6; r3 also feeds a second head, r5 changes shape: runs [r1 r2 r3], [r4], [r5 r6].
        var nodes = [Graphs.variable(0)]
        for id in 1...6 { nodes.append(Graphs.op(id, "relu", [id - 1], shape: id >= 5 ? [6] : [2, 3])) }
        nodes.append(Graphs.op(7, "exp", [3]))
        let visible = try VisibleGraph(RenderGraph(nodes: nodes, heads: [6, 7]), options: .init(collapseRepeats: 2))
        let byFirstMember = visible.nodes.sorted { $0.memberIDs[0] < $1.memberIDs[0] }
        #expect(byFirstMember.map(\.memberIDs) == [[0], [1, 2, 3], [4], [5, 6], [7]])
        #expect(byFirstMember.map(\.isHead) == [false, false, false, true, true])
        #expect(visible.edges.count == 4)
        // A head in mid-chain ends the run there.
        let split = try VisibleGraph(RenderGraph(nodes: Array(nodes.prefix(5)), heads: [2, 4]), options: .init(collapseRepeats: 2))
        #expect(split.nodes.map(\.memberIDs) == [[0], [1, 2], [3, 4]])
    }

    @Test func repeatedSquaringKeepsArgumentCount() throws {
        // ((x*x)*(x*x))*... : each step reads its predecessor twice.
        var nodes = [Graphs.variable(0)]
        for id in 1...4 { nodes.append(Graphs.op(id, "broadcast_mul", [id - 1, id - 1])) }
        let visible = try VisibleGraph(RenderGraph(nodes: nodes, heads: [4]))
        #expect(visible.nodes.map { $0.lines[0] } == ["var0", "broadcast_mul ×4"])
        #expect(visible.edges == [.init(from: 0, to: 1, multiplicity: 2)])
    }

    @Test func nodeLimitKeepsTheNodesNearestTheHeads() throws {
        let graph = Graphs.random(seed: 7, count: 5_000)
        let visible = try VisibleGraph(graph, options: .init(collapseRepeats: 0))
        #expect(visible.nodes.count == 200 && visible.shownNodes == 200 && visible.totalNodes == 5_000)
        #expect(visible.notes == ["showing 200 of 5,000 nodes (limit 200 boxes); dashed boxes have inputs not shown"])
        #expect(visible.nodes.last!.memberIDs == [4_999] && visible.nodes.last!.isHead)
        // The head's inputs are kept; the cut is marked on the boxes that lost inputs.
        let headInputs = Set(graph.nodes[4_999].inputs)
        let kept = Set(visible.nodes.flatMap(\.memberIDs))
        #expect(headInputs.isSubset(of: kept))
        #expect(visible.nodes.contains { $0.hiddenInputs > 0 })
        for (i, node) in visible.nodes.enumerated() {
            let shownInputs = visible.edges.filter { $0.to == i }.count
            let allInputs = Set(graph.nodes.first { $0.id == node.memberIDs[0] }!.inputs).count
            #expect(shownInputs + node.hiddenInputs == allInputs)
        }
        // Nothing is cut when the graph fits.
        let small = try VisibleGraph(graph, options: .init(maxNodes: 10_000, collapseRepeats: 0))
        #expect(small.nodes.count == 5_000 && small.notes.isEmpty && small.nodes.allSatisfy { $0.hiddenInputs == 0 })
    }

    @Test func nodeLimitCountsCollapsedMembers() throws {
        // 1 variable + 100 relus (one box) + 10 distinct ops; limit 3 boxes: head, its input, the relu box.
        var nodes = [Graphs.variable(0)]
        for id in 1...100 { nodes.append(Graphs.op(id, "relu", [id - 1])) }
        for id in 101...110 { nodes.append(Graphs.op(id, id % 2 == 0 ? "sin" : "cos", [id - 1])) }
        let visible = try VisibleGraph(RenderGraph(nodes: nodes, heads: [110]), options: .init(maxNodes: 3))
        #expect(visible.nodes.count == 3)
        #expect(visible.shownNodes == 3)
        let all = try VisibleGraph(RenderGraph(nodes: nodes, heads: [110]), options: .init(maxNodes: 12))
        #expect(all.nodes.count == 12 && all.shownNodes == 111 && all.notes.count == 1)
        let cut = try VisibleGraph(RenderGraph(nodes: nodes, heads: [110]), options: .init(maxNodes: 11))
        #expect(cut.shownNodes == 110 && cut.notes.last == "showing 110 of 111 nodes (limit 11 boxes); dashed boxes have inputs not shown")
        #expect(cut.nodes[0].lines[0] == "relu ×100" && cut.nodes[0].hiddenInputs == 1)
    }

    @Test func longLabelsAreClippedButKeptInTheTooltip() throws {
        let shape = Array(repeating: 1_000, count: 12)
        let visible = try VisibleGraph(RenderGraph(nodes: [Graphs.variable(0, shape: shape)], heads: [0]))
        #expect(visible.nodes[0].lines[2].count == 40 && visible.nodes[0].lines[2].hasSuffix("…"))
        #expect(visible.nodes[0].tooltip.contains(shape.map(String.init).joined(separator: ", ") + ") float32"))
    }

    @Test func badGraphsAreTypedErrors() throws {
        let x = Graphs.variable(0)
        #expect(throws: GraphRenderError.duplicateNodeID(0)) { try VisibleGraph(RenderGraph(nodes: [x, x], heads: [0])) }
        #expect(throws: GraphRenderError.unknownInput(node: 1, input: 9)) {
            try VisibleGraph(RenderGraph(nodes: [x, Graphs.op(1, "relu", [9])], heads: [1]))
        }
        #expect(throws: GraphRenderError.unknownHead(5)) { try VisibleGraph(RenderGraph(nodes: [x], heads: [5])) }
        #expect(throws: GraphRenderError.cycle(node: 1)) {
            try VisibleGraph(RenderGraph(nodes: [x, Graphs.op(1, "relu", [2]), Graphs.op(2, "relu", [1])], heads: [2]))
        }
        #expect(throws: GraphRenderError.invalidOption("maxNodes must be between 1 and 10,000, got 0")) {
            try VisibleGraph(Graphs.seed, options: .init(maxNodes: 0))
        }
        #expect(throws: GraphRenderError.self) { try VisibleGraph(Graphs.seed, options: .init(maxNodes: 10_001)) }
        #expect(try VisibleGraph(Graphs.seed, options: .init(maxNodes: 1)).nodes.count == 1)
        #expect(throws: GraphRenderError.self) { try VisibleGraph(Graphs.seed, options: .init(collapseRepeats: -1)) }
        #expect(GraphRenderError.cycle(node: 1).description == "the graph has a cycle through node 1")
    }

    @Test func nodesInAnyOrder() throws {
        // The same history listed consumers-first lays out the same boxes in topological order.
        let reversed = RenderGraph(nodes: Graphs.seed.nodes.reversed(), heads: [2])
        #expect(try VisibleGraph(reversed) == VisibleGraph(Graphs.seed))
    }
}
