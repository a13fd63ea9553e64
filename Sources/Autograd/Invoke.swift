extension Context {
    /// Runs an operator by MXNet name (or alias): the single entry point for every op.
    /// `out` writes the results into existing arrays (an in-place write under MXNet's §9 rules).
    public func invoke(_ op: String, _ inputs: [NDArray], _ params: [String: OpParam] = [:],
                       out: [NDArray]? = nil) throws(AutogradError) -> [NDArray] {
        // Internal ops (adjoints, custom-function nodes) are not part of the public catalog.
        guard let def = OpTable.byName[op], !def.hidden else {
            throw AutogradError(.unknownOperator, "Operator \(op) is not registered")
        }
        return try typed { try run(def, inputs, def.parse(params), out: out) }
    }

    /// Runs an op with parsed attributes, recording it when recording is on and an input is in a graph.
    func run(_ def: OpDef, _ inputs: [NDArray], _ attrs: Attrs, out: [NDArray]? = nil) throws -> [NDArray] {
        if def.variadic {
            guard !inputs.isEmpty else { throw AutogradError(.invalidArgument, "\(def.name): needs at least one input") }
        } else if inputs.count > def.inputNames.count || inputs.count < def.minInputs {
            throw AutogradError(.invalidArgument, "\(def.name): expects \(def.inputNames.count) inputs (\(def.inputNames.joined(separator: ", "))), got \(inputs.count)")
        }
        for x in inputs where x.context !== self {
            throw AutogradError(.invalidArgument, "\(def.name): input array belongs to another context")
        }
        if let out {
            try checkInplace(targets: out, inputs: inputs)
            let result = try def.forward(ForwardArgs(ctx: self, inputs: inputs, attrs: attrs)).outputs
            guard out.count == result.count else {
                throw AutogradError(.invalidArgument, "\(def.name): produces \(result.count) outputs, out has \(out.count)")
            }
            for (o, r) in zip(out, result) {
                guard o.shape == r.shape else {
                    throw AutogradError(.shapeMismatch, "\(def.name): out has shape \(shapeText(o.shape)), result has \(shapeText(r.shape))")
                }
                guard o.dtype == r.dtype else {
                    throw AutogradError(.dtypeMismatch, "\(def.name): out has dtype \(o.dtype.rawValue), result has \(r.dtype.rawValue)")
                }
                Kernels.assign(o, from: r)
            }
            return out
        }
        let result = try def.forward(ForwardArgs(ctx: self, inputs: inputs, attrs: attrs))
        if isRecording, inputs.contains(where: { $0.isInGraph }) {
            if def.vjp != nil {
                record(def, inputs, attrs, result)
            } else {
                for y in result.outputs { y.nonDifferentiableOp = def.name }
            }
        }
        return result.outputs
    }

    /// Appends a node for an op that just ran and links its outputs to it.
    func record(_ def: OpDef, _ inputs: [NDArray], _ attrs: Attrs, _ result: ForwardResult, payload: AnyObject? = nil) {
        let saveIn = def.saves.contains(.inputs), saveOut = def.saves.contains(.outputs)
        let node = Node(
            id: newNodeID(), op: def, attrs: attrs,
            inputs: inputs.map { $0.isInGraph ? $0.entry : nil },
            inputMeta: inputs.map { ($0.shape, $0.dtype) },
            outputMeta: result.outputs.map { ($0.shape, $0.dtype) },
            savedInputs: saveIn ? inputs.map { Saved(storage: $0.storage, shape: $0.shape, dtype: $0.dtype) } : [],
            savedOutputs: saveOut ? result.outputs.map { Saved(storage: $0.storage, shape: $0.shape, dtype: $0.dtype) } : [],
            aux: result.aux.map { Saved(storage: $0.storage, shape: $0.shape, dtype: $0.dtype) })
        node.payload = payload
        for (i, y) in result.outputs.enumerated() { y.entry = Entry(node: node, index: i) }
    }

    /// Internal call by op name with already-typed attribute values.
    @inline(__always)
    func call(_ def: OpDef, _ inputs: [NDArray], _ attrs: Attrs? = nil) throws -> NDArray {
        try run(def, inputs, attrs ?? def.defaults!)[0]
    }
}
