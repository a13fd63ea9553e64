/// A handle to an array: shape, dtype, shared storage and (optionally) a place in a recorded
/// graph. Identity matters: gradient buffers alias, `detach` shares memory, `out:` writes in place.
/// Not `Sendable`: an array is confined to its context's thread.
public final class NDArray {
    let context: Context
    let storage: Storage
    /// Dimensions, row-major.
    public let shape: [Int]
    /// Element type.
    public let dtype: DType
    /// Number of elements.
    public let size: Int
    /// This array's node in a recorded graph (a variable or an op output), if any.
    var entry: Entry?
    /// Set when a non-differentiable op made this array from graph inputs while recording,
    /// so differentiating it can say which op has no gradient.
    var nonDifferentiableOp: String?

    init(context: Context, storage: Storage, shape: [Int], dtype: DType, entry: Entry? = nil) {
        self.context = context
        self.storage = storage
        self.shape = shape
        self.dtype = dtype
        self.size = shape.reduce(1, *)
        self.entry = entry
        storage.retainHandle()
    }

    deinit { storage.releaseHandle() }

    /// Bytes of the values.
    public var byteCount: Int { size * dtype.byteSize }
    /// Number of dimensions.
    public var ndim: Int { shape.count }

    /// The live variable node behind this array, if it is a marked variable.
    var variableNode: Node? {
        guard let node = entry?.node, node.isVariable, !node.freed else { return nil }
        return node
    }

    /// Identifies the variable node behind a marked array (matches `GraphSymbol.Node.variableID`);
    /// nil if the array is not a marked variable.
    public var variableID: Int? { variableNode?.id }

    /// The gradient buffer (aliases it: later backwards show through); nil if not marked.
    public var grad: NDArray? { variableNode?.gradBuffer }

    /// The variable's grad_req, nil if the array is not a marked variable.
    public var gradReq: GradReq? { variableNode?.gradReq }

    /// True for a marked variable or the output of a recorded op whose graph is still alive.
    public var isInGraph: Bool { entry.map { !$0.node.freed } ?? false }

    /// MXNet's `_fresh_grad`: false after marking, set to true by each backward that writes the buffer.
    public var freshGrad: Bool {
        get { variableNode?.freshGrad ?? false }
        set { variableNode?.freshGrad = newValue }
    }

    /// The values converted to Double, row-major.
    public func toDoubles() -> [Double] {
        switch dtype {
        case .float32: return storage.typed(Float.self, count: size).map(Double.init)
        case .float64: return Array(storage.typed(Double.self, count: size))
        case .int32: return storage.typed(Int32.self, count: size).map(Double.init)
        case .int64: return storage.typed(Int64.self, count: size).map(Double.init)
        case .uint8: return storage.typed(UInt8.self, count: size).map(Double.init)
        }
    }

    /// The raw little-endian, row-major bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.data, count: byteCount))
    }

    @inline(__always) func buffer<T>(_: T.Type) -> UnsafeMutableBufferPointer<T> {
        storage.typed(T.self, count: size)
    }
}

extension NDArray: CustomStringConvertible {
    /// Shape, dtype and (for small arrays) the values.
    public var description: String {
        let values = size <= 16 ? toDoubles().map { "\($0)" }.joined(separator: ", ") : "..."
        return "NDArray(\(shapeText(shape)) \(dtype.rawValue): [\(values)])"
    }
}
