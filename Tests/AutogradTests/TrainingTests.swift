import Testing
@testable import Autograd

@Suite struct TrainingTests {
    @Test("a two-layer MLP (FullyConnected, relu, BatchNorm, Dropout, softmax_cross_entropy, sgd_update) fits a small problem")
    func mlp() throws {
        let c = Context(seed: 1)
        var rng = TestRNG(2)
        let n = 32
        // Two Gaussian blobs labelled by the sign of x0 + x1.
        let xs = (0..<(n * 2)).map { _ in rng.uniform(-1, 1) }
        let labels = (0..<n).map { xs[2 * $0] + xs[2 * $0 + 1] > 0 ? 1.0 : 0.0 }
        let x = try c.a(xs, [n, 2]), y = try c.a(labels)
        func p(_ shape: [Int], _ s: Double) throws -> NDArray {
            let a = try c.a((0..<shape.reduce(1, *)).map { _ in rng.uniform(-s, s) }, shape)
            c.attachGrad(a)
            return a
        }
        let w1 = try p([16, 2], 1), b1 = try p([16], 0.1), w2 = try p([2, 16], 0.5), b2 = try p([2], 0.1)
        let gamma = try c.f("ones", p: ["shape": .list([.int(16)])]), beta = try c.f("zeros", p: ["shape": .list([.int(16)])])
        let mm = try c.f("zeros", p: ["shape": .list([.int(16)])]), mv = try c.f("ones", p: ["shape": .list([.int(16)])])
        var losses: [Double] = []
        for _ in 0..<60 {
            let loss = try c.record { () throws -> NDArray in
                var h = try c.f("FullyConnected", x, w1, b1, p: ["num_hidden": .int(16)])
                h = try c.f("BatchNorm", h, gamma, beta, mm, mv)
                h = try c.f("Dropout", c.f("relu", h), p: ["p": .double(0.1)])
                let o = try c.f("FullyConnected", h, w2, b2, p: ["num_hidden": .int(2)])
                return try c.f("softmax_cross_entropy", o, y) / Double(n)
            }
            try c.backward([loss])
            losses.append(loss.toDoubles()[0])
            for w in [w1, b1, w2, b2] { _ = try c.invoke("sgd_update", [w, w.grad!], ["lr": .double(0.5)], out: [w]) }
        }
        #expect(losses.last! < losses.first! * 0.5, "loss \(losses.first!) -> \(losses.last!)")
        #expect(mm.toDoubles().contains { $0 != 0 }, "moving mean updated by the train-mode backwards")
        let pred = try c.predictMode { () throws -> NDArray in
            var h = try c.f("FullyConnected", x, w1, b1, p: ["num_hidden": .int(16)])
            h = try c.f("relu", c.f("BatchNorm", h, gamma, beta, mm, mv))
            return try c.f("argmax", c.f("FullyConnected", h, w2, b2, p: ["num_hidden": .int(2)]), p: ["axis": .int(1)])
        }
        let accuracy = zip(pred.toDoubles(), labels).filter { $0 == $1 }.count
        #expect(accuracy >= 26, "accuracy \(accuracy)/32")
    }
}
