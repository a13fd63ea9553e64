/// A layered (Sugiyama-style) drawing of a `VisibleGraph`: leaves at the top, data flowing down.
///
/// Layers by longest path from the leaves; long edges pass through waypoint ("dummy") slots in
/// the rows they cross; barycentre sweeps order each row, keeping the order with the fewest
/// crossings; x positions pull each box towards its neighbours by least squares under the
/// no-overlap constraints (pool-adjacent-violators), so boxes in a row never overlap.
public struct GraphLayout: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public let x: Double, y: Double
    }
    /// A box's top-left corner, size and layer (row, from 0 at the top).
    public struct Box: Sendable, Equatable {
        public let x: Double, y: Double, width: Double, height: Double, layer: Int
    }

    /// One box per `VisibleGraph.nodes` element, same order.
    public let boxes: [Box]
    /// One route per `VisibleGraph.edges` element: the producer's bottom centre, then for each row
    /// crossed by a long edge the points where it enters and leaves that row, then a port on the
    /// consumer's top edge. Gaps between rows are drawn as curves, rows as straight lines. When the
    /// long edges would need more than `waypointBudget` waypoints, the longest have no waypoints
    /// and are drawn as one direct curve.
    public let routes: [[Point]]
    public let width: Double, height: Double

    /// Most waypoints placed for long edges (the layout's cost grows with them).
    public static let waypointBudget = 20_000
    static let margin = 16.0, rowGap = 48.0, boxGap = 24.0, waypointGap = 8.0, waypointWidth = 10.0
    static let lineHeight = 15.0, charWidth = 7.2, padding = 10.0, minBoxWidth = 64.0

    /// Box height for label lines of the given count.
    static func boxHeight(lines: Int) -> Double { Double(lines) * lineHeight + 2 * 6 }

    public init(_ graph: VisibleGraph) {
        let real = graph.nodes.count
        let rowHeight = graph.nodes.map { Self.boxHeight(lines: $0.lines.count) }.max() ?? 0
        // Edges are grouped by consumer in increasing index and producers come first, so one pass suffices.
        var layerOf = [Int](repeating: 0, count: real)
        var firstConsumerLayer = [Int?](repeating: nil, count: real), hasInputs = [Bool](repeating: false, count: real)
        for e in graph.edges { layerOf[e.to] = max(layerOf[e.to], layerOf[e.from] + 1); hasInputs[e.to] = true }
        // Leaves sit in the row just above their highest consumer, not all in the top row (shorter edges).
        for e in graph.edges { firstConsumerLayer[e.from] = min(firstConsumerLayer[e.from] ?? layerOf[e.to], layerOf[e.to]) }
        for v in 0..<real where !hasInputs[v] { if let below = firstConsumerLayer[v] { layerOf[v] = below - 1 } }
        var widths = graph.nodes.map { node in
            max(Self.minBoxWidth, Double(node.lines.map(\.count).max() ?? 0) * Self.charWidth + 2 * Self.padding)
        }
        var preds = [[Int]](repeating: [], count: real), succs = [[Int]](repeating: [], count: real)
        // Waypoints cost time and bytes; past the budget the longest edges are drawn as direct curves.
        let spans = graph.edges.map { layerOf[$0.to] - layerOf[$0.from] - 1 }
        var waypoints = spans.reduce(0, +), directFrom = Int.max
        for span in spans.sorted(by: >) where waypoints > Self.waypointBudget { waypoints -= span; directFrom = span }
        var chains: [[Int]] = []
        for (e, span) in zip(graph.edges, spans) {
            if span > 0 && span >= directFrom { chains.append([e.from, e.to]); continue }
            var chain = [e.from]
            for layer in (layerOf[e.from] + 1)..<layerOf[e.to] {
                layerOf.append(layer); widths.append(Self.waypointWidth); preds.append([]); succs.append([])
                chain.append(widths.count - 1)
            }
            chain.append(e.to)
            for (u, v) in zip(chain, chain.dropFirst()) { succs[u].append(v); preds[v].append(u) }
            chains.append(chain)
        }
        let layers = (layerOf.max() ?? -1) + 1
        var rows = [[Int]](repeating: [], count: layers)
        for v in layerOf.indices { rows[layerOf[v]].append(v) }

        rows = Self.orderRows(rows, preds: preds, succs: succs)
        let centres = Self.placeRows(rows, widths: widths, preds: preds, succs: succs, isWaypoint: { $0 >= real })

        let left = layerOf.indices.map { centres[$0] - widths[$0] / 2 }.min() ?? 0
        let shift = Self.margin - left
        func top(_ layer: Int) -> Double { Self.margin + Double(layer) * (rowHeight + Self.rowGap) }
        boxes = (0..<real).map { v in
            Box(x: centres[v] + shift - widths[v] / 2, y: top(layerOf[v]), width: widths[v], height: rowHeight, layer: layerOf[v])
        }
        var routes = chains.map { chain in
            var points = [Point(x: centres[chain[0]] + shift, y: top(layerOf[chain[0]]) + rowHeight)]
            for w in chain.dropFirst().dropLast() {
                points.append(Point(x: centres[w] + shift, y: top(layerOf[w])))
                points.append(Point(x: centres[w] + shift, y: top(layerOf[w]) + rowHeight))
            }
            return points
        }
        // Entry ports spread over the consumer's top edge, in the left-to-right order of the
        // routes arriving, so that converging edges stay apart without crossing there.
        var arriving = [[Int]](repeating: [], count: real)
        for (i, chain) in chains.enumerated() { arriving[chain[chain.count - 1]].append(i) }
        for (v, incoming) in arriving.enumerated() {
            let sorted = incoming.sorted { (routes[$0][routes[$0].count - 1].x, $0) < (routes[$1][routes[$1].count - 1].x, $1) }
            for (k, i) in sorted.enumerated() {
                let box = boxes[v]
                routes[i].append(Point(x: box.x + box.width * Double(k + 1) / Double(sorted.count + 1), y: box.y))
            }
        }
        self.routes = routes
        width = (layerOf.indices.map { centres[$0] + shift + widths[$0] / 2 }.max() ?? 0) + Self.margin
        height = layers == 0 ? 2 * Self.margin : top(layers - 1) + rowHeight + Self.margin
    }

    /// Barycentre sweeps, alternately downwards (by predecessors) and upwards (by successors);
    /// returns the ordering with the fewest crossings seen.
    static func orderRows(_ start: [[Int]], preds: [[Int]], succs: [[Int]]) -> [[Int]] {
        var rows = start
        var position = [Int](repeating: 0, count: preds.count)
        for row in rows { for (i, v) in row.enumerated() { position[v] = i } }
        var best = rows, fewest = crossings(rows, succs: succs, position: position)
        for sweep in 0..<8 where fewest > 0 {
            let down = sweep % 2 == 0
            for l in down ? Array(rows.indices.dropFirst()) : Array(rows.indices.dropLast().reversed()) {
                let keys = rows[l].map { v -> Double in
                    let neighbours = down ? preds[v] : succs[v]
                    if neighbours.isEmpty { return Double(position[v]) }
                    return Double(neighbours.reduce(0) { $0 + position[$1] }) / Double(neighbours.count)
                }
                let order = rows[l].indices.sorted { (keys[$0], $0) < (keys[$1], $1) }
                rows[l] = order.map { rows[l][$0] }
                for (i, v) in rows[l].enumerated() { position[v] = i }
            }
            let count = crossings(rows, succs: succs, position: position)
            if count < fewest { best = rows; fewest = count }
        }
        return best
    }

    /// Edge crossings between adjacent rows, counted as inversions with a Fenwick tree.
    static func crossings(_ rows: [[Int]], succs: [[Int]], position: [Int]) -> Int {
        var total = 0
        for l in rows.indices.dropLast() {
            let targets = rows[l].flatMap { u in succs[u].map { position[$0] }.sorted() }
            var tree = [Int](repeating: 0, count: rows[l + 1].count + 1)
            for (inserted, t) in targets.enumerated() {
                var atMost = 0, i = t + 1
                while i > 0 { atMost += tree[i]; i -= i & -i }
                total += inserted - atMost
                i = t + 1
                while i < tree.count { tree[i] += 1; i += i & -i }
            }
        }
        return total
    }

    /// Centre x of every vertex: packed rows, then alternating sweeps that move each row towards
    /// the mean centre of its neighbours in the previous row.
    private static func placeRows(_ rows: [[Int]], widths: [Double], preds: [[Int]], succs: [[Int]],
                                  isWaypoint: (Int) -> Bool) -> [Double] {
        var centre = [Double](repeating: 0, count: widths.count)
        func gap(_ a: Int, _ b: Int) -> Double {
            (widths[a] + widths[b]) / 2 + (isWaypoint(a) && isWaypoint(b) ? waypointGap : boxGap)
        }
        for row in rows {
            for (i, v) in row.enumerated() { centre[v] = i == 0 ? 0 : centre[row[i - 1]] + gap(row[i - 1], v) }
        }
        for sweep in 0..<9 {
            let down = sweep % 2 == 0
            for l in down ? Array(rows.indices.dropFirst()) : Array(rows.indices.dropLast().reversed()) {
                let desired = rows[l].map { v -> Double in
                    let neighbours = down ? preds[v] : succs[v]
                    return neighbours.isEmpty ? centre[v] : neighbours.reduce(0) { $0 + centre[$1] } / Double(neighbours.count)
                }
                // Least squares to `desired` with centre[i+1] - centre[i] >= gap: substitute
                // y = centre - offset, then y must be non-decreasing (isotonic regression).
                var offset = [0.0]
                for (a, b) in zip(rows[l], rows[l].dropFirst()) { offset.append(offset[offset.count - 1] + gap(a, b)) }
                var blocks: [(sum: Double, count: Int)] = []
                for (i, d) in desired.enumerated() {
                    blocks.append((d - offset[i], 1))
                    while blocks.count > 1, blocks[blocks.count - 2].sum / Double(blocks[blocks.count - 2].count)
                            > blocks[blocks.count - 1].sum / Double(blocks[blocks.count - 1].count) {
                        let top = blocks.removeLast()
                        blocks[blocks.count - 1].sum += top.sum; blocks[blocks.count - 1].count += top.count
                    }
                }
                var i = 0
                for block in blocks {
                    for _ in 0..<block.count { centre[rows[l][i]] = block.sum / Double(block.count) + offset[i]; i += 1 }
                }
            }
        }
        return centre
    }
}
