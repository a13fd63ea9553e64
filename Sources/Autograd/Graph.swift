/// One output of a recorded node (or a variable).
struct Entry {
    let node: Node
    let index: Int
}

/// A tensor kept for backward: the storage only, never the handle that owns the node
/// (so the tape holds no reference cycles).
struct Saved {
    let storage: Storage
    let shape: [Int]
    let dtype: DType
}

/// A tape node: a variable (op == nil) or a recorded op. Nodes reference their inputs'
/// entries and saved storages, never their outputs' handles.
final class Node {
    let id: Int
    let op: OpDef?
    let attrs: Attrs
    var inputs: [Entry?]
    let inputMeta: [(shape: [Int], dtype: DType)]
    let outputMeta: [(shape: [Int], dtype: DType)]
    var savedInputs: [Saved?]
    var savedOutputs: [Saved?]
    var aux: [Saved]
    /// Extra state for custom functions.
    var payload: AnyObject?
    /// Set when a non-retained backward released this node (or unmarked a null variable).
    var freed = false

    // Variable state.
    var gradReq: GradReq = .write
    var gradBuffer: NDArray?
    var freshGrad = false

    // Backward scratch.
    var mark = 0
    var needsGrad = false
    var pending: [NDArray?] = []

    var isVariable: Bool { op == nil }

    init(id: Int, op: OpDef?, attrs: Attrs, inputs: [Entry?], inputMeta: [(shape: [Int], dtype: DType)],
         outputMeta: [(shape: [Int], dtype: DType)], savedInputs: [Saved?], savedOutputs: [Saved?], aux: [Saved]) {
        self.id = id
        self.op = op
        self.attrs = attrs
        self.inputs = inputs
        self.inputMeta = inputMeta
        self.outputMeta = outputMeta
        self.savedInputs = savedInputs
        self.savedOutputs = savedOutputs
        self.aux = aux
    }

    /// A variable node for `array` with its gradient buffer.
    static func variable(id: Int, array: NDArray, gradBuffer: NDArray, gradReq: GradReq) -> Node {
        let meta = [(shape: array.shape, dtype: array.dtype)]
        let node = Node(id: id, op: nil, attrs: .empty, inputs: [], inputMeta: [], outputMeta: meta,
                        savedInputs: [], savedOutputs: [], aux: [])
        node.gradBuffer = gradBuffer
        node.gradReq = gradReq
        return node
    }

    /// Drops everything backward needed.
    func release() {
        freed = true
        inputs = []
        savedInputs = []
        savedOutputs = []
        aux = []
        payload = nil
    }

    deinit {
        // Tear long chains down iteratively so a deep graph cannot overflow the stack.
        var stack: [Node] = inputs.compactMap { $0?.node }
        inputs = []
        while var node = stack.popLast() {
            if isKnownUniquelyReferenced(&node) {
                stack.append(contentsOf: node.inputs.compactMap { $0?.node })
                node.inputs = []
            }
        }
    }
}

/// The recorded history of a head, as data (MXNet `get_symbol`).
public struct GraphSymbol: Sendable {
    public struct Node: Sendable {
        public let id: Int
        /// The op's wire name, or "null" for variables and constants.
        public let op: String
        /// `var<N>` for variables, `const<N>` for constant inputs, `node_<N>` for ops.
        public let name: String
        public let inputs: [Int]
        public let shape: [Int]
        public let dtype: DType
        public let gradReq: GradReq?
        public let isVariable: Bool
        /// For variables, the engine's variable id (`NDArray.variableID` of the marked array); nil otherwise.
        public let variableID: Int?

        /// A node as data (tests and renderers may build symbols by hand).
        public init(id: Int, op: String, name: String, inputs: [Int], shape: [Int], dtype: DType, gradReq: GradReq?, isVariable: Bool,
                    variableID: Int? = nil) {
            self.id = id
            self.op = op
            self.name = name
            self.inputs = inputs
            self.shape = shape
            self.dtype = dtype
            self.gradReq = gradReq
            self.isVariable = isVariable
            self.variableID = variableID
        }
    }
    /// Nodes in recording order; inputs refer to earlier ids.
    public let nodes: [Node]
    /// The node ids of the heads.
    public let heads: [Int]
    /// Names of the graph's leaf inputs, like `list_arguments()`.
    public var arguments: [String]

    /// A symbol as data.
    public init(nodes: [Node], heads: [Int], arguments: [String]) {
        self.nodes = nodes
        self.heads = heads
        self.arguments = arguments
    }
}
