import Testing
@testable import Autograd

@Suite struct CatalogTests {
    @Test("the catalog lists public ops by MXNet name with parameters and defaults")
    func catalog() throws {
        let names = Set(Operators.catalog.map(\.name))
        for op in ["broadcast_add", "_plus_scalar", "FullyConnected", "BatchNorm", "Dropout", "sum", "dot", "softmax", "split", "concat"] {
            #expect(names.contains(op), "\(op) missing")
        }
        #expect(!names.contains("_slice_backward"), "internal adjoints stay out of the catalog")
        let bn = try #require(Operators.catalog.first { $0.name == "BatchNorm" })
        #expect(bn.inputs == ["data", "gamma", "beta", "moving_mean", "moving_var"] && bn.differentiable)
        #expect(bn.params.first { $0.name == "eps" }?.defaultValue == .double(1e-3))
        #expect(bn.params.first { $0.name == "fix_gamma" }?.defaultValue == .bool(true))
        let fc = try #require(Operators.catalog.first { $0.name == "FullyConnected" })
        #expect(fc.params.first { $0.name == "num_hidden" }?.required == true)
        #expect(Operators.catalog.first { $0.name == "concat" }?.variadic == true)
        #expect(Operators.catalog.first { $0.name == "concat" }?.params.first?.defaultValue == .int(1))
        #expect(Operators.catalog.first { $0.name == "broadcast_equal" }?.differentiable == false)
        #expect(Operators.catalog.first { $0.name == "broadcast_add" }?.aliases.contains("add") == true)
    }

    @Test("parameters: ints accepted for floats, lists for tuples, null for None; bad values name op, param and type")
    func params() throws {
        let c = Context()
        let x = try c.a([1, 2, 3, 4], [2, 2])
        #expect(try c.f("_plus_scalar", x, p: ["scalar": .int(2)]).toDoubles() == [3, 4, 5, 6])
        #expect(try c.f("sum", x, p: ["axis": .null]).toDoubles() == [10])
        #expect(try c.f("sum", x, p: ["axis": .list([.int(0)])]).toDoubles() == [4, 6])
        #expect(try c.f("reshape", x, p: ["shape": .list([.double(4)])]).shape == [4])
        expectError(.invalidParameter, "_plus_scalar: parameter 'scalar' expects float, got 'a'") {
            _ = try c.f("_plus_scalar", x, p: ["scalar": .string("a")])
        }
        expectError(.invalidParameter, "FullyConnected: required parameter 'num_hidden' (int) is missing") {
            _ = try c.f("FullyConnected", x, x)
        }
        expectError(.invalidParameter, "sum: unknown parameter 'axes'") { _ = try c.f("sum", x, p: ["axes": .int(0)]) }
        expectError(.invalidParameter) { _ = try c.f("Activation", x, p: ["act_type": .string("swish")]) }
        expectError(.invalidParameter) { _ = try c.f("reshape", x, p: ["shape": .list([.double(1.5)])]) }
        expectError(.unknownOperator) { _ = try c.f("no_such_op", x) }
        expectError(.unknownOperator, "Operator _CustomFunction is not registered") { _ = try c.f("_CustomFunction", x) }
        expectError(.unknownOperator) { _ = try c.f("_slice_backward", x) }
        expectError(.invalidArgument) { _ = try c.f("broadcast_add", x) }
        expectError(.invalidParameter) { _ = try c.f("sum", x, p: ["axis": .int(5)]) }
    }

    @Test("an array from another context is rejected")
    func crossContext() throws {
        let a = Context(), b = Context()
        expectError(.invalidArgument) { _ = try a.f("broadcast_add", try a.a([1]), try b.a([1])) }
    }

    @Test("raw bytes in and out are little-endian row-major")
    func bytes() throws {
        let c = Context()
        let v: [Float] = [1.5, -2]
        let x = try v.withUnsafeBytes { try c.array(bytes: $0, shape: [2], dtype: .float32) }
        #expect(x.toDoubles() == [1.5, -2])
        #expect(x.withUnsafeBytes { Array($0) } == v.withUnsafeBytes { Array($0) })
        expectError(.shapeMismatch) { _ = try v.withUnsafeBytes { try c.array(bytes: $0, shape: [3], dtype: .float32) } }
        expectError(.shapeMismatch) { _ = try c.array([1, 2], shape: [3]) }
    }
}

@Suite struct MemoryTests {
    @Test("10,000 record/backward iterations end with the same live storage count and bytes")
    func noLeak() throws {
        let c = Context()
        let x = try c.a([1, 2, 3, 4])
        c.attachGrad(x)
        let w = try c.a([1, 2, 3, 4], [2, 2])
        c.attachGrad(w)
        func step() throws {
            let y = try c.record { () throws -> NDArray in
                let xr = try c.f("reshape", x, p: ["shape": .list([.int(2), .int(2)])])
                return try c.f("sum", c.f("tanh", c.f("dot", w, xr)) * xr + 1)
            }
            try c.backward([y])
            _ = try c.record { try x * x }   // a graph that is never differentiated
        }
        try step()
        let storages = c.accounting.liveStorages, bytes = c.allocatedBytes, global = LiveStorage.count
        for _ in 0..<10_000 { try step() }
        #expect(c.accounting.liveStorages == storages)
        #expect(c.allocatedBytes == bytes)
        #expect(c.graphBytes == 0)
        // Other suites allocate concurrently; a leak here would add at least 10,000.
        #expect(abs(LiveStorage.count - global) < 5_000)
    }

    @Test("a retained graph holds its saved tensors until its head is released")
    func retainedGraphReleased() throws {
        let c = Context()
        let x = try c.a([1, 2, 3])
        c.attachGrad(x)
        let base = c.accounting.liveStorages
        var y: NDArray? = try c.record { try c.f("square", c.f("sin", x)) }
        #expect(c.graphBytes > 0, "sin's output is held only by exp's node")
        try c.backward([y!], retainGraph: true)
        #expect(c.accounting.liveStorages > base)
        y = nil
        #expect(c.accounting.liveStorages == base)
        #expect(c.graphBytes == 0)
    }

    @Test("a deep chain is torn down without recursion")
    func deepChain() throws {
        let c = Context()
        let x = try c.a([1])
        c.attachGrad(x)
        var y: NDArray? = x
        try c.record { for _ in 0..<100_000 { y = try y! + 1 } }
        y = nil
        #expect(c.accounting.liveStorages == 2)
    }

    @Test("limits are checked before allocating: element limit and memory budget are told apart")
    func limits() throws {
        let c = Context(limits: .init(maxElements: 100, maxBytes: 1000))
        expectError(.arrayTooLarge) { _ = try c.f("zeros", p: ["shape": .list([.int(101)])]) }
        let a = try c.f("zeros", p: ["shape": .list([.int(100)])])   // 400 bytes
        let b = try c.f("zeros", p: ["shape": .list([.int(100)])])   // 800
        let before = c.allocatedBytes, storages = c.accounting.liveStorages
        expectError(.limitExceeded) { _ = try a + b }
        #expect(c.allocatedBytes == before && c.accounting.liveStorages == storages)
        #expect(before == 800)
        expectError(.arrayTooLarge) { _ = try c.f("zeros", p: ["shape": .list([.int(1 << 40), .int(1 << 40)])]) }
    }
}

@Suite struct HostileInputTests {
    @Test("hostile parameters give typed errors, never traps")
    func hostile() throws {
        let c = Context()
        let x = try c.a([1, 2, 3, 4], [2, 2])
        let huge = OpParam.list([.int(1 << 40), .int(1 << 40)])
        expectError(.shapeMismatch) { _ = try c.f("reshape", x, p: ["shape": huge]) }
        expectError(.invalidParameter) { _ = try c.f("reshape", x, p: ["shape": .list([.int(-4), .int(1 << 40), .int(1 << 40), .int(0)])]) }
        expectError(.arrayTooLarge) { _ = try c.f("arange", p: ["start": .double(1e300), "step": .double(1e-300)]) }
        expectError(.arrayTooLarge) { _ = try c.f("tile", x, p: ["reps": huge]) }
        expectError(.arrayTooLarge) { _ = try c.f("one_hot", x, p: ["depth": .int(1 << 40)]) }
        expectError(.invalidParameter) { _ = try c.f("random_randint", p: ["low": .int(5), "high": .int(5)]) }
        expectError(.invalidParameter) { _ = try c.f("random_randint", p: ["low": .int(Int.min), "high": .int(Int.max)]) }
        expectError(.invalidParameter) { _ = try c.f("split", x, p: ["num_outputs": .int(0)]) }
        expectError(.invalidParameter) { _ = try c.f("topk", x, p: ["k": .int(9)]) }
        expectError(.invalidParameter) { _ = try c.f("slice", x, p: ["begin": .list([.int(0)]), "end": .list([.int(1)]), "step": .list([.int(0)])]) }
        expectError(.invalidParameter) { _ = try c.f("transpose", x, p: ["axes": .list([.int(0), .int(0)])]) }
        expectError(.shapeMismatch) { _ = try c.f("concat", x, c.a([1, 2])) }
        #expect(try c.f("pick", x, c.a([1e300, -.infinity])).toDoubles() == [2, 3])
        #expect(try c.f("take", x, c.a([.nan])).toDoubles() == [1, 2])
        #expect(try c.f("one_hot", c.a([1e300, .nan]), p: ["depth": .int(2)]).toDoubles() == [0, 0, 0, 0])
        expectError(.invalidParameter) { _ = try c.f("argmax", c.a([])) }
        expectError(.invalidParameter) { _ = try c.f("max", c.a([])) }
        expectError(.shapeMismatch) { _ = try c.f("SoftmaxOutput", c.a([1, 2]), c.a([0]), p: ["multi_output": .bool(true)]) }
        expectError(.invalidParameter) { _ = try c.f("LeakyReLU", x, p: ["act_type": .string("prelu")]) }
        let i = try c.a([Double(Int32.max), -1], nil, .int32)
        #expect(try (i + 1).toDoubles() == [Double(Int32.min), 0], "integer overflow wraps")
        #expect(try c.f("broadcast_mod", i, c.a([0, 0], nil, .int32)).toDoubles() == [0, 0])
    }
}
