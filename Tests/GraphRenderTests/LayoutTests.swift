import Testing
@testable import GraphRender

/// Checks the layout invariants; returns the number of edge crossings between rows.
@discardableResult
func checkLayout(_ visible: VisibleGraph, _ layout: GraphLayout, allowDirect: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) -> Int {
    #expect(layout.boxes.count == visible.nodes.count, sourceLocation: sourceLocation)
    #expect(layout.routes.count == visible.edges.count, sourceLocation: sourceLocation)
    let boxes = layout.boxes
    // No two boxes overlap, and all lie inside the canvas.
    var overlaps = 0
    for i in boxes.indices {
        let a = boxes[i]
        #expect(a.x >= 0 && a.y >= 0 && a.x + a.width <= layout.width && a.y + a.height <= layout.height, sourceLocation: sourceLocation)
        for b in boxes[(i + 1)...] where a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height {
            overlaps += 1
        }
    }
    #expect(overlaps == 0, "overlapping boxes", sourceLocation: sourceLocation)
    var gapSegments: [Double: [(x0: Double, x1: Double)]] = [:]
    for (edge, route) in zip(visible.edges, layout.routes) {
        let from = boxes[edge.from], to = boxes[edge.to]
        // Producer above consumer: data flows to a strictly later layer.
        #expect(from.layer < to.layer, sourceLocation: sourceLocation)
        #expect(route.first == GraphLayout.Point(x: from.x + from.width / 2, y: from.y + from.height), sourceLocation: sourceLocation)
        #expect(route.last!.y == to.y && to.x < route.last!.x && route.last!.x < to.x + to.width, "ends on the consumer's top edge",
                sourceLocation: sourceLocation)
        #expect(route.count == 2 * (to.layer - from.layer) || (allowDirect && route.count == 2), "one pair of waypoints per crossed row",
                sourceLocation: sourceLocation)
        #expect(zip(route, route.dropFirst()).allSatisfy { $0.y < $1.y }, "routes go down", sourceLocation: sourceLocation)
        // Through a crossed row the route is vertical and passes beside every box of that row.
        for k in stride(from: 1, to: route.count - 1, by: 2) {
            let top = route[k], bottom = route[k + 1]
            #expect(top.x == bottom.x, sourceLocation: sourceLocation)
            let hits = boxes.filter { $0.y == top.y && $0.x <= top.x && top.x <= $0.x + $0.width }
            #expect(hits.isEmpty, "route through a box", sourceLocation: sourceLocation)
        }
        for k in stride(from: 0, to: route.count - 1, by: 2) { gapSegments[route[k].y, default: []].append((route[k].x, route[k + 1].x)) }
    }
    // Edges arriving at one box end at distinct ports.
    for i in boxes.indices {
        let ports = zip(visible.edges, layout.routes).filter { $0.0.to == i }.map { $0.1.last!.x }
        #expect(Set(ports).count == ports.count, sourceLocation: sourceLocation)
    }
    var crossings = 0
    for segments in gapSegments.values {
        for i in segments.indices {
            for j in segments.indices where j > i {
                let (a, b) = (segments[i], segments[j])
                if (a.x0 - b.x0) * (a.x1 - b.x1) < 0 { crossings += 1 }
            }
        }
    }
    return crossings
}

@Suite struct LayoutTests {
    @Test func seedExampleIsThreeRows() throws {
        let visible = try VisibleGraph(Graphs.seed)
        let layout = GraphLayout(visible)
        checkLayout(visible, layout)
        #expect(layout.boxes.map(\.layer) == [0, 1, 2])
        // A straight chain is drawn straight: all centres on one vertical line.
        let centres = Set(layout.boxes.map { $0.x + $0.width / 2 })
        #expect(centres.count == 1)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func randomGraphs(seed: UInt64) throws {
        for count in [5, 40, 150] {
            let visible = try VisibleGraph(Graphs.random(seed: seed, count: count), options: .init(maxNodes: 1_000, collapseRepeats: 0))
            checkLayout(visible, GraphLayout(visible))
        }
    }

    @Test func wideAndDeepGraphs() throws {
        for graph in [Graphs.wide(60), Graphs.deep(120), Graphs.random(seed: 42, count: 300, leafEvery: 2)] {
            let visible = try VisibleGraph(graph, options: .init(maxNodes: 1_000))
            let layout = GraphLayout(visible)
            checkLayout(visible, layout)
            #expect(Set(layout.boxes.map(\.layer)).count > 1)
        }
        let wide = GraphLayout(try VisibleGraph(Graphs.wide(60)))
        #expect(wide.boxes.filter { $0.layer == 0 }.count == 60)
        #expect(wide.boxes.last!.layer == 2)
        let deep = GraphLayout(try VisibleGraph(Graphs.deep(120)))
        #expect(deep.boxes.last!.layer == 119)
    }

    @Test func denseGraphStaysWithinTheWaypointBudget() throws {
        // Every op reads all earlier ops: ~n³/6 waypoints unbounded.
        var nodes = [Graphs.variable(0)]
        for id in 1..<120 { nodes.append(Graphs.op(id, "add_n", Array(0..<id))) }
        let visible = try VisibleGraph(RenderGraph(nodes: nodes, heads: [119]))
        let layout = GraphLayout(visible)
        checkLayout(visible, layout, allowDirect: true)
        let waypoints = layout.routes.reduce(0) { $0 + ($1.count - 2) / 2 }
        #expect(waypoints <= GraphLayout.waypointBudget && waypoints > GraphLayout.waypointBudget / 2)
        // Short edges keep their waypoints; only the longest are direct.
        let direct = zip(visible.edges, layout.routes).filter { $0.1.count == 2 }.map { layout.boxes[$0.0.to].layer - layout.boxes[$0.0.from].layer }
        let routed = zip(visible.edges, layout.routes).filter { $0.1.count > 2 }.map { layout.boxes[$0.0.to].layer - layout.boxes[$0.0.from].layer }
        #expect(direct.filter { $0 > 1 }.min()! > routed.max()!)
    }

    @Test func layerIsLongestPathFromLeaves() throws {
        // a -> b -> c and a -> c: c sits two rows below a, the edge a -> c crosses row 1.
        let graph = RenderGraph(nodes: [Graphs.variable(0), Graphs.op(1, "relu", [0]), Graphs.op(2, "broadcast_add", [0, 1])], heads: [2])
        let visible = try VisibleGraph(graph)
        let layout = GraphLayout(visible)
        checkLayout(visible, layout)
        #expect(layout.boxes.map(\.layer) == [0, 1, 2])
        let long = visible.edges.firstIndex { $0.from == 0 && $0.to == 2 }!
        #expect(layout.routes[long].count == 4)
    }

    @Test func leavesSitJustAboveTheirHighestConsumer() throws {
        // w is only used by the last op, so it is drawn in the row above it, not in the top row.
        let graph = RenderGraph(nodes: [Graphs.variable(0), Graphs.op(1, "relu", [0]), Graphs.op(2, "tanh", [1]), Graphs.op(3, "sin", [2]),
                                        Graphs.variable(4), Graphs.op(5, "broadcast_add", [3, 4]), Graphs.op(6, "dot", [0, 5])], heads: [6])
        let visible = try VisibleGraph(graph)
        let layout = GraphLayout(visible)
        checkLayout(visible, layout)
        let layerOfID = Dictionary(uniqueKeysWithValues: zip(visible.nodes.map { $0.memberIDs[0] }, layout.boxes.map(\.layer)))
        #expect(layerOfID == [0: 0, 1: 1, 2: 2, 3: 3, 4: 3, 5: 4, 6: 5])
    }

    @Test func planarGraphIsDrawnWithoutCrossings() throws {
        // Leaves a, b, c feed r(c), q(b), p(a), listed so that a naive left-to-right order crosses.
        let graph = RenderGraph(nodes: [Graphs.variable(0), Graphs.variable(1), Graphs.variable(2),
                                        Graphs.op(3, "relu", [2]), Graphs.op(4, "tanh", [1]), Graphs.op(5, "sin", [0]),
                                        Graphs.op(6, "add_n", [3, 4, 5])], heads: [6])
        let visible = try VisibleGraph(graph)
        #expect(checkLayout(visible, GraphLayout(visible)) == 0)
    }

    @Test func sweepsUntangleRows() {
        // Three rows wired in reverse: 0->5, 1->4, 2->3 and 3->8, 4->7, 5->6 cross pairwise.
        let succs = [[5], [4], [3], [8], [7], [6], [], [], []]
        var preds = [[Int]](repeating: [], count: 9)
        for (u, vs) in succs.enumerated() { for v in vs { preds[v].append(u) } }
        let start = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
        let positions = { (rows: [[Int]]) -> [Int] in
            var p = [Int](repeating: 0, count: 9)
            for row in rows { for (i, v) in row.enumerated() { p[v] = i } }
            return p
        }
        #expect(GraphLayout.crossings(start, succs: succs, position: positions(start)) == 6)
        let ordered = GraphLayout.orderRows(start, preds: preds, succs: succs)
        #expect(GraphLayout.crossings(ordered, succs: succs, position: positions(ordered)) == 0)
        #expect(ordered.map { Set($0) } == start.map { Set($0) })

        // Random two-row wirings: never worse than the start, better overall.
        var state: UInt64 = 12345, before = 0, after = 0
        func next(_ bound: Int) -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int((state >> 33) % UInt64(bound)) }
        for _ in 0..<30 {
            let rows = [Array(0..<8), Array(8..<16)]
            var succs = [[Int]](repeating: [], count: 16), preds = [[Int]](repeating: [], count: 16)
            for u in 0..<8 { for v in Set((0..<2).map { _ in 8 + next(8) }).sorted() { succs[u].append(v); preds[v].append(u) } }
            let ordered = GraphLayout.orderRows(rows, preds: preds, succs: succs)
            var p = [Int](repeating: 0, count: 16)
            for row in rows { for (i, v) in row.enumerated() { p[v] = i } }
            let c0 = GraphLayout.crossings(rows, succs: succs, position: p)
            for row in ordered { for (i, v) in row.enumerated() { p[v] = i } }
            let c1 = GraphLayout.crossings(ordered, succs: succs, position: p)
            #expect(c1 <= c0)
            before += c0; after += c1
        }
        #expect(after < before / 2)
    }

    @Test func crossingCounterCountsInversions() {
        // Rows [0, 1] over [2, 3]: 0 -> 3 and 1 -> 2 cross once; adding 0 -> 2 adds none.
        #expect(GraphLayout.crossings([[0, 1], [2, 3]], succs: [[3], [2], [], []], position: [0, 1, 0, 1]) == 1)
        #expect(GraphLayout.crossings([[0, 1], [2, 3]], succs: [[2, 3], [2], [], []], position: [0, 1, 0, 1]) == 1)
        #expect(GraphLayout.crossings([[0, 1], [2, 3]], succs: [[2], [3], [], []], position: [0, 1, 0, 1]) == 0)
    }

    @Test func boxWidthFollowsLabelLength() throws {
        let graph = RenderGraph(nodes: [Graphs.variable(0, name: "x"), Graphs.variable(1, name: String(repeating: "w", count: 30))], heads: [1])
        let layout = GraphLayout(try VisibleGraph(graph))
        #expect(layout.boxes[1].width > layout.boxes[0].width)
        #expect(layout.boxes[1].width >= 30 * GraphLayout.charWidth)
    }

    @Test func emptyGraphHasNoBoxes() throws {
        let layout = GraphLayout(try VisibleGraph(RenderGraph(nodes: [], heads: [])))
        #expect(layout.boxes.isEmpty && layout.routes.isEmpty && layout.height > 0)
    }
}
