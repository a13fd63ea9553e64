/// What a custom function's callbacks see: the context and the tensors saved for backward.
public final class FunctionContext {
    /// The engine context the function runs in.
    public let context: Context
    /// Tensors stored by `saveForBackward` (detached handles sharing memory, so no cycles).
    public private(set) var savedTensors: [NDArray] = []

    init(context: Context) { self.context = context }

    /// Stores arrays for the backward callback (MXNet `save_for_backward`).
    public func saveForBackward(_ arrays: NDArray...) {
        savedTensors = arrays.map { context.detach($0) }
    }
}

/// Custom differentiable function (MXNet `autograd.Function`). Callable once per instance.
/// `forward` runs with recording off; `backward` receives one gradient per output and must
/// return one gradient per input.
public final class Function {
    let forward: (FunctionContext, [NDArray]) throws -> [NDArray]
    let backward: (FunctionContext, [NDArray]) throws -> [NDArray]
    var used = false
    var functionContext: FunctionContext?

    /// `forward` maps inputs to outputs; `backward` maps one gradient per output to one per input.
    public init(forward: @escaping (FunctionContext, [NDArray]) throws -> [NDArray],
                backward: @escaping (FunctionContext, [NDArray]) throws -> [NDArray]) {
        self.forward = forward
        self.backward = backward
    }
}

/// The recorded node of a custom function: every input feeds every output; the VJP calls
/// the user's backward.
let customFunctionOp = OpDef("_CustomFunction", inputs: ["data"], variadic: true, summary: "a custom Function call",
                             hidden: true, forward: { _ in preconditionFailure("custom functions run through Context.apply") },
                             vjp: { a in
    guard let f = a.payload as? Function, let fc = f.functionContext else { return a.needs.map { _ in nil } }
    let wasRecording = a.ctx.setRecording(false)
    defer { a.ctx.setRecording(wasRecording) }
    let grads: [NDArray]
    do { grads = try f.backward(fc, a.grads) } catch let e as AutogradError { throw e } catch {
        throw AutogradError(.functionBadGradients, "Function backward failed: \(error)")
    }
    guard grads.count == a.inputMeta.count else {
        throw AutogradError(.functionBadGradients, "Function backward returned \(grads.count) gradients, expected \(a.inputMeta.count) (one per input)")
    }
    for (i, (g, m)) in zip(grads, a.inputMeta).enumerated() where g.shape != m.shape {
        throw AutogradError(.functionBadGradients, "Function backward returned a gradient of shape \(shapeText(g.shape)) for input \(i) of shape \(shapeText(m.shape))")
    }
    return grads
})

extension Context {
    /// Calls a custom function: forward with recording off; if recording was on, one node links
    /// all inputs to all outputs.
    public func apply(_ function: Function, _ inputs: [NDArray]) throws(AutogradError) -> [NDArray] {
        guard !function.used else { throw AutogradError(.functionReused, MXNetText.functionReused) }
        function.used = true
        let fc = FunctionContext(context: self)
        function.functionContext = fc
        let wasRecording = setRecording(false)
        let outputs: [NDArray]
        do {
            defer { setRecording(wasRecording) }
            do { outputs = try function.forward(fc, inputs) } catch let e as AutogradError { throw e } catch {
                throw AutogradError(.invalidArgument, "Function forward failed: \(error)")
            }
        }
        guard wasRecording, !inputs.isEmpty else { return outputs }
        // Linking sets each output's graph entry: outputs that are inputs or already have history
        // get their own handle so that their existing marks are left alone.
        let linked = outputs.map { o in o.entry != nil || inputs.contains { $0 === o } ? detach(o) : o }
        record(customFunctionOp, inputs, .empty, ForwardResult(linked), payload: function)
        return linked
    }

    /// The recorded history of `head` as data (MXNet `get_symbol`).
    public func symbol(of head: NDArray) throws(AutogradError) -> GraphSymbol {
        guard let root = head.entry?.node, !root.freed else { throw AutogradError(.notPartOfGraph, MXNetText.notPartOfGraph) }
        epoch += 1
        let stamp = epoch
        var order: [Node] = [], stack = [root]
        root.mark = stamp
        while let n = stack.popLast() {
            order.append(n)
            for e in n.inputs { if let m = e?.node, m.mark != stamp { m.mark = stamp; stack.append(m) } }
        }
        order.sort { $0.id < $1.id }
        var nodes: [GraphSymbol.Node] = [], index: [ObjectIdentifier: Int] = [:], arguments: [String] = []
        var constants = 0
        for n in order {
            var inputs: [Int] = []
            for (k, e) in n.inputs.enumerated() {
                if let e, let i = index[ObjectIdentifier(e.node)] { inputs.append(i); continue }
                let meta = n.inputMeta[k]
                let name = "const\(constants)"
                constants += 1
                nodes.append(.init(id: nodes.count, op: "null", name: name, inputs: [], shape: meta.shape, dtype: meta.dtype,
                                   gradReq: nil, isVariable: false))
                arguments.append(name)
                inputs.append(nodes.count - 1)
            }
            let meta = n.outputMeta[0]
            let name = n.isVariable ? "var\(n.id)" : "node_\(n.id)"
            if n.isVariable { arguments.append(name) }
            index[ObjectIdentifier(n)] = nodes.count
            nodes.append(.init(id: nodes.count, op: n.op?.name ?? "null", name: name, inputs: inputs, shape: meta.shape,
                               dtype: meta.dtype, gradReq: n.isVariable ? n.gradReq : nil, isVariable: n.isVariable,
                               variableID: n.isVariable ? n.id : nil))
        }
        return GraphSymbol(nodes: nodes, heads: [index[ObjectIdentifier(root)]!], arguments: arguments)
    }
}
