import Testing
@testable import Autograd

@Suite struct DTypeRuleTests {
    @Test("default dtype is float32; creation ops default to float32")
    func defaults() throws {
        let c = Context()
        #expect(try c.a([1]).dtype == .float32)
        for op in ["zeros", "ones"] { #expect(try c.f(op, p: ["shape": .list([.int(2)])]).dtype == .float32) }
        #expect(try c.f("full", p: ["shape": .list([.int(2)]), "value": .int(3)]).toDoubles() == [3, 3])
        #expect(try c.f("arange", p: ["start": .int(3)]).toDoubles() == [0, 1, 2])
        #expect(try c.f("arange", p: ["start": .int(1), "stop": .int(3), "step": .double(0.5), "repeat": .int(2)]).toDoubles()
                == [1, 1, 1.5, 1.5, 2, 2, 2.5, 2.5])
        let i = try c.a([1, 2], nil, .int64)
        #expect(try c.f("zeros_like", i).dtype == .int64 && c.f("ones_like", i).toDoubles() == [1, 1])
    }

    @Test("no implicit promotion: float32 + float64 fails with MXNet's text")
    func noPromotion() throws {
        let c = Context()
        expectError(.dtypeMismatch, "Incompatible attr in node  at 1-th input: expected float32, got float64") {
            _ = try c.a([1]) + c.a([1], nil, .float64)
        }
    }

    @Test("astype truncates toward zero; scalars take the array's dtype; int division is integer division")
    func intRules() throws {
        let c = Context()
        let x = try c.a([1.7, -1.7, 2.5])
        let i = try c.f("cast", x, p: ["dtype": .string("int32")])
        #expect(i.dtype == .int32 && i.toDoubles() == [1, -1, 2])
        #expect(try c.f("astype", x, p: ["dtype": .string("uint8")]).toDoubles() == [1, 0, 2])
        let plus = try i + 1.5
        #expect(plus.dtype == .int32 && plus.toDoubles() == [2, 0, 3])
        #expect(try (i / 2).toDoubles() == [0, 0, 1])
        #expect(try c.f("broadcast_mod", c.a([7, -7], nil, .int64), c.a([3, 3], nil, .int64)).toDoubles() == [1, 2])
        #expect(try c.f("_div_scalar", i, p: ["scalar": .int(0)]).toDoubles() == [0, 0, 0], "integer division by zero gives 0, never traps")
    }

    @Test("gradients keep the variable's dtype (int32 and float64), cast gradients are cast back")
    func gradDTypes() throws {
        let c = Context()
        let i = try c.a([1, 2], nil, .int32)
        c.attachGrad(i)
        let y = try c.record { try i * 3 }
        try c.backward([y])
        #expect(i.grad?.dtype == .int32 && i.grad?.toDoubles() == [3, 3])
        let x = try c.a([1, 2])
        c.attachGrad(x)
        let z = try c.record { try c.f("cast", x, p: ["dtype": .string("float64")]) * c.a([2, 4], nil, .float64) }
        try c.backward([z])
        #expect(x.grad?.dtype == .float32 && x.grad?.toDoubles() == [2, 4])
    }
}

@Suite struct ShapeRuleTests {
    @Test("elemwise requires equal shapes; broadcast ops broadcast; incompatible shapes fail with MXNet's texts")
    func broadcasting() throws {
        let c = Context()
        let a = try c.a([1, 2, 3, 4, 5, 6], [2, 3]), b = try c.a([1, 2, 3])
        expectError(.shapeMismatch, "Incompatible attr in node  at 1-th input: expected [2,3], got [3]") { _ = try c.f("elemwise_add", a, b) }
        #expect(try (a * b).toDoubles() == [1, 4, 9, 4, 10, 18])
        expectError(.shapeMismatch, "operands could not be broadcast together with shapes [2,3] [3,2]") {
            _ = try a + c.a([1, 2, 3, 4, 5, 6], [3, 2])
        }
    }

    @Test("broadcast operands get gradients summed back to their own shapes")
    func unbroadcast() throws {
        let c = Context()
        let a = try c.a([1, 2, 3, 4, 5, 6], [2, 3]), b = try c.a([1, 1, 1], [1, 3]), v = try c.a([1, 1, 1])
        for x in [a, b, v] { c.attachGrad(x) }
        let y = try c.record { try a * 2 + b * 2 + v * 2 }
        try c.backward([y])
        #expect(b.grad?.shape == [1, 3] && b.grad?.toDoubles() == [4, 4, 4])
        #expect(v.grad?.shape == [3] && v.grad?.toDoubles() == [4, 4, 4])
    }

    @Test("broadcast_to does not pad the rank; 0 keeps a dimension")
    func broadcastTo() throws {
        let c = Context()
        expectError(.shapeMismatch, "Operand of shape [3] cannot be broadcasted to [2,3]") {
            _ = try c.f("broadcast_to", c.a([1, 2, 3]), p: ["shape": .list([.int(2), .int(3)])])
        }
        let y = try c.f("broadcast_to", c.a([1, 2], [2, 1]), p: ["shape": .list([.int(0), .int(3)])])
        #expect(y.shape == [2, 3] && y.toDoubles() == [1, 1, 1, 2, 2, 2])
        #expect(try c.f("broadcast_like", c.a([1, 2], [1, 2]), c.a([0, 0, 0, 0], [2, 2])).toDoubles() == [1, 2, 1, 2])
    }

    @Test("reductions without axis, dot of vectors and argmax give shape (1,); argmax is float32")
    func oneShapes() throws {
        let c = Context()
        let x = try c.a([1, 5, 3, 2, 4, 6], [2, 3], .float64)
        for op in ["sum", "mean", "max", "min", "prod", "norm"] { #expect(try c.f(op, x).shape == [1], "\(op)") }
        #expect(try c.f("sum", x).toDoubles() == [21] && c.f("prod", x).toDoubles() == [720] && c.f("mean", x).toDoubles() == [3.5])
        #expect(try c.f("max", x, p: ["axis": .int(1)]).toDoubles() == [5, 6])
        #expect(try c.f("min", x, p: ["axis": .int(0), "keepdims": .bool(true)]).shape == [1, 3])
        #expect(try c.f("sum", x, p: ["axis": .int(0), "exclude": .bool(true)]).toDoubles() == [9, 12])
        #expect(try c.f("norm", x, p: ["ord": .int(1)]).toDoubles() == [21])
        #expect(try c.f("dot", c.a([1, 2]), c.a([3, 4])).shape == [1])
        let am = try c.f("argmax", x)
        #expect(am.shape == [1] && am.dtype == .float32 && am.toDoubles() == [5])
        #expect(try c.f("argmax", x, p: ["axis": .int(1)]).toDoubles() == [1, 2])
        #expect(try c.f("argmin", x, p: ["axis": .int(0), "keepdims": .bool(true)]).shape == [1, 3])
        #expect(try c.f("argmin", x, p: ["axis": .int(0)]).toDoubles() == [0, 1, 0])
    }

    @Test("max/min send the full gradient to every tie; maximum ties send it to both operands")
    func ties() throws {
        let c = Context()
        let x = try c.a([1, 3, 3]), y = try c.a([3, 1, 3])
        c.attachGrad(x)
        c.attachGrad(y)
        var r = try c.record { try c.f("max", x) }
        try c.backward([r])
        #expect(x.grad?.toDoubles() == [0, 1, 1])
        r = try c.record { try c.f("broadcast_maximum", x, y) }
        try c.backward([r])
        #expect(x.grad?.toDoubles() == [0, 1, 1] && y.grad?.toDoubles() == [1, 0, 1])
    }

    @Test("kink gradients: relu 0 at 0, abs 0 at 0, clip inclusive bounds, leaky slope at 0, sqrt +inf at 0")
    func kinks() throws {
        let c = Context()
        func g(_ op: String, _ v: [Double], _ p: [String: OpParam] = [:]) throws -> [Double] {
            let x = try c.a(v)
            c.attachGrad(x)
            let y = try c.record { try c.f(op, x, p: p) }
            try c.backward([y])
            return x.grad!.toDoubles()
        }
        #expect(try g("relu", [0, 1]) == [0, 1])
        #expect(try g("abs", [0, -2]) == [0, -1])
        #expect(try g("clip", [-1, 0, 1, 2], ["a_min": .int(0), "a_max": .int(1)]) == [0, 1, 1, 0])
        #expect(try g("LeakyReLU", [0, -1, 1], ["slope": .double(0.25)]) == [0.25, 0.25, 1])
        #expect(try g("sqrt", [0]) == [.infinity])
        #expect(try g("sign", [2]) == [0])
    }

    @Test("reshape special codes on (2,3,4) and the size error")
    func reshapeCodes() throws {
        let c = Context()
        let x = try c.f("zeros", p: ["shape": .list([.int(2), .int(3), .int(4)])])
        func r(_ s: [Int], reverse: Bool = false) throws -> [Int] {
            try c.f("reshape", x, p: ["shape": .list(s.map { .int($0) }), "reverse": .bool(reverse)]).shape
        }
        #expect(try r([0, -1]) == [2, 12])
        #expect(try r([-2]) == [2, 3, 4])
        #expect(try r([-3, 4]) == [6, 4])
        #expect(try r([-4, 1, 2, 0, 0]) == [1, 2, 3, 4])
        #expect(try r([4, -1]) == [4, 6])
        #expect(try r([-1, 0], reverse: true) == [6, 4])
        expectError(.shapeMismatch, "target shape size is larger than the current shape") { _ = try r([5, 5]) }
    }

    @Test("shape ops: transpose, swapaxes, expand_dims, squeeze, flatten, slice, slice_axis, tile, repeat")
    func shapeOps() throws {
        let c = Context()
        let x = try c.a((0..<6).map(Double.init), [2, 3])
        #expect(try c.f("transpose", x).toDoubles() == [0, 3, 1, 4, 2, 5])
        #expect(try c.f("swapaxes", x, p: ["dim1": .int(0), "dim2": .int(1)]).shape == [3, 2])
        #expect(try c.f("expand_dims", x, p: ["axis": .int(-1)]).shape == [2, 3, 1])
        #expect(try c.f("squeeze", c.a([1, 2], [1, 2, 1])).shape == [2])
        expectError(.invalidParameter) { _ = try c.f("squeeze", x, p: ["axis": .int(0)]) }
        #expect(try c.f("flatten", c.a([1, 2, 3, 4], [2, 1, 2])).shape == [2, 2])
        #expect(try c.f("slice", x, p: ["begin": .list([.int(0), .int(1)]), "end": .list([.null, .null])]).toDoubles() == [1, 2, 4, 5])
        #expect(try c.f("slice", x, p: ["begin": .list([.null, .null]), "end": .list([.null, .null]), "step": .list([.int(-1), .int(-2)])]).toDoubles() == [5, 3, 2, 0])
        #expect(try c.f("slice_axis", x, p: ["axis": .int(1), "begin": .int(-1), "end": .null]).toDoubles() == [2, 5])
        #expect(try c.f("tile", c.a([1, 2]), p: ["reps": .list([.int(2), .int(2)])]).toDoubles() == [1, 2, 1, 2, 1, 2, 1, 2])
        #expect(try c.f("repeat", c.a([1, 2]), p: ["repeats": .int(2)]).toDoubles() == [1, 1, 2, 2])
        #expect(try c.f("repeat", x, p: ["repeats": .int(2), "axis": .int(0)]).shape == [4, 3])
    }

    @Test("concat defaults to dim=1; stack; split with head grads [None, db, dc] places row gradients")
    func concatStackSplit() throws {
        let c = Context()
        let a = try c.a([1, 2], [2, 1]), b = try c.a([3, 4], [2, 1])
        #expect(try c.f("concat", a, b).toDoubles() == [1, 3, 2, 4])
        #expect(try c.f("stack", a, b).shape == [2, 2, 1])
        let x = try c.a((0..<6).map(Double.init), [3, 2])
        c.attachGrad(x)
        let parts = try c.record { try c.invoke("split", [x], ["num_outputs": .int(3), "axis": .int(0), "squeeze_axis": .bool(true)]) }
        #expect(parts.count == 3 && parts[1].shape == [2] && parts[1].toDoubles() == [2, 3])
        try c.backward(parts, headGrads: [nil, try c.a([5, 6]), try c.a([7, 8])])
        #expect(x.grad?.toDoubles() == [1, 1, 5, 6, 7, 8])
    }

    @Test("pick, one_hot, take, where, topk forward values")
    func indexOps() throws {
        let c = Context()
        let x = try c.a([1, 2, 3, 4, 5, 6], [2, 3])
        #expect(try c.f("pick", x, c.a([2, 0])).toDoubles() == [3, 4])
        #expect(try c.f("pick", x, c.a([5, -1])).toDoubles() == [3, 4], "clip mode")
        #expect(try c.f("one_hot", c.a([1, 0, 7]), p: ["depth": .int(3)]).toDoubles() == [0, 1, 0, 1, 0, 0, 0, 0, 0])
        #expect(try c.f("take", x, c.a([1, 0])).toDoubles() == [4, 5, 6, 1, 2, 3])
        #expect(try c.f("where", c.a([1, 0, 1, 0, 1, 0], [2, 3]), x, x * -1).toDoubles() == [1, -2, 3, -4, 5, -6])
        #expect(try c.f("topk", x, p: ["k": .int(2)]).toDoubles() == [2, 1, 2, 1])
        #expect(try c.f("topk", x, p: ["k": .int(1), "ret_typ": .string("value"), "axis": .int(0)]).toDoubles() == [4, 5, 6])
        #expect(try c.f("topk", x, p: ["k": .int(1), "ret_typ": .string("mask")]).toDoubles() == [0, 0, 1, 0, 0, 1])
        #expect(try c.invoke("topk", [x], ["k": .int(2), "ret_typ": .string("both"), "is_ascend": .bool(true)]).map { $0.toDoubles() }
                == [[1, 2, 4, 5], [0, 1, 0, 1]])
    }

    @Test("FullyConnected shapes: flatten, no flatten, MXNet's shape error")
    func fullyConnected() throws {
        let c = Context()
        let x = try c.f("ones", p: ["shape": .list([.int(2), .int(3), .int(4)])])
        let w = try c.f("ones", p: ["shape": .list([.int(7), .int(12)])]), b = try c.a(Array(repeating: 1, count: 7))
        let y = try c.f("FullyConnected", x, w, b, p: ["num_hidden": .int(7)])
        #expect(y.shape == [2, 7] && y.toDoubles().allSatisfy { $0 == 13 })
        let w4 = try c.f("ones", p: ["shape": .list([.int(7), .int(4)])])
        #expect(try c.f("FullyConnected", x, w4, b, p: ["num_hidden": .int(7), "flatten": .bool(false)]).shape == [2, 3, 7])
        expectError(.shapeMismatch, "Shape inconsistent, Provided = [7,4], inferred shape=(7,12)") {
            _ = try c.f("FullyConnected", x, w4, b, p: ["num_hidden": .int(7)])
        }
        #expect(try c.f("FullyConnected", x, w, p: ["num_hidden": .int(7), "no_bias": .bool(true)]).toDoubles().allSatisfy { $0 == 12 })
    }

    @Test("zero-size arrays work through ops and backward")
    func zeroSize() throws {
        let c = Context()
        let x = try c.a([], [0, 3])
        c.attachGrad(x)
        let y = try c.record { try c.f("sum", x * 2, p: ["axis": .int(0)]) }
        #expect(y.toDoubles() == [0, 0, 0])
        try c.backward([y])
        #expect(x.grad?.shape == [0, 3])
    }
}

@Suite struct OptimizerAndRandomTests {
    @Test("sgd_update, sgd_mom_update (mom in place), adam_update (no bias correction)")
    func optimizers() throws {
        let c = Context()
        let w = try c.a([1, 2], nil, .float64), g = try c.a([0.5, -4], nil, .float64)
        #expect(close(try c.f("sgd_update", w, g, p: ["lr": .double(0.1), "wd": .double(0.1), "clip_gradient": .double(1)]).toDoubles(),
                      [0.99 * 1 - 0.05, 0.99 * 2 + 0.1], tol: 1e-12))
        let mom = try c.a([1, 1], nil, .float64)
        let w2 = try c.f("sgd_mom_update", w, g, mom, p: ["lr": .double(0.1), "momentum": .double(0.9)])
        #expect(close(mom.toDoubles(), [0.9 - 0.05, 0.9 + 0.4], tol: 1e-12))
        #expect(close(w2.toDoubles(), [1 + 0.85, 2 + 1.3], tol: 1e-12))
        let m = try c.a([0, 0], nil, .float64), v = try c.a([0, 0], nil, .float64)
        let w3 = try c.f("adam_update", w, g, m, v, p: ["lr": .double(0.01)])
        #expect(close(m.toDoubles(), [0.05, -0.4], tol: 1e-12))
        #expect(close(v.toDoubles(), [0.001 * 0.25, 0.001 * 16], tol: 1e-12))
        let e0: Double = 1 - 0.01 * 0.05 / ((0.00025).squareRoot() + 1e-8)
        let e1: Double = 2 + 0.01 * 0.4 / ((0.016).squareRoot() + 1e-8)
        #expect(close(w3.toDoubles(), [e0, e1], tol: 1e-12))
    }

    @Test("random ops: per-context seed reproducibility, ranges, moments, randint dtype")
    func random() throws {
        let c = Context(seed: 9)
        let shape: OpParam = .list([.int(20000)])
        let u = try c.f("random_uniform", p: ["low": .int(-1), "high": .int(3), "shape": shape]).toDoubles()
        #expect(u.allSatisfy { $0 >= -1 && $0 < 3 })
        #expect(abs(u.reduce(0, +) / 20000 - 1) < 0.05)
        let n = try c.f("random_normal", p: ["loc": .int(2), "scale": .double(0.5), "shape": shape]).toDoubles()
        let mean = n.reduce(0, +) / 20000
        let sd = (n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 20000).squareRoot()
        #expect(abs(mean - 2) < 0.02 && abs(sd - 0.5) < 0.02)
        let r = try c.f("random_randint", p: ["low": .int(3), "high": .int(6), "shape": .list([.int(1000)])])
        #expect(r.dtype == .int32 && Set(r.toDoubles()) == [3, 4, 5])
        c.seed(1)
        let a = try c.f("uniform", p: ["shape": .list([.int(5)])]).toDoubles()
        c.seed(1)
        #expect(try c.f("_random_uniform", p: ["shape": .list([.int(5)])]).toDoubles() == a)
        #expect(try Context(seed: 1).f("random_uniform", p: ["shape": .list([.int(5)])]).toDoubles() == a)
    }
}

@Suite struct IndexingTests {
    @Test("basic indexing shapes follow MXNet: x[i], x[:, i], x[0,1,2] gives (1,)")
    func shapes() throws {
        let c = Context()
        let x = try c.a((0..<24).map(Double.init), [2, 3, 4])
        #expect(try c.index(x, [.at(1)]).shape == [3, 4])
        let col = try c.index(x, [.all, .at(1)])
        #expect(col.shape == [2, 4] && col.toDoubles() == [4, 5, 6, 7, 16, 17, 18, 19])
        let one = try c.index(x, [.at(0), .at(1), .at(-1)])
        #expect(one.shape == [1] && one.toDoubles() == [7])
        #expect(try c.index(x, [.range(nil, nil, -1), .range(1, nil, 2)]).shape == [2, 1, 4])
        expectError(.invalidParameter) { _ = try c.index(x, [.at(2)]) }
    }

    @Test("gradients through indexing scatter back")
    func gradients() throws {
        let c = Context()
        let x = try c.a((0..<6).map(Double.init), [2, 3])
        c.attachGrad(x)
        let y = try c.record { try c.index(x, [.all, .at(1)]) * 3 }
        try c.backward([y])
        #expect(x.grad?.toDoubles() == [0, 3, 0, 0, 3, 0])
    }

    @Test("x[idx] = v writes in place outside record and follows the in-place rules inside")
    func setItem() throws {
        let c = Context()
        let x = try c.a((0..<6).map(Double.init), [2, 3])
        try c.assign(x, at: [.at(1)], from: try c.a([7]))
        #expect(x.toDoubles() == [0, 1, 2, 7, 7, 7])
        try c.assign(x, at: [.all, .range(0, 2, nil)], from: try c.a([1, 2, 3, 4], [2, 2]))
        #expect(x.toDoubles() == [1, 2, 2, 3, 4, 7])
        expectError(.shapeMismatch) { try c.assign(x, at: [.at(0)], from: try c.a([1, 2])) }
        c.attachGrad(x)
        c.record {
            expectError(.inplaceOnGraphArray) { try c.assign(x, at: [.at(0)], from: try c.a([0])) }
        }
    }

    @Test("differentiating through a non-differentiable op names it")
    func notDifferentiable() throws {
        let c = Context()
        let x = try c.a([1, 3, 2])
        c.attachGrad(x)
        let y = try c.record { try c.f("argmax", x) }
        expectError(.notDifferentiable, "Operator argmax is non-differentiable because it didn't register FGradient attribute.") {
            try c.backward([y])
        }
    }
}
