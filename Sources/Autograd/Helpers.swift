/// Internal shorthands over the op table, used by VJPs so every gradient rule is written with
/// the public differentiable ops (and is therefore recorded under `createGraph`).
enum Prim {
    static let add = OpTable.get("broadcast_add")
    static let sub = OpTable.get("broadcast_sub")
    static let mul = OpTable.get("broadcast_mul")
    static let div = OpTable.get("broadcast_div")
    static let mulScalar = OpTable.get("_mul_scalar")
    static let plusScalar = OpTable.get("_plus_scalar")
    static let powerScalar = OpTable.get("_power_scalar")
    static let sum = OpTable.get("sum")
    static let reshape = OpTable.get("reshape")
    static let cast = OpTable.get("cast")
    static let copy = OpTable.get("_copy")
    static let broadcastTo = OpTable.get("broadcast_to")
}

extension Context {
    /// Runs a single-output op by name with JSON-style parameters.
    func op(_ name: String, _ inputs: [NDArray], _ params: [String: OpParam] = [:]) throws -> NDArray {
        let def = OpTable.get(name)
        return try run(def, inputs, def.parse(params))[0]
    }

    func add(_ a: NDArray, _ b: NDArray) throws -> NDArray { try call(Prim.add, [a, b]) }
    func sub(_ a: NDArray, _ b: NDArray) throws -> NDArray { try call(Prim.sub, [a, b]) }
    func mul(_ a: NDArray, _ b: NDArray) throws -> NDArray { try call(Prim.mul, [a, b]) }
    func div(_ a: NDArray, _ b: NDArray) throws -> NDArray { try call(Prim.div, [a, b]) }
    func scale(_ a: NDArray, _ s: Double) throws -> NDArray {
        try run(Prim.mulScalar, [a], Attrs(names: Prim.mulScalar.defaults!.names, values: [.double(s)]))[0]
    }
    func shift(_ a: NDArray, _ s: Double) throws -> NDArray {
        try run(Prim.plusScalar, [a], Attrs(names: Prim.plusScalar.defaults!.names, values: [.double(s)]))[0]
    }
    func neg(_ a: NDArray) throws -> NDArray { try scale(a, -1) }
    func powScalar(_ a: NDArray, _ s: Double) throws -> NDArray {
        try run(Prim.powerScalar, [a], Attrs(names: Prim.powerScalar.defaults!.names, values: [.double(s)]))[0]
    }
    func unary(_ name: String, _ a: NDArray) throws -> NDArray { try op(name, [a]) }
    /// A 0/1 mask (never recorded: comparisons are not differentiable).
    func compare(_ name: String, _ a: NDArray, _ b: NDArray) throws -> NDArray { try op(name, [a, b]) }
    func compareScalar(_ name: String, _ a: NDArray, _ s: Double) throws -> NDArray { try op(name, [a], ["scalar": .double(s)]) }

    func sum(_ a: NDArray, axes: [Int]?, keepdims: Bool = false) throws -> NDArray {
        try run(Prim.sum, [a], Attrs(names: ["axis", "keepdims", "exclude"],
                                     values: [axes.map { .ints($0) } ?? .none, .bool(keepdims), .bool(false)]))[0]
    }
    func reshape(_ a: NDArray, _ shape: [Int]) throws -> NDArray {
        if a.shape == shape && !isRecording { return a }
        return try run(Prim.reshape, [a], Attrs(names: ["shape", "reverse"], values: [.ints(shape), .bool(false)]))[0]
    }
    func cast(_ a: NDArray, _ dtype: DType) throws -> NDArray {
        try run(Prim.cast, [a], Attrs(names: ["dtype"], values: [.dtype(dtype)]))[0]
    }
    func copy(_ a: NDArray) throws -> NDArray { try call(Prim.copy, [a]) }
    func broadcastTo(_ a: NDArray, _ shape: [Int]) throws -> NDArray {
        try run(Prim.broadcastTo, [a], Attrs(names: ["shape"], values: [.ints(shape)]))[0]
    }
    func ones(_ shape: [Int], _ dtype: DType) throws -> NDArray {
        let a = try empty(shape, dtype)
        Kernels.fill(a, 1)
        return a
    }
}

/// An index value (float or int) as an Int, truncated toward zero; NaN and huge values are
/// clamped so conversion never traps.
func indexInt(_ v: Double) -> Int {
    guard v.isFinite else { return v.isNaN ? 0 : (v > 0 ? Int(1 << 53) : -Int(1 << 53)) }
    return Int(min(max(v, -0x1p53), 0x1p53).rounded(.towardZero))
}

/// Product of dimensions, or nil on overflow.
func checkedProduct(_ dims: [Int]) -> Int? {
    var n = 1
    for d in dims {
        let (p, o) = n.multipliedReportingOverflow(by: d)
        if o { return nil }
        n = p
    }
    return n
}

/// Normalises a possibly negative axis, or throws MXNet-style.
func normAxis(_ axis: Int, _ ndim: Int, _ op: String) throws -> Int {
    let a = axis < 0 ? axis + ndim : axis
    guard a >= 0 && a < ndim else {
        throw AutogradError(.invalidParameter, "\(op): axis \(axis) is out of bounds for an array of dimension \(ndim)")
    }
    return a
}
