/// A graph as it is drawn: validated, repeated chains collapsed, cut to the node limit.
/// Both the SVG and the DOT output are made from this one value.
public struct VisibleGraph: Sendable, Equatable {
    public enum Kind: String, Sendable { case variable, constant, op }

    /// One drawn box.
    public struct Node: Sendable, Equatable {
        /// Ids of the input-graph nodes this box stands for, in data-flow order (several when collapsed).
        public let memberIDs: [Int]
        public let kind: Kind
        /// Label lines: op (with "×k"), name or grad_req, shape and dtype; each clipped to 40 characters.
        public let lines: [String]
        /// Full, unclipped description (SVG tooltip).
        public let tooltip: String
        public let isHead: Bool
        public let highlighted: Bool
        /// Distinct inputs cut by the node limit.
        public let hiddenInputs: Int
    }

    /// Data flow from box `from` to box `to`; `multiplicity` counts repeated arguments (`x * x`: 2).
    public struct Edge: Sendable, Equatable {
        public let from: Int, to: Int, multiplicity: Int
        public init(from: Int, to: Int, multiplicity: Int) { self.from = from; self.to = to; self.multiplicity = multiplicity }
    }

    /// Boxes in topological order: every edge goes from a lower to a higher index.
    public let nodes: [Node]
    public let edges: [Edge]
    /// Nodes of the input graph.
    public let totalNodes: Int
    /// Input-graph nodes represented by the drawn boxes.
    public let shownNodes: Int
    /// Visible remarks: collapsed chains, truncation.
    public let notes: [String]

    public init(_ graph: RenderGraph, options: RenderOptions = .init()) throws(GraphRenderError) {
        guard (1...RenderOptions.maxNodesLimit).contains(options.maxNodes) else {
            throw .invalidOption("maxNodes must be between 1 and \(Text.grouped(RenderOptions.maxNodesLimit)), got \(options.maxNodes)")
        }
        guard options.collapseRepeats >= 0 else { throw .invalidOption("collapseRepeats must not be negative, got \(options.collapseRepeats)") }
        let nodes = graph.nodes
        let order = try Self.topologicalOrder(graph)
        let inputs = order.inputs
        var isHead = [Bool](repeating: false, count: nodes.count)
        for head in order.heads { isHead[head] = true }

        // Chains of identical single-input operators: next[a] == b when b only reads a,
        // a only feeds b, and both have the same op, shape and dtype.
        var next = [Int?](repeating: nil, count: nodes.count), hasPrevious = [Bool](repeating: false, count: nodes.count)
        var consumers = [Int](repeating: 0, count: nodes.count)
        for i in nodes.indices { for a in Set(inputs[i]) { consumers[a] += 1 } }
        if options.collapseRepeats >= 2 {
            for b in nodes.indices where Set(inputs[b]).count == 1 {
                let a = inputs[b][0], x = nodes[a], y = nodes[b]
                if Self.kind(x) == .op, Self.kind(y) == .op, x.op == y.op, x.shape == y.shape, x.dtype == y.dtype,
                   consumers[a] == 1, !isHead[a] {
                    next[a] = b; hasPrevious[b] = true
                }
            }
        }
        var groups: [[Int]] = [], collapsed = 0
        for start in order.sorted where !hasPrevious[start] {
            var chain = [start]
            while let n = next[chain[chain.count - 1]] { chain.append(n) }
            if chain.count >= options.collapseRepeats && chain.count >= 2 {
                groups.append(chain); collapsed += 1
            } else {
                groups += chain.map { [$0] }
            }
        }
        var groupOf = [Int](repeating: 0, count: nodes.count)
        for (g, members) in groups.enumerated() { for m in members { groupOf[m] = g } }
        // Distinct input groups in argument order, with how often each is used.
        let groupInputs: [[(group: Int, count: Int)]] = groups.map { members in
            var seen: [(group: Int, count: Int)] = [], slot: [Int: Int] = [:]
            for input in inputs[members[0]] {
                let g = groupOf[input]
                if let k = slot[g] { seen[k].count += 1 } else { slot[g] = seen.count; seen.append((g, 1)) }
            }
            return seen
        }

        // Node limit: keep the boxes nearest the heads (breadth-first against the data flow).
        var kept = [Bool](repeating: groups.count <= options.maxNodes, count: groups.count)
        if groups.count > options.maxNodes {
            var queue: [Int] = [], count = 0, front = 0
            let seeds = order.heads.map { groupOf[$0] } + Array(groups.indices.reversed())
            for seed in seeds where count < options.maxNodes && !kept[seed] {
                kept[seed] = true; count += 1; queue.append(seed)
                while front < queue.count && count < options.maxNodes {
                    for (g, _) in groupInputs[queue[front]] where !kept[g] && count < options.maxNodes {
                        kept[g] = true; count += 1; queue.append(g)
                    }
                    front += 1
                }
            }
        }

        var index = [Int](repeating: -1, count: groups.count), visible: [Node] = [], edges: [Edge] = []
        for g in groups.indices where kept[g] {
            index[g] = visible.count
            let members = groups[g].map { nodes[$0] }
            let hidden = groupInputs[g].filter { !kept[$0.group] }.count
            visible.append(Self.box(members, isHead: isHead[groups[g][groups[g].count - 1]], hiddenInputs: hidden))
            for (input, count) in groupInputs[g] where kept[input] {
                edges.append(Edge(from: index[input], to: index[g], multiplicity: count))
            }
        }
        let shown = groups.indices.filter { kept[$0] }.reduce(0) { $0 + groups[$1].count }
        var notes: [String] = []
        if nodes.isEmpty { notes.append("empty graph") }
        if collapsed > 0 { notes.append("\(Text.grouped(collapsed)) repeated chain\(collapsed == 1 ? "" : "s") collapsed (op ×k)") }
        if shown < nodes.count {
            notes.append("showing \(Text.grouped(shown)) of \(Text.grouped(nodes.count)) nodes (limit \(Text.grouped(options.maxNodes)) boxes); dashed boxes have inputs not shown")
        }
        self.nodes = visible; self.edges = edges; self.totalNodes = nodes.count; self.shownNodes = shown; self.notes = notes
    }

    static func kind(_ node: RenderNode) -> Kind {
        node.isVariable ? .variable : node.op == "null" ? .constant : .op
    }

    /// The box for a chain of identical nodes (usually just one).
    private static func box(_ members: [RenderNode], isHead: Bool, hiddenInputs: Int) -> Node {
        let first = members[0], last = members[members.count - 1]
        let kind = kind(first)
        let title: String, detail: String
        switch kind {
        case .variable: title = first.name; detail = "grad_req=\(first.gradReq ?? "null")"
        case .constant: title = first.name; detail = "constant"
        case .op:
            title = members.count > 1 ? "\(first.op) ×\(members.count)" : first.op
            detail = members.count > 1 ? "\(first.name) … \(last.name)" : first.name
        }
        let type = "\(Text.shape(first.shape)) \(first.dtype)"
        var tooltip = "\(title)\n\(detail)\n\(type)"
        if isHead { tooltip += "\nhead (output)" }
        if members.contains(where: \.highlighted) { tooltip += "\ngradient reached by the last backward" }
        if hiddenInputs > 0 { tooltip += "\n\(hiddenInputs) input\(hiddenInputs == 1 ? "" : "s") not shown (node limit)" }
        return Node(memberIDs: members.map(\.id), kind: kind, lines: [title, detail, type].map(Text.clip), tooltip: tooltip,
                    isHead: isHead, highlighted: members.contains(where: \.highlighted), hiddenInputs: hiddenInputs)
    }

    /// Node indices in a deterministic topological order (Kahn, first-in first-out), inputs as
    /// indices, and the distinct heads as indices; rejects unknown ids and cycles.
    private static func topologicalOrder(_ graph: RenderGraph) throws(GraphRenderError)
        -> (sorted: [Int], inputs: [[Int]], heads: [Int]) {
        var indexOf: [Int: Int] = [:]
        for (i, node) in graph.nodes.enumerated() {
            if indexOf.updateValue(i, forKey: node.id) != nil { throw .duplicateNodeID(node.id) }
        }
        var inputs: [[Int]] = [], consumers = [[Int]](repeating: [], count: graph.nodes.count)
        var pending = [Int](repeating: 0, count: graph.nodes.count)
        for (i, node) in graph.nodes.enumerated() {
            var row: [Int] = []
            for id in node.inputs {
                guard let j = indexOf[id] else { throw .unknownInput(node: node.id, input: id) }
                row.append(j); consumers[j].append(i); pending[i] += 1
            }
            inputs.append(row)
        }
        var heads: [Int] = []
        for id in graph.heads {
            guard let i = indexOf[id] else { throw .unknownHead(id) }
            if !heads.contains(i) { heads.append(i) }
        }
        var sorted = graph.nodes.indices.filter { pending[$0] == 0 }, front = 0
        while front < sorted.count {
            for c in consumers[sorted[front]] {
                pending[c] -= 1
                if pending[c] == 0 { sorted.append(c) }
            }
            front += 1
        }
        if let stuck = graph.nodes.indices.first(where: { pending[$0] > 0 }) { throw .cycle(node: graph.nodes[stuck].id) }
        return (sorted, inputs, heads)
    }
}
