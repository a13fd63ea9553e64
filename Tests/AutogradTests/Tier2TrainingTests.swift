import Testing
@testable import Autograd

@Suite struct Tier2TrainingTests {
    /// A small CNN (conv → relu → max-pool → conv → avg-pool → dense → softmax) trained with adam
    /// on two synthetic 6×6 classes (a bright vertical vs. horizontal bar with noise).
    @Test("a small CNN built from the tier-2 ops learns a separable image task")
    func smallCNNLearns() throws {
        let c = Context(seed: 1)
        var rng = TestRNG(42)
        let n = 32
        var images: [Double] = [], labels: [Double] = []
        for i in 0..<n {
            let cls = i % 2, pos = Int(rng.next() % 6)
            for y in 0..<6 { for x in 0..<6 {
                images.append(((cls == 0 ? x : y) == pos ? 1 : 0) + rng.uniform(-0.2, 0.2))
            } }
            labels.append(Double(cls))
        }
        let data = try c.array(images, shape: [n, 1, 6, 6]), label = try c.array(labels, shape: [n])
        func param(_ shape: [Int], _ scale: Double) throws -> NDArray {
            try c.array((0..<shape.reduce(1, *)).map { _ in rng.uniform(-scale, scale) }, shape: shape)
        }
        let params = [try param([4, 1, 3, 3], 0.5), try param([4], 0), try param([6, 4, 3, 3], 0.3), try param([6], 0),
                      try param([2, 6], 0.5), try param([2], 0)]
        let states = try params.map { p in (try c.invoke("zeros_like", [p])[0], try c.invoke("zeros_like", [p])[0]) }
        for p in params { c.attachGrad(p) }
        func forward() throws -> NDArray {
            var h = try c.invoke("Convolution", [data, params[0], params[1]], ["kernel": .list([.int(3), .int(3)]), "num_filter": .int(4),
                                                                                "pad": .list([.int(1), .int(1)])])[0]
            h = try c.invoke("relu", [h])[0]
            h = try c.invoke("Pooling", [h], ["kernel": .list([.int(2), .int(2)]), "stride": .list([.int(2), .int(2)])])[0]
            h = try c.invoke("Convolution", [h, params[2], params[3]], ["kernel": .list([.int(3), .int(3)]), "num_filter": .int(6),
                                                                        "pad": .list([.int(1), .int(1)])])[0]
            h = try c.invoke("Pooling", [h], ["pool_type": .string("avg"), "global_pool": .bool(true)])[0]
            h = try c.invoke("FullyConnected", [h, params[4], params[5]], ["num_hidden": .int(2)])[0]
            return try c.invoke("SoftmaxOutput", [h, label], ["normalization": .string("batch")])[0]
        }
        func accuracy(_ p: NDArray) -> Double {
            let v = p.toDoubles()
            return Double((0..<n).filter { (v[2 * $0 + 1] > v[2 * $0] ? 1.0 : 0.0) == labels[$0] }.count) / Double(n)
        }
        let before = accuracy(try forward())
        for _ in 0..<60 {
            let out = try c.record { try forward() }
            try c.backward([out])
            for (p, s) in zip(params, states) {
                _ = try c.invoke("adam_update", [p, p.grad!, s.0, s.1], ["lr": .double(0.05)], out: [p])
            }
        }
        let after = accuracy(try forward())
        #expect(before < 0.8 && after >= 0.95, "accuracy \(before) → \(after)")
    }
}
