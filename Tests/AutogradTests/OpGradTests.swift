import Testing
@testable import Autograd

/// Gradient-check cases for every differentiable op in the table (public and internal).
/// A new differentiable op without an entry here fails `everyDifferentiableOpHasCases`.
enum GradCases {
    static let a23: ([Int], Gen) = ([2, 3], .normal)
    static func n(_ s: [Int]) -> ([Int], Gen) { (s, .normal) }
    static func pos(_ s: [Int]) -> ([Int], Gen) { (s, .positive) }
    static func idx(_ s: [Int], _ k: Int) -> ([Int], Gen) { (s, .index(k)) }
    static func d(_ v: Double) -> OpParam { .double(v) }
    static func ints(_ v: [Int]) -> OpParam { .list(v.map { .int($0) }) }

    static let broadcastShapes: [[[Int]]] = [[[2, 3], [2, 3]], [[2, 3], [3]], [[2, 1, 3], [4, 1]], [[1, 3], [2, 1]]]

    static func binary(_ op: String, lhs: Gen = .normal, rhs: Gen = .normal) -> [GradCase] {
        broadcastShapes.map { GradCase(op, [($0[0], lhs), ($0[1], rhs)]) }
    }
    static func elemwise(_ op: String, rhs: Gen = .normal) -> [GradCase] {
        [GradCase(op, [n([2, 3]), ([2, 3], rhs)])]
    }
    static func scalar(_ op: String, _ s: Double, _ g: Gen = .normal) -> [GradCase] {
        [GradCase(op, [([2, 3], g)], ["scalar": d(s)]), GradCase(op, [([4], g)], ["scalar": d(s)])]
    }
    static func unary(_ op: String, _ g: Gen = .normal) -> [GradCase] {
        [GradCase(op, [([2, 3], g)]), GradCase(op, [([5], g)])]
    }
    static func reduce(_ op: String, _ g: Gen = .normal) -> [GradCase] {
        [GradCase(op, [([2, 3, 4], g)]),
         GradCase(op, [([2, 3, 4], g)], ["axis": .int(1)]),
         GradCase(op, [([2, 3, 4], g)], ["axis": ints([0, 2]), "keepdims": .bool(true)]),
         GradCase(op, [([2, 3, 4], g)], ["axis": .int(-1), "exclude": .bool(true)])]
    }

    static let all: [String: [GradCase]] = {
        var m: [String: [GradCase]] = [:]
        func add(_ cs: [GradCase]) { for c in cs { m[c.op, default: []].append(c) } }
        add(binary("broadcast_add")); add(binary("broadcast_sub")); add(binary("broadcast_mul"))
        add(binary("broadcast_div", rhs: .positive)); add(binary("broadcast_power", lhs: .positive))
        add(binary("broadcast_maximum")); add(binary("broadcast_minimum")); add(binary("broadcast_mod", lhs: .positive, rhs: .positive))
        add(elemwise("elemwise_add")); add(elemwise("elemwise_sub")); add(elemwise("elemwise_mul")); add(elemwise("elemwise_div", rhs: .positive))
        add(scalar("_plus_scalar", 1.5)); add(scalar("_minus_scalar", 0.5)); add(scalar("_rminus_scalar", 2)); add(scalar("_mul_scalar", -3))
        add(scalar("_div_scalar", 4)); add(scalar("_rdiv_scalar", 2, .positive)); add(scalar("_power_scalar", 3)); add(scalar("_power_scalar", 2.5, .positive))
        add(scalar("_rpower_scalar", 2)); add(scalar("_maximum_scalar", 0.1)); add(scalar("_minimum_scalar", 0.1))
        add(scalar("_mod_scalar", 0.7, .positive)); add(scalar("_rmod_scalar", 2.5, .positive))
        add([GradCase("add_n", [n([2, 3]), n([2, 3]), n([2, 3])])])
        for op in ["negative", "abs", "sign", "floor", "ceil", "round", "rint", "trunc", "exp", "expm1", "square", "sin", "cos", "tan",
                   "arctan", "sinh", "cosh", "tanh", "arcsinh", "degrees", "radians", "erf", "sigmoid", "relu", "softsign"] {
            add(unary(op))
        }
        for op in ["log", "log2", "log10", "log1p", "sqrt", "rsqrt", "cbrt", "rcbrt", "reciprocal"] { add(unary(op, .positive)) }
        for op in ["arcsin", "arccos", "arctanh"] { add(unary(op, .unit)) }
        add(unary("arccosh", .aboveOne))
        add([GradCase("clip", [n([3, 4])], ["a_min": d(-0.5), "a_max": d(0.6)])])
        for t in ["relu", "sigmoid", "softrelu", "softsign", "tanh"] { add([GradCase("Activation", [n([2, 3])], ["act_type": .string(t)])]) }
        for t in ["leaky", "elu", "selu", "gelu"] { add([GradCase("LeakyReLU", [n([2, 3])], ["act_type": .string(t), "slope": d(0.3)])]) }
        add(reduce("sum")); add(reduce("mean")); add(reduce("max")); add(reduce("min")); add(reduce("prod"))
        add([GradCase("norm", [n([2, 3])]), GradCase("norm", [n([2, 3])], ["ord": .int(1), "axis": .int(1)]),
             GradCase("norm", [n([2, 3, 2])], ["axis": ints([0, 2]), "keepdims": .bool(true)])])
        add([GradCase("topk", [n([3, 4])], ["k": .int(2), "ret_typ": .string("value")]),
             GradCase("topk", [n([3, 4])], ["k": .int(2), "axis": .int(0), "ret_typ": .string("both"), "is_ascend": .bool(true)])])
        add([GradCase("dot", [n([2, 3]), n([3, 4])]), GradCase("dot", [n([3, 2]), n([3, 4])], ["transpose_a": .bool(true)]),
             GradCase("dot", [n([2, 3]), n([4, 3])], ["transpose_b": .bool(true)]),
             GradCase("dot", [n([3, 2]), n([4, 3])], ["transpose_a": .bool(true), "transpose_b": .bool(true)]),
             GradCase("dot", [n([3]), n([3])]), GradCase("dot", [n([2, 3, 4]), n([4, 2])]),
             GradCase("dot", [n([4, 2, 3]), n([4, 2])], ["transpose_a": .bool(true)])])
        add([GradCase("batch_dot", [n([2, 3, 4]), n([2, 4, 2])]),
             GradCase("batch_dot", [n([2, 4, 3]), n([2, 4, 2])], ["transpose_a": .bool(true)]),
             GradCase("batch_dot", [n([2, 3, 4]), n([2, 2, 4])], ["transpose_b": .bool(true)]),
             GradCase("batch_dot", [n([2, 4, 3]), n([2, 2, 4])], ["transpose_a": .bool(true), "transpose_b": .bool(true)])])
        add([GradCase("FullyConnected", [n([2, 3, 2]), n([4, 6]), n([4])], ["num_hidden": .int(4)]),
             GradCase("FullyConnected", [n([2, 3, 2]), n([4, 2]), n([4])], ["num_hidden": .int(4), "flatten": .bool(false)]),
             GradCase("FullyConnected", [n([3, 2]), n([4, 2])], ["num_hidden": .int(4), "no_bias": .bool(true)])])
        add([GradCase("reshape", [n([2, 3, 2])], ["shape": ints([0, -1])]), GradCase("reshape", [n([2, 3, 2])], ["shape": ints([-3, 2])])])
        add([GradCase("flatten", [n([2, 3, 2])])])
        add([GradCase("expand_dims", [n([2, 3])], ["axis": .int(1)])])
        add([GradCase("squeeze", [n([2, 1, 3])]), GradCase("squeeze", [n([1, 3, 1])], ["axis": .int(2)])])
        add([GradCase("transpose", [n([2, 3, 2])]), GradCase("transpose", [n([2, 3, 2])], ["axes": ints([1, 0, 2])])])
        add([GradCase("swapaxes", [n([2, 3, 2])], ["dim1": .int(0), "dim2": .int(2)])])
        add([GradCase("slice", [n([3, 4])], ["begin": .list([.int(0), .int(1)]), "end": .list([.int(2), .null])]),
             GradCase("slice", [n([3, 4])], ["begin": .list([.null, .int(-1)]), "end": .list([.null, .null]), "step": .list([.int(2), .int(-2)])])])
        add([GradCase("slice_axis", [n([3, 4])], ["axis": .int(1), "begin": .int(1), "end": .int(3)]),
             GradCase("slice_axis", [n([3, 4])], ["axis": .int(0), "begin": .int(-2), "end": .null])])
        add([GradCase("_slice_backward", [n([2, 2])], ["shape": ints([3, 4]), "begin": .list([.int(0), .int(1)]), "end": .list([.int(2), .int(3)])])])
        add([GradCase("concat", [n([2, 1]), n([2, 3])]), GradCase("concat", [n([2, 3]), n([1, 3]), n([2, 3])], ["dim": .int(0)])])
        add([GradCase("stack", [n([2, 3]), n([2, 3])]), GradCase("stack", [n([2, 3]), n([2, 3])], ["axis": .int(2)])])
        add([GradCase("split", [n([2, 3, 2])], ["num_outputs": .int(3)]),
             GradCase("split", [n([2, 3])], ["num_outputs": .int(2), "axis": .int(0), "squeeze_axis": .bool(true)])])
        add([GradCase("broadcast_to", [n([1, 3])], ["shape": ints([2, 3])]), GradCase("broadcast_to", [n([2, 1, 1])], ["shape": ints([0, 2, 3])])])
        add([GradCase("broadcast_like", [n([2, 1]), n([2, 3])])])
        add([GradCase("tile", [n([2, 3])], ["reps": ints([2, 1])]), GradCase("tile", [n([3])], ["reps": ints([2, 2])])])
        add([GradCase("repeat", [n([2, 3])], ["repeats": .int(2), "axis": .int(1)]), GradCase("repeat", [n([2, 2])], ["repeats": .int(3)])])
        add([GradCase("_copy", [n([2, 3])])])
        add([GradCase("_grad_link", [n([2, 3]), n([2, 3])])])
        add([GradCase("cast", [n([2, 3])], ["dtype": .string("float64")])])
        add([GradCase("pick", [n([3, 4]), idx([3], 4)]), GradCase("pick", [n([3, 4]), idx([1, 4], 3)], ["axis": .int(0), "keepdims": .bool(true)]),
             GradCase("pick", [n([3, 4]), idx([3], 6)], ["mode": .string("wrap")])])
        add([GradCase("_gather_axis", [n([3, 4]), idx([3, 2], 4)], ["axis": .int(1)])])
        add([GradCase("_scatter_axis", [n([3, 2]), idx([3, 2], 4)], ["axis": .int(1), "dim": .int(4)])])
        add([GradCase("take", [n([4, 3]), idx([2, 2], 4)]), GradCase("take", [n([4, 3]), idx([3], 3)], ["axis": .int(1)])])
        add([GradCase("_take_backward", [n([2, 2, 3]), idx([2, 2], 4)], ["axis": .int(0), "dim": .int(4)])])
        add([GradCase("where", [([2, 3], .mask), n([2, 3]), n([2, 3])]), GradCase("where", [([2], .fixed([1, 0])), n([2, 3]), n([2, 3])])])
        add([GradCase("softmax", [n([2, 3])]), GradCase("softmax", [n([3, 2])], ["axis": .int(0), "temperature": d(2)])])
        add([GradCase("log_softmax", [n([2, 3])]), GradCase("log_softmax", [n([3, 2])], ["axis": .int(0), "temperature": d(0.5)])])
        add([GradCase("softmax_cross_entropy", [n([3, 4]), idx([3], 4)])])
        add([GradCase("Dropout", [n([2, 3])])])
        add([GradCase("smooth_l1", [n([2, 3])]), GradCase("smooth_l1", [n([2, 3])], ["scalar": d(2)])])
        add([GradCase("LayerNorm", [n([2, 3]), n([3]), n([3])]), GradCase("LayerNorm", [n([3, 2, 2]), n([2]), n([2])], ["axis": .int(1), "eps": d(0.01)])])
        add([GradCase("Embedding", [idx([2, 2], 4), n([4, 3])], ["input_dim": .int(4), "output_dim": .int(3)])])
        add([GradCase("sort", [n([3, 4])]), GradCase("sort", [n([3, 4])], ["axis": .int(0), "is_ascend": .bool(false)]),
             GradCase("sort", [n([2, 3])], ["axis": .null])])
        let k2 = ints([2, 2]), k3 = ints([3, 3])
        add([GradCase("Convolution", [n([2, 2, 4, 4]), n([3, 2, 3, 3]), n([3])], ["kernel": k3, "num_filter": .int(3)]),
             GradCase("Convolution", [n([1, 2, 5, 4]), n([2, 2, 3, 3]), n([2])], ["kernel": k3, "num_filter": .int(2), "stride": k2, "pad": ints([1, 1])]),
             GradCase("Convolution", [n([1, 1, 5, 5]), n([2, 1, 2, 2])], ["kernel": k2, "num_filter": .int(2), "dilate": k2, "no_bias": .bool(true)]),
             GradCase("Convolution", [n([2, 2, 5]), n([3, 2, 2]), n([3])], ["kernel": ints([2]), "num_filter": .int(3)])])
        add([GradCase("Pooling", [n([1, 2, 4, 4])], ["kernel": k2, "stride": k2]),
             GradCase("Pooling", [n([1, 2, 4, 4])], ["kernel": k3, "pool_type": .string("avg"), "pad": ints([1, 1])]),
             GradCase("Pooling", [n([1, 2, 5, 5])], ["kernel": k2, "stride": k2, "pool_type": .string("sum"), "pooling_convention": .string("full")]),
             GradCase("Pooling", [n([2, 2, 3, 3])], ["global_pool": .bool(true), "pool_type": .string("avg")]),
             GradCase("Pooling", [n([1, 2, 5])], ["kernel": ints([3]), "stride": ints([2]), "pad": ints([1])])])
        add([GradCase("cumsum", [n([2, 3])]), GradCase("cumsum", [n([2, 3])], ["axis": .int(1)])])
        add([GradCase("BatchNorm", [n([4, 3]), n([3]), n([3]), n([3]), pos([3])], ["fix_gamma": .bool(false)]),
             GradCase("BatchNorm", [n([4, 3]), n([3]), n([3]), n([3]), pos([3])], ["fix_gamma": .bool(false)], train: true),
             GradCase("BatchNorm", [n([2, 3, 2]), n([3]), n([3]), n([3]), pos([3])], train: true),
             GradCase("BatchNorm", [n([2, 2, 3]), n([3]), n([3]), n([3]), pos([3])], ["axis": .int(-1), "fix_gamma": .bool(false)], train: true)])
        for (op, cs) in Tier2GradCases.all { m[op, default: []] += cs }
        return m
    }()

    /// Ops whose gradient is a contract rather than the derivative; each has a dedicated test.
    static let contracts: Set<String> = ["BlockGrad", "make_loss", "SoftmaxOutput", "_CustomFunction",
                                         "LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput"]

    /// Moving statistics are auxiliary states: no gradient.
    static func checkedInputs(_ c: GradCase) -> Int { c.op == "BatchNorm" ? 3 : c.inputs.count }

    static var flat: [GradCase] { all.keys.sorted().flatMap { all[$0]! } }
}

@Suite struct OpGradTests {
    @Test("every differentiable op has gradient-check cases or a documented contract test")
    func everyDifferentiableOpHasCases() {
        for op in OpTable.all where op.differentiable {
            #expect(GradCases.all[op.name] != nil || GradCases.contracts.contains(op.name), "no gradient cases for \(op.name)")
        }
        for name in GradCases.all.keys { #expect(OpTable.byName[name]?.differentiable == true, "case for non-differentiable \(name)") }
    }

    @Test("first-order gradients match centred finite differences (float64)", arguments: GradCases.flat)
    func firstOrder(_ c: GradCase) throws {
        var checker = try GradChecker(c)
        checker.restrict(to: GradCases.checkedInputs(c))
        let failures = try checker.firstOrder()
        #expect(failures.isEmpty, "\(c): \(failures.prefix(4))")
    }

    @Test("second-order gradients (create_graph) match differences of first-order ones", arguments: GradCases.flat)
    func secondOrder(_ c: GradCase) throws {
        var checker = try GradChecker(c)
        checker.restrict(to: GradCases.checkedInputs(c))
        let failures = try checker.secondOrder()
        #expect(failures.isEmpty, "\(c): \(failures.prefix(4))")
    }
}
