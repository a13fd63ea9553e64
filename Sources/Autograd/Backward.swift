extension Context {
    /// `autograd.backward`: accumulates d(heads)/d(variable) into every reachable variable's
    /// gradient buffer according to its grad_req. A nil head gradient means ones.
    public func backward(_ heads: [NDArray], headGrads: [NDArray?]? = nil, retainGraph: Bool = false,
                         trainMode: Bool = true) throws(AutogradError) {
        try typed {
            _ = try differentiate(heads, headGrads: headGrads, variables: nil, retainGraph: retainGraph,
                                  createGraph: false, trainMode: trainMode)
        }
    }

    /// `autograd.grad`: returns d(heads)/d(variables) as new arrays without touching `.grad`.
    /// `retainGraph` defaults to `createGraph`; with `createGraph` the results are recorded.
    public func grad(_ heads: [NDArray], variables: [NDArray], headGrads: [NDArray?]? = nil, retainGraph: Bool? = nil,
                     createGraph: Bool = false, trainMode: Bool = true) throws(AutogradError) -> [NDArray] {
        try typed {
            guard !variables.isEmpty else { throw AutogradError(.invalidArgument, MXNetText.emptyVariables) }
            return try differentiate(heads, headGrads: headGrads, variables: variables,
                                     retainGraph: retainGraph ?? createGraph, createGraph: createGraph, trainMode: trainMode)!
        }
    }

    /// The one backward pass behind `backward` (variables == nil) and `grad`.
    private func differentiate(_ heads: [NDArray], headGrads: [NDArray?]?, variables: [NDArray]?, retainGraph: Bool,
                               createGraph: Bool, trainMode: Bool) throws -> [NDArray]? {
        guard !heads.isEmpty else { throw AutogradError(.invalidArgument, "heads cannot be an empty list.") }
        for h in heads {
            guard let e = h.entry else {
                if let op = h.nonDifferentiableOp { throw AutogradError(.notDifferentiable, MXNetText.notDifferentiable(op)) }
                throw AutogradError(.notInGraph, MXNetText.notInGraph)
            }
            if e.node.freed { throw AutogradError(e.node.isVariable ? .notInGraph : .graphFreed, MXNetText.notInGraph) }
        }
        if let headGrads {
            guard headGrads.count == heads.count else { throw AutogradError(.invalidArgument, MXNetText.headGradsLength) }
            for (i, (h, g)) in zip(heads, headGrads).enumerated() {
                guard let g else { continue }
                guard g.shape == h.shape else {
                    throw AutogradError(.shapeMismatch, "head_grads[\(i)] has shape \(shapeText(g.shape)) but head \(i) has shape \(shapeText(h.shape))")
                }
                guard g.dtype == h.dtype else {
                    throw AutogradError(.dtypeMismatch, "head_grads[\(i)] has dtype \(g.dtype.rawValue) but head \(i) has dtype \(h.dtype.rawValue)")
                }
            }
        }

        // Reachable nodes; ids grow with recording order, so sorting by id is a topological order.
        epoch += 1
        let stamp = epoch
        var order: [Node] = []
        var stack: [Node] = []
        for h in heads where h.entry!.node.mark != stamp {
            h.entry!.node.mark = stamp
            stack.append(h.entry!.node)
        }
        while let n = stack.popLast() {
            order.append(n)
            for e in n.inputs {
                guard let m = e?.node, m.mark != stamp else { continue }
                if m.freed && !m.isVariable { throw AutogradError(.graphFreed, MXNetText.notInGraph) }
                m.mark = stamp
                stack.append(m)
            }
        }
        order.sort { $0.id < $1.id }

        // Which variables receive gradients.
        var targets: [Node] = []
        if let variables {
            for (i, v) in variables.enumerated() {
                guard let node = v.variableNode else { throw AutogradError(.variableNotAttached, MXNetText.variableNotAttached(i + 1)) }
                guard node.mark == stamp else { throw AutogradError(.variableUnreachable, MXNetText.variableUnreachable(i + 1)) }
                guard !targets.contains(where: { $0 === node }) else {
                    throw AutogradError(.invalidArgument, "variable \(i + 1) appears more than once in variables")
                }
                targets.append(node)
            }
        } else {
            targets = order.filter { $0.isVariable && !$0.freed && $0.gradReq != .null }
            guard !targets.isEmpty else { throw AutogradError(.noGradVariables, MXNetText.noGradVariables) }
        }
        for n in order {
            n.needsGrad = false
            n.pending = Array(repeating: nil, count: n.outputMeta.count)
        }
        for t in targets { t.needsGrad = true }
        for n in order where !n.isVariable {
            for e in n.inputs where e?.node.needsGrad == true {
                n.needsGrad = true
                break
            }
        }
        defer { for n in order { n.pending = []; n.needsGrad = false } }

        let savedRecording = setRecording(createGraph)
        let savedTraining = setTraining(trainMode)
        defer { setRecording(savedRecording); setTraining(savedTraining) }

        for (i, h) in heads.enumerated() {
            let e = h.entry!
            guard e.node.needsGrad else { continue }
            let seed: NDArray
            if let g = headGrads?[i] { seed = g } else { seed = try ones(h.shape, h.dtype) }
            try accumulate(seed, into: e)
        }

        for n in order.reversed() where n.needsGrad && !n.isVariable {
            guard n.pending.contains(where: { $0 != nil }), let op = n.op, let vjp = op.vjp else { continue }
            var grads: [NDArray] = []
            for (k, g) in n.pending.enumerated() {
                grads.append(try g ?? zeros(n.outputMeta[k].shape, n.outputMeta[k].dtype))
            }
            let args = VJPArgs(
                ctx: self,
                savedInputs: n.savedInputs.enumerated().map { k, s in s.map { handle($0, n.inputs[k]) } },
                savedOutputs: n.savedOutputs.enumerated().map { k, s in s.map { handle($0, Entry(node: n, index: k)) } },
                inputMeta: n.inputMeta, grads: grads,
                aux: n.aux.map { handle($0, nil) }, attrs: n.attrs,
                needs: n.inputs.map { $0?.node.needsGrad == true }, payload: n.payload)
            let inGrads = try vjp(args)
            for (k, e) in n.inputs.enumerated() {
                guard let e, e.node.needsGrad, k < inGrads.count, let g = inGrads[k] else { continue }
                try accumulate(unbroadcast(g, to: n.inputMeta[k].shape, dtype: n.inputMeta[k].dtype, op: op.name), into: e)
            }
        }

        var results: [NDArray]? = nil
        if variables != nil {
            results = try targets.map { t in
                let meta = t.outputMeta[0]
                let g = try t.pending[0] ?? zeros(meta.shape, meta.dtype)
                // Under createGraph a gradient that does not depend on the variables is still linked
                // to it, so differentiating it again gives zeros (as MXNet) rather than an error.
                if createGraph && !g.isInGraph, let v = variables?.first(where: { $0.entry?.node === t }) {
                    return try op("_grad_link", [g, v])
                }
                // Never hand back a caller's head-gradient array as a result.
                if let headGrads, headGrads.contains(where: { $0 === g }) { return try copy(g) }
                return g
            }
        } else {
            for t in targets {
                guard let buffer = t.gradBuffer else { continue }
                let g = t.pending[0]
                switch t.gradReq {
                case .write:
                    if let g { Kernels.assign(buffer, from: g) } else { Kernels.fill(buffer, 0) }
                case .add:
                    if let g { Kernels.addInPlace(buffer, g) }
                case .null:
                    break
                }
                t.freshGrad = true
            }
        }

        if !retainGraph {
            for n in order {
                if !n.isVariable { n.release() } else if n.gradReq == .null && variables == nil { n.freed = true }
            }
        }
        return results
    }

    /// A handle on saved storage, carrying its graph entry so VJPs can be recorded.
    private func handle(_ s: Saved, _ entry: Entry?) -> NDArray {
        NDArray(context: self, storage: s.storage, shape: s.shape, dtype: s.dtype, entry: entry)
    }

    private func accumulate(_ g: NDArray, into e: Entry) throws {
        if let old = e.node.pending[e.index] {
            e.node.pending[e.index] = try add(old, g)
        } else {
            e.node.pending[e.index] = g
        }
    }

    /// Sums a gradient back to its input's shape: the only place broadcasting is undone.
    func unbroadcast(_ g: NDArray, to shape: [Int], dtype: DType, op: String) throws -> NDArray {
        var g = g
        if g.shape != shape {
            if g.size != shape.reduce(1, *) {
                let lead = g.ndim - shape.count
                guard lead >= 0 else {
                    throw AutogradError(.shapeMismatch, "\(op): gradient of shape \(shapeText(g.shape)) cannot be reduced to \(shapeText(shape))")
                }
                var axes = Array(0..<lead)
                for (i, d) in shape.enumerated() where d == 1 && g.shape[lead + i] != 1 { axes.append(lead + i) }
                if !axes.isEmpty { g = try sum(g, axes: axes, keepdims: true) }
            }
            g = try reshape(g, shape)
        }
        if g.dtype != dtype { g = try cast(g, dtype) }
        return g
    }
}
