import Testing
@testable import Autograd

/// Ports of MXNet 1.9.1's tier-1 `test_autograd.py` cases not covered elsewhere.
@Suite struct UpstreamTests {
    @Test("test_operator_with_state: FullyConnected(a*b, W, bias, 32) backward reaches all four inputs")
    func operatorWithState() throws {
        let c = Context()
        var rng = TestRNG(1)
        func r(_ s: [Int]) throws -> NDArray { try c.a((0..<s.reduce(1, *)).map { _ in rng.uniform(-1, 1) }, s) }
        let a = try r([4, 10]), b = try r([4, 10]), w = try r([32, 10]), bias = try r([32])
        for v in [a, b, w, bias] { c.attachGrad(v) }
        let y = try c.record { try c.f("FullyConnected", a * b, w, bias, p: ["num_hidden": .int(32)]) }
        try c.backward([y])
        for v in [a, b, w, bias] { #expect(v.grad!.toDoubles().contains { $0 != 0 }) }
        #expect(close(bias.grad!.toDoubles(), Array(repeating: 4, count: 32)))
    }

    @Test("test_argnum: only the marked arguments get gradients, and the recorded branch is the one taken")
    func argnum() throws {
        let c = Context()
        let a = try c.a([1, 2]), b = try c.a([3, 4])
        for useMul in [false, true] {
            c.attachGrad(b)
            let y = try c.record { useMul ? try a * b : try a + b }
            try c.backward([y])
            #expect(b.grad?.toDoubles() == (useMul ? [1, 2] : [1, 1]))
            #expect(a.grad == nil)
        }
    }

    @Test("test_detach_updated_grad: backward sets fresh_grad; after detach no gradient flows and the flag stays false")
    func detachUpdatedGrad() throws {
        let c = Context()
        let x = try c.f("ones", p: ["shape": .list([.int(2), .int(2)])])
        let dx = try c.f("zeros_like", x)
        let y = try c.f("ones_like", x)
        let dy = try c.f("zeros_like", x)
        try c.markVariables([x, y], gradients: [dx, dy], gradReqs: [.write])
        #expect(!x.freshGrad && !y.freshGrad)
        var z = try c.record { try x + y }
        try c.backward([z])
        #expect(dx.toDoubles() == [1, 1, 1, 1] && x.freshGrad && y.freshGrad)
        x.freshGrad = false
        y.freshGrad = false
        try c.assign(dx, from: try c.a([0]))
        z = try c.record { try c.detach(x) + y }
        try c.backward([z])
        #expect(dx.toDoubles() == [0, 0, 0, 0])
        #expect(!x.freshGrad && y.freshGrad)
    }

    @Test("test_attach_grad: backward with out_grad ones gives 2 for x*2")
    func attachGrad() throws {
        let c = Context()
        let x = try c.f("zeros", p: ["shape": .list([.int(10)])])
        #expect(x.grad == nil)
        c.attachGrad(x)
        let y = try c.record { try x * 2 }
        #expect(y.grad == nil)
        try c.backward([y], headGrads: [try c.f("ones_like", y)])
        #expect(x.grad!.toDoubles().allSatisfy { $0 == 2 })
    }

    @Test("test_higher_order: log, reciprocal and sigmoid closed forms through create_graph")
    func higherOrderClosedForms() throws {
        let c = Context()
        let v: [Double] = [0.5, 1.5, 3]
        func second(_ op: String) throws -> [Double] {
            let x = try c.a(v, nil, .float64)
            c.attachGrad(x)
            let d1 = try c.record { try c.grad([c.f(op, x)], variables: [x], createGraph: true)[0] }
            return try c.grad([d1], variables: [x])[0].toDoubles()
        }
        #expect(close(try second("log"), v.map { -1 / ($0 * $0) }, tol: 1e-12))
        #expect(close(try second("reciprocal"), v.map { 2 / ($0 * $0 * $0) }, tol: 1e-12))
        let s = v.map { 1 / (1 + Glibc.exp(-$0)) }
        #expect(close(try second("sigmoid"), s.map { $0 * (1 - $0) * (1 - 2 * $0) }, tol: 1e-12))
        #expect(close(try second("relu"), [0, 0, 0]))
    }
}

import Glibc

@Suite struct DispatchTests {
    @Test("Python-style dispatch: array operators call broadcast_*, scalars the _*_scalar ops, -x is _mul_scalar(-1)")
    func dispatch() throws {
        let c = Context()
        let x = try c.a([1, 2])
        c.attachGrad(x)
        let y = try c.record { try (-x) / 2 - x / x + (3 - x) * (1 / x) }
        let ops = try c.symbol(of: y).nodes.filter { !$0.isVariable }.map(\.op)
        #expect(ops == ["_mul_scalar", "_div_scalar", "broadcast_div", "broadcast_sub", "_rminus_scalar", "_rdiv_scalar", "broadcast_mul", "broadcast_add"])
    }

    @Test("a Function whose forward returns a variable leaves that variable's mark alone")
    func functionReturnsVariable() throws {
        let c = Context()
        let x = try c.a([1]), w = try c.a([2])
        c.attachGrad(x)
        c.attachGrad(w)
        let f = Function(forward: { _, _ in [w] }, backward: { _, gs in gs })
        let y = try c.record { try c.apply(f, [x])[0] }
        #expect(w.gradReq == .write && y !== w && y.isInGraph)
    }
}
