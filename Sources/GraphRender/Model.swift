// The input model: a recorded history as plain values, filled by the Service from the
// engine's `GraphSymbol`, so that this target depends on nothing.

/// One node of a recorded history: a leaf (variable or constant) or an operator output.
public struct RenderNode: Sendable, Equatable {
    /// Unique id; `inputs` and `RenderGraph.heads` refer to nodes by it.
    public var id: Int
    /// Operator name (`"broadcast_mul"`); `"null"` for leaves, as in MXNet's symbol JSON.
    public var op: String
    /// Node name (`"var0"`, `"node_1"`).
    public var name: String
    public var shape: [Int]
    /// DType name (`"float32"`).
    public var dtype: String
    /// A leaf marked for gradients (attach_grad / mark_variables).
    public var isVariable: Bool
    /// `"write"`, `"add"` or `"null"` for variables; ignored for operator nodes.
    public var gradReq: String?
    /// The last backward reached this node's gradient (drawn highlighted).
    public var highlighted: Bool
    /// Ids of the input nodes, in argument order; repeats allowed (`x * x` has `[x, x]`).
    public var inputs: [Int]

    public init(id: Int, op: String, name: String, shape: [Int], dtype: String, isVariable: Bool = false,
                gradReq: String? = nil, highlighted: Bool = false, inputs: [Int] = []) {
        self.id = id; self.op = op; self.name = name; self.shape = shape; self.dtype = dtype
        self.isVariable = isVariable; self.gradReq = gradReq; self.highlighted = highlighted; self.inputs = inputs
    }
}

/// A recorded history: nodes (any order) and the ids of the output nodes.
public struct RenderGraph: Sendable, Equatable {
    public var nodes: [RenderNode]
    public var heads: [Int]
    public init(nodes: [RenderNode], heads: [Int]) { self.nodes = nodes; self.heads = heads }
}

/// How much of a graph is drawn.
public struct RenderOptions: Sendable, Equatable {
    /// At most this many boxes are drawn (after collapsing); the rest is cut with a visible note.
    /// Must be in 1...`maxNodesLimit`.
    public var maxNodes: Int
    /// Largest accepted `maxNodes`: bounds the time and size of one rendering.
    public static let maxNodesLimit = 10_000
    /// Chains of at least this many identical operator nodes are drawn as one "op ×k" box; 0 disables.
    public var collapseRepeats: Int

    public init(maxNodes: Int = 200, collapseRepeats: Int = 3) {
        self.maxNodes = maxNodes; self.collapseRepeats = collapseRepeats
    }
}

/// Why a graph cannot be rendered.
public enum GraphRenderError: Error, Sendable, Equatable, CustomStringConvertible {
    case duplicateNodeID(Int)
    case unknownInput(node: Int, input: Int)
    case unknownHead(Int)
    /// The inputs form a cycle through this node, so the graph is not a recorded history.
    case cycle(node: Int)
    case invalidOption(String)

    public var description: String {
        switch self {
        case .duplicateNodeID(let id): return "graph has two nodes with id \(id)"
        case .unknownInput(let node, let input): return "node \(node) has input \(input), which is not a node of the graph"
        case .unknownHead(let id): return "head \(id) is not a node of the graph"
        case .cycle(let node): return "the graph has a cycle through node \(node)"
        case .invalidOption(let text): return text
        }
    }
}
