import Testing
@testable import GraphRender

/// Checks the layout invariants; returns the number of edge crossings between rows.
@discardableResult
func checkLayout(_ visible: VisibleGraph, _ layout: GraphLayout, sourceLocation: SourceLocation = #_sourceLocation) -> Int {
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
        #expect(route.last == GraphLayout.Point(x: to.x + to.width / 2, y: to.y), sourceLocation: sourceLocation)
        #expect(route.count == 2 * (to.layer - from.layer), "one pair of waypoints per crossed row", sourceLocation: sourceLocation)
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

    @Test func barycentreSweepsRemoveAvoidableCrossings() throws {
        // Leaves a, b, c feed r(c), q(b), p(a) listed in the crossing order: every pair crosses.
        let graph = RenderGraph(nodes: [Graphs.variable(0), Graphs.variable(1), Graphs.variable(2),
                                        Graphs.op(3, "relu", [2]), Graphs.op(4, "tanh", [1]), Graphs.op(5, "sin", [0]),
                                        Graphs.op(6, "add_n", [3, 4, 5])], heads: [6])
        let visible = try VisibleGraph(graph)
        #expect(checkLayout(visible, GraphLayout(visible)) == 0)
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
