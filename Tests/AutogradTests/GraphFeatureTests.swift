import Testing
@testable import Autograd

@Suite struct DetachTests {
    @Test("detach shares memory and has no history")
    func sharesMemory() throws {
        let c = Context()
        let x = try c.a([1, 2])
        c.attachGrad(x)
        let d = c.detach(x)
        try c.assign(d, from: try c.a([9]))
        #expect(x.toDoubles() == [9, 9])
        #expect(d.grad == nil && !d.isInGraph)
    }

    @Test("detach blocks the gradient: detach(x²)·x has gradient x²")
    func blocks() throws {
        let c = Context()
        let x = try c.a([2, 3])
        c.attachGrad(x)
        let y = try c.record { try c.detach(x * x) * x }
        try c.backward([y])
        #expect(x.grad?.toDoubles() == [4, 9])
    }

    @Test("BlockGrad is recorded with a zero gradient: BlockGrad(p)*2 + p has gradient 1")
    func blockGrad() throws {
        let c = Context()
        let p = try c.a([2, 3])
        c.attachGrad(p)
        let y = try c.record { try c.f("BlockGrad", p) * 2 + p }
        try c.backward([y])
        #expect(p.grad?.toDoubles() == [1, 1])
        let s = try c.record { try c.f("stop_gradient", p) * p }
        #expect(s.isInGraph)
        try c.backward([s])
        #expect(p.grad?.toDoubles() == [2, 3])
    }

    @Test("make_loss uses ones instead of the head gradient")
    func makeLoss() throws {
        let c = Context()
        let p = try c.a([2])
        c.attachGrad(p)
        let y = try c.record { try c.f("make_loss", p * 3) }
        try c.backward([y], headGrads: [try c.a([100])])
        #expect(p.grad?.toDoubles() == [3])
    }
}

@Suite struct FunctionTests {
    /// f(x, y) = (x / y, x · y) with a hand-written backward.
    func divMul() -> Function {
        Function(forward: { fc, xs in
            #expect(!fc.context.isRecording)
            fc.saveForBackward(xs[0], xs[1])
            return [try xs[0] / xs[1], try xs[0] * xs[1]]
        }, backward: { fc, gs in
            let x = fc.savedTensors[0], y = fc.savedTensors[1]
            let dx = try gs[0] / y + gs[1] * y
            let dy = try (0 - gs[0]) * x / (y * y) + gs[1] * x
            return [dx, dy]
        })
    }

    @Test("a custom Function reproduces the built-in gradients of x/y and x·y")
    func matchesBuiltIn() throws {
        let c = Context()
        let x = try c.a([0.5, 1, 2], nil, .float64), y = try c.a([1.5, -2, 4], nil, .float64)
        c.attachGrad(x)
        c.attachGrad(y)
        let outs = try c.record { try c.apply(divMul(), [x, y]) }
        #expect(c.isRecording == false)
        try c.backward(outs, headGrads: [try c.a([1, 2, 3], nil, .float64), try c.a([-1, 1, 0.5], nil, .float64)])
        let fx = x.grad!.toDoubles(), fy = y.grad!.toDoubles()
        let built = try c.record { [try x / y, try x * y] }
        try c.backward(built, headGrads: [try c.a([1, 2, 3], nil, .float64), try c.a([-1, 1, 0.5], nil, .float64)])
        #expect(close(fx, x.grad!.toDoubles(), tol: 1e-12))
        #expect(close(fy, y.grad!.toDoubles(), tol: 1e-12))
    }

    @Test("a Function instance can be called once")
    func once() throws {
        let c = Context()
        let f = divMul()
        _ = try c.apply(f, [try c.a([1]), try c.a([2])])
        expectError(.functionReused, "Each Function instance can only be called once. Please create another instance.") {
            _ = try c.apply(f, [try c.a([1]), try c.a([2])])
        }
    }

    @Test("a backward returning the wrong number of gradients gives a clear error")
    func badGradients() throws {
        let c = Context()
        let x = try c.a([1])
        c.attachGrad(x)
        let f = Function(forward: { _, xs in [try xs[0] * 2] }, backward: { _, gs in [gs[0], gs[0]] })
        let y = try c.record { try c.apply(f, [x])[0] }
        expectError(.functionBadGradients, "Function backward returned 2 gradients, expected 1 (one per input)") { try c.backward([y]) }
    }

    @Test("Functions chained five times on a plain array inside record do not crash; outputs are plain outside record")
    func chained() throws {
        let c = Context()
        var v = try c.a([1, 2])
        try c.record {
            for _ in 0..<5 {
                let f = Function(forward: { _, xs in [try xs[0] + 1] }, backward: { _, gs in gs })
                v = try c.apply(f, [v])[0]
            }
        }
        #expect(v.toDoubles() == [6, 7])
        let w = try c.a([1])
        c.attachGrad(w)
        let g = Function(forward: { _, xs in [try xs[0] + 1] }, backward: { _, gs in gs })
        #expect(!(try c.apply(g, [w])[0]).isInGraph, "recording off: plain output")
    }
}

@Suite struct SymbolTests {
    @Test("get_symbol of x*x + 2x - 1 has one argument and MXNet's op names")
    func oneArgument() throws {
        let c = Context()
        let x = try c.a([1, 2])
        c.attachGrad(x)
        let y = try c.record { try x * x + x * 2 - 1 }
        let s = try c.symbol(of: y)
        #expect(s.arguments.count == 1 && s.arguments[0].hasPrefix("var"))
        #expect(s.nodes.filter { !$0.isVariable }.map(\.op) == ["broadcast_mul", "_mul_scalar", "broadcast_add", "_minus_scalar"])
        #expect(s.nodes.filter { !$0.isVariable }.allSatisfy { $0.name.hasPrefix("node_") })
        #expect(s.heads == [s.nodes.count - 1])
        #expect(s.nodes[0].gradReq == .write && s.nodes[0].op == "null")
        let z = try c.a([3, 4])
        c.attachGrad(z)
        let w = try c.record { try x * x + z }
        #expect(try c.symbol(of: w).arguments.count == 2)
    }

    @Test("get_symbol on an array with no history fails with MXNet's text")
    func notInGraph() throws {
        let c = Context()
        expectError(.notPartOfGraph, "NDArray is not part of a computation graph. Did you forget to turn on recording?") {
            _ = try c.symbol(of: try c.a([1]))
        }
    }
}

@Suite struct InplaceTests {
    @Test("inside record, writing to an array in a graph gives MXNet's first error")
    func targetInGraph() throws {
        let c = Context()
        let x = try c.a([1, 2])
        c.attachGrad(x)
        let text = "Assigning to NDArrays that are already in a computational graph will cause undefined behavior when evaluating gradients. Please call backward first to clear the graph or do this out side of a record section. Also note that you cannot use inplace operations like +=, *=, relu(x, out=x), y[idx]=x, etc inside a record section."
        try c.record {
            expectError(.inplaceOnGraphArray, text) { _ = try c.invoke("_plus_scalar", [x], ["scalar": .int(1)], out: [x]) }
            expectError(.inplaceOnGraphArray, text) { try c.assign(x, from: try c.a([0])) }
            let y = try x * 2
            expectError(.inplaceOnGraphArray, text) { try c.assign(y, from: try c.a([10, 10])) }
            expectError(.inplaceOnGraphArray, text) { _ = try c.invoke("relu", [x], out: [y]) }
        }
    }

    @Test("inside record, writing a graph array into a plain one gives MXNet's second error; plain-only writes run")
    func otherInGraph() throws {
        let c = Context()
        let x = try c.a([1, 2]), plain = try c.a([5, 5])
        c.attachGrad(x)
        try c.record {
            expectError(.inplaceWhileRecording, "Inplace operations (+=, -=, x[:]=, etc) are not supported when recording with autograd.") {
                _ = try c.invoke("broadcast_add", [plain, x], out: [plain])
            }
            _ = try c.invoke("_plus_scalar", [plain], ["scalar": .int(1)], out: [plain])
        }
        #expect(plain.toDoubles() == [6, 6])
        _ = try c.invoke("broadcast_add", [x, x], out: [x])
        #expect(x.toDoubles() == [2, 4])
    }
}
