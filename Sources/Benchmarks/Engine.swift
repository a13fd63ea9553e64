import Autograd
import Glibc

/// Median of measured durations, in seconds.
private func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

/// CPU time of this thread, in seconds (wall time is inflated when other processes share the cores).
private func threadCPUTime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

private func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

/// The MXNet overhead loop (4-element x, record { y = x*2+1 }, backward, read x.grad), a
/// 1024x1024 float32 dot forward + backward, an MLP step, and the kernels numpy is compared with.
func runEngine() throws {
    let clock = ContinuousClock()

    let ctx = Context()
    let x = try ctx.array([1, 2, 3, 4], shape: [4])
    ctx.attachGrad(x)
    var sink = 0.0
    func iteration() throws {
        let y = try ctx.record { try x * 2 + 1 }
        try ctx.backward([y])
        sink += x.grad!.toDoubles()[0]
    }
    for _ in 0..<1_000 { try iteration() }
    var perIter: [Double] = [], cpuPerIter: [Double] = []
    for _ in 0..<3 {
        let cpu0 = threadCPUTime()
        let t = clock.measure { for _ in 0..<10_000 { try? iteration() } }
        cpuPerIter.append((threadCPUTime() - cpu0) / 10_000 * 1e6)
        perIter.append(seconds(t) / 10_000 * 1e6)
    }
    print("engine.tiny_loop: record{y=x*2+1}; backward; read x.grad, 4 x float32, 10,000 iterations x 3")
    print("  median \(fmt(median(perIter))) us/iter wall (runs: \(perIter.map(fmt).joined(separator: ", "))), \(fmt(median(cpuPerIter))) us/iter thread CPU; MXNet 1.9.1: ~117 us/iter")

    let n = 1024
    var rng: UInt64 = 1
    func rand() -> Double {
        rng = rng &* 6364136223846793005 &+ 1442695040888963407
        return Double(rng >> 11) * 0x1.0p-53 - 0.5
    }
    let a = try ctx.array((0..<(n * n)).map { _ in rand() }, shape: [n, n])
    let b = try ctx.array((0..<(n * n)).map { _ in rand() }, shape: [n, n])
    ctx.attachGrad(a)
    ctx.attachGrad(b)
    func dotStep() throws {
        let y = try ctx.record { try ctx("dot", a, b) }
        try ctx.backward([y])
        sink += a.grad!.withUnsafeBytes { Double($0.load(as: Float.self)) }
    }
    try dotStep()
    var times: [Double] = []
    var fwd: [Double] = []
    for _ in 0..<10 {
        times.append(seconds(clock.measure { try? dotStep() }))
        fwd.append(seconds(clock.measure { _ = try? ctx("dot", a, b) }))
    }
    let flops = 3 * 2 * Double(n) * Double(n) * Double(n)   // forward + two gradient products
    print("engine.dot_1024_train: float32 dot forward+backward (a, b attached), 10 runs; \(BLAS.status)")
    print("  median \(fmt(median(times) * 1e3)) ms/step, \(fmt(flops / median(times) / 1e9)) GFLOPS; forward alone \(fmt(median(fwd) * 1e3)) ms, \(fmt(2 * Double(n * n * n) / median(fwd) / 1e9)) GFLOPS; MXNet 1.9.1: ~227 ms/step")
    // An MLP training step: 784 -> 128 (relu) -> 10, batch 64, softmax_cross_entropy, sgd_update.
    let input = try ctx.array((0..<(64 * 784)).map { _ in rand() }, shape: [64, 784])
    let labels = try ctx.array((0..<64).map { Double($0 % 10) }, shape: [64])
    let params = try [[128, 784], [128], [10, 128], [10]].map { shape -> NDArray in
        let p = try ctx.array((0..<shape.reduce(1, *)).map { _ in rand() * 0.1 }, shape: shape)
        ctx.attachGrad(p)
        return p
    }
    func mlpStep() throws {
        let loss = try ctx.record { () throws -> NDArray in
            let h = try ctx("relu", ctx("FullyConnected", input, params[0], params[1], params: ["num_hidden": .int(128)]))
            let o = try ctx("FullyConnected", h, params[2], params[3], params: ["num_hidden": .int(10)])
            return try ctx("softmax_cross_entropy", o, labels)
        }
        try ctx.backward([loss])
        for p in params { _ = try ctx.invoke("sgd_update", [p, p.grad!], ["lr": .double(0.001)], out: [p]) }
    }
    try mlpStep()
    var steps: [Double] = []
    for _ in 0..<5 { steps.append(seconds(clock.measure { for _ in 0..<20 { try? mlpStep() } }) / 20 * 1e3) }
    print("engine.mlp_step: 784-128-10 MLP, batch 64, forward+backward+sgd_update, 5 x 20 steps")
    print("  median \(fmt(median(steps))) ms/step wall")
    try runKernelComparison(ctx, rand)
    if sink.isNaN { print("unexpected NaN") }
}

private func fmt(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    return "\(r)"
}

/// The operations scripts/bench-engine.sh times in numpy too: float32 dot forward (1024², 2048²),
/// exp, same-shape add, row-broadcast add ((1000, 1000) + (1, 1000)) and a full sum on 1M
/// elements. Best of N wall-clock runs (dot uses every core on both sides), output allocation
/// included as in numpy; one `measure NAME MS` line each for the script.
private func runKernelComparison(_ ctx: Context, _ rand: () -> Double) throws {
    let clock = ContinuousClock()
    func best(_ runs: Int, _ body: () throws -> Void) throws -> Double {
        try body()
        var b = Double.infinity
        for _ in 0..<runs {
            var failure: Error?
            let t = seconds(clock.measure { do { try body() } catch { failure = error } })
            if let failure { throw failure }
            b = min(b, t)
        }
        return b * 1e3
    }
    func report(_ name: String, _ ms: Double, _ detail: String) {
        print("measure engine.\(name) \(fmt3(ms)) ms  (\(detail))")
    }
    for n in [1024, 2048] {
        let a = try ctx.array((0..<(n * n)).map { _ in rand() }, shape: [n, n])
        let b = try ctx.array((0..<(n * n)).map { _ in rand() }, shape: [n, n])
        let ms = try best(n == 1024 ? 20 : 6) { _ = try ctx("dot", a, b) }
        report("dot_\(n)", ms, "float32 \(n)x\(n) dot forward, \(fmt3(2 * Double(n * n * n) / ms / 1e6)) GFLOPS, core \(BLAS.coreName)")
    }
    let big = try ctx.array((0..<1_000_000).map { _ in rand() }, shape: [1000, 1000])
    let row = try ctx.array((0..<1000).map { _ in rand() }, shape: [1, 1000])
    let cases: [(String, String, () throws -> Void)] = [
        ("exp_1m", "exp of (1000, 1000) float32", { _ = try ctx("exp", big) }),
        ("add_1m", "(1000, 1000) + (1000, 1000) float32", { _ = try big + big }),
        ("broadcast_add_1m", "(1000, 1000) + (1, 1000) float32", { _ = try ctx("broadcast_add", big, row) }),
        ("sum_1m", "sum of (1000, 1000) float32 to a scalar", { _ = try ctx("sum", big) }),
    ]
    for (name, what, body) in cases {
        let ms = try best(50, body)
        report(name, ms, "\(what), \(fmt3(1e6 / ms / 1e6)) G elem/s")
    }
}

private func fmt3(_ v: Double) -> String {
    let r = (v * 1000).rounded() / 1000
    return "\(r)"
}
