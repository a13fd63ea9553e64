import Foundation
import Testing
@testable import Autograd

/// Runs a Python snippet with NumPy, feeding `input` on stdin; nil when python3/NumPy is missing.
private func runNumpy(_ script: String, input: String) -> String? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script]
    let stdin = Pipe(), stdout = Pipe()
    p.standardInput = stdin
    p.standardOutput = stdout
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return nil }
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try? stdin.fileHandleForWriting.close()
    let data = stdout.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
}

private let numpyAvailable = runNumpy("import numpy; print(1)", input: "") != nil

private func numbers(_ s: String) -> [Double] { s.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) } }

private func list(_ v: [Double]) -> String { "[" + v.map { "\($0)" }.joined(separator: ",") + "]" }
private func list(_ v: [Int]) -> String { "[" + v.map { "\($0)" }.joined(separator: ",") + "]" }

/// Cross-checks against NumPy's own definitions (numpy.pad modes; convolution as a sum of shifted,
/// strided slices), independent of the direct loops in Tier2ConvTests.
@Suite(.enabled(if: numpyAvailable, "python3 with NumPy is not available"))
struct Tier2NumpyTests {
    @Test("pad matches numpy.pad for constant, edge and reflect on 4-D and 5-D arrays")
    func padMatchesNumpy() throws {
        let c = Context()
        var rng = TestRNG(9)
        let cases: [([Int], [Int], String)] = [([2, 3, 4, 5], [0, 0, 0, 0, 1, 2, 3, 0], "constant"), ([1, 2, 3, 4], [0, 0, 0, 0, 2, 2, 1, 3], "edge"),
                                               ([1, 2, 4, 5], [0, 0, 0, 0, 3, 1, 2, 4], "reflect"),
                                               ([1, 1, 3, 4, 5], [0, 0, 0, 0, 2, 1, 0, 3, 4, 2], "reflect"),
                                               ([1, 2, 2, 3, 2], [0, 0, 0, 0, 1, 1, 2, 0, 0, 3], "edge")]
        for (shape, width, mode) in cases {
            let v = (0..<shape.reduce(1, *)).map { _ in rng.uniform(-1, 1) }
            let got = try c.invoke("pad", [try c.array(v, shape: shape, dtype: .float64)],
                                   ["mode": .string(mode), "pad_width": .list(width.map { .int($0) }), "constant_value": .double(0.25)])[0]
            let pairs = stride(from: 0, to: width.count, by: 2).map { "(\(width[$0]),\(width[$0 + 1]))" }.joined(separator: ",")
            let kw = mode == "constant" ? ", constant_values=0.25" : ""
            let script = """
            import sys, numpy as np
            x = np.array(\(list(v)), dtype=np.float64).reshape(\(list(shape)))
            print(' '.join(repr(float(t)) for t in np.pad(x, (\(pairs)), mode='\(mode)'\(kw)).ravel()))
            """
            let want = try #require(runNumpy(script, input: ""))
            #expect(got.toDoubles() == numbers(want), "\(mode) \(shape) \(width)")
        }
    }

    @Test("grouped, strided, dilated, padded convolution matches a NumPy slice-sum formulation")
    func convolutionMatchesNumpy() throws {
        let c = Context()
        var rng = TestRNG(21)
        let (n, ch, h, w, f, g) = (2, 4, 7, 6, 6, 2), k = [3, 2], s = [2, 1], p = [1, 2], d = [1, 2]
        let xv = (0..<(n * ch * h * w)).map { _ in rng.uniform(-1, 1) }, wv = (0..<(f * ch / g * k[0] * k[1])).map { _ in rng.uniform(-1, 1) }
        let bv = (0..<f).map { _ in rng.uniform(-1, 1) }
        let got = try c.invoke("Convolution", [try c.array(xv, shape: [n, ch, h, w], dtype: .float64),
                                               try c.array(wv, shape: [f, ch / g] + k, dtype: .float64), try c.array(bv, shape: [f], dtype: .float64)],
                               ["kernel": .list(k.map { .int($0) }), "stride": .list(s.map { .int($0) }), "pad": .list(p.map { .int($0) }),
                                "dilate": .list(d.map { .int($0) }), "num_filter": .int(f), "num_group": .int(g)])[0]
        let script = """
        import numpy as np
        x = np.array(\(list(xv))).reshape(\(n), \(ch), \(h), \(w)); W = np.array(\(list(wv))).reshape(\(f), \(ch / g), \(k[0]), \(k[1]))
        b = np.array(\(list(bv))); g = \(g); s = \(list(s)); d = \(list(d))
        xp = np.pad(x, ((0, 0), (0, 0), (\(p[0]), \(p[0])), (\(p[1]), \(p[1]))))
        oh = (xp.shape[2] - d[0] * (W.shape[2] - 1) - 1) // s[0] + 1; ow = (xp.shape[3] - d[1] * (W.shape[3] - 1) - 1) // s[1] + 1
        cg, fg = x.shape[1] // g, W.shape[0] // g
        out = np.zeros((x.shape[0], W.shape[0], oh, ow))
        for grp in range(g):
            for i in range(W.shape[2]):
                for j in range(W.shape[3]):
                    patch = xp[:, grp*cg:(grp+1)*cg, i*d[0]:i*d[0]+s[0]*(oh-1)+1:s[0], j*d[1]:j*d[1]+s[1]*(ow-1)+1:s[1]]
                    out[:, grp*fg:(grp+1)*fg] += np.einsum('nchw,fc->nfhw', patch, W[grp*fg:(grp+1)*fg, :, i, j])
        out += b[None, :, None, None]
        print(' '.join(repr(float(t)) for t in out.ravel()))
        """
        let want = numbers(try #require(runNumpy(script, input: "")))
        #expect(got.size == want.count)
        #expect(zip(got.toDoubles(), want).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test("3-D grouped convolution (NCDHW) matches the NumPy slice-sum formulation")
    func convolution3DMatchesNumpy() throws {
        let c = Context()
        var rng = TestRNG(33)
        let (n, ch, f, g) = (2, 4, 4, 2), dims = [4, 5, 3], k = [2, 3, 2], s = [1, 2, 1], p = [1, 1, 0], d = [2, 1, 1]
        let xv = (0..<(n * ch * dims.reduce(1, *))).map { _ in rng.uniform(-1, 1) }
        let wv = (0..<(f * ch / g * k.reduce(1, *))).map { _ in rng.uniform(-1, 1) }
        let got = try c.invoke("Convolution", [try c.array(xv, shape: [n, ch] + dims, dtype: .float64),
                                               try c.array(wv, shape: [f, ch / g] + k, dtype: .float64)],
                               ["kernel": .list(k.map { .int($0) }), "stride": .list(s.map { .int($0) }), "pad": .list(p.map { .int($0) }),
                                "dilate": .list(d.map { .int($0) }), "num_filter": .int(f), "num_group": .int(g), "no_bias": .bool(true)])[0]
        let script = """
        import numpy as np
        x = np.array(\(list(xv))).reshape(\(n), \(ch), \(dims[0]), \(dims[1]), \(dims[2]))
        W = np.array(\(list(wv))).reshape(\(f), \(ch / g), \(k[0]), \(k[1]), \(k[2]))
        g = \(g); s = \(list(s)); d = \(list(d)); p = \(list(p))
        xp = np.pad(x, ((0, 0), (0, 0)) + tuple((q, q) for q in p))
        o = [(xp.shape[2 + i] - d[i] * (W.shape[2 + i] - 1) - 1) // s[i] + 1 for i in range(3)]
        cg, fg = x.shape[1] // g, W.shape[0] // g
        out = np.zeros((x.shape[0], W.shape[0], *o))
        for grp in range(g):
            for a in range(W.shape[2]):
                for b in range(W.shape[3]):
                    for e in range(W.shape[4]):
                        sl = [slice(q * d[i], q * d[i] + s[i] * (o[i] - 1) + 1, s[i]) for i, q in enumerate((a, b, e))]
                        patch = xp[:, grp*cg:(grp+1)*cg, sl[0], sl[1], sl[2]]
                        out[:, grp*fg:(grp+1)*fg] += np.einsum('ncdhw,fc->nfdhw', patch, W[grp*fg:(grp+1)*fg, :, a, b, e])
        print(' '.join(repr(float(t)) for t in out.ravel()))
        """
        let want = numbers(try #require(runNumpy(script, input: "")))
        #expect(got.size == want.count)
        #expect(zip(got.toDoubles(), want).allSatisfy { abs($0 - $1) < 1e-12 })
    }
}
