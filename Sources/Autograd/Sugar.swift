/// Convenience Swift spellings over `Context.invoke` (tests, benchmarks). They follow MXNet's
/// Python dispatch: array-array operators call `broadcast_*`, array-scalar ones the `_*_scalar` ops.
extension NDArray {
    public static func + (a: NDArray, b: NDArray) throws(AutogradError) -> NDArray { try a.context.binaryCall(Prim.add, a, b) }
    public static func - (a: NDArray, b: NDArray) throws(AutogradError) -> NDArray { try a.context.binaryCall(Prim.sub, a, b) }
    public static func * (a: NDArray, b: NDArray) throws(AutogradError) -> NDArray { try a.context.binaryCall(Prim.mul, a, b) }
    public static func / (a: NDArray, b: NDArray) throws(AutogradError) -> NDArray { try a.context.binaryCall(Prim.div, a, b) }
    public static func + (a: NDArray, s: Double) throws(AutogradError) -> NDArray { try typed { try a.context.shift(a, s) } }
    public static func - (a: NDArray, s: Double) throws(AutogradError) -> NDArray { try a.context.invoke("_minus_scalar", [a], ["scalar": .double(s)])[0] }
    public static func * (a: NDArray, s: Double) throws(AutogradError) -> NDArray { try typed { try a.context.scale(a, s) } }
    public static func / (a: NDArray, s: Double) throws(AutogradError) -> NDArray { try a.context.invoke("_div_scalar", [a], ["scalar": .double(s)])[0] }
    public static func + (s: Double, a: NDArray) throws(AutogradError) -> NDArray { try a + s }
    public static func * (s: Double, a: NDArray) throws(AutogradError) -> NDArray { try a * s }
    public static func - (s: Double, a: NDArray) throws(AutogradError) -> NDArray { try a.context.invoke("_rminus_scalar", [a], ["scalar": .double(s)])[0] }
    public static func / (s: Double, a: NDArray) throws(AutogradError) -> NDArray { try a.context.invoke("_rdiv_scalar", [a], ["scalar": .double(s)])[0] }
    public static prefix func - (a: NDArray) throws(AutogradError) -> NDArray { try a * -1 }
}

extension Context {
    fileprivate func binaryCall(_ def: OpDef, _ a: NDArray, _ b: NDArray) throws(AutogradError) -> NDArray {
        try typed { try call(def, [a, b]) }
    }

    /// Runs a single-output op by name (a shorthand for `invoke(...)[0]`).
    public func callAsFunction(_ op: String, _ inputs: NDArray..., params: [String: OpParam] = [:]) throws(AutogradError) -> NDArray {
        try invoke(op, inputs, params)[0]
    }
}
