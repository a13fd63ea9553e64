import Testing
import Glibc
@testable import Autograd

private let notInGraph = "Cannot differentiate node because it is not in a computational graph. You need to set is_recording to true or use autograd.record() to save computational graphs for backward. If you want to differentiate the same graph twice, you need to pass retain_graph=True to backward."

@Suite struct RecordingTests {
    @Test("ops on arrays not in a graph are not recorded, even inside record")
    func unattachedNotRecorded() throws {
        let c = Context()
        let x = try c.a([1, 2])
        let y = try c.record { try x * 2 }
        #expect(!y.isInGraph)
        expectError(.notInGraph, notInGraph) { try c.backward([y]) }
    }

    @Test("pause acts as a stop-gradient: 2x + pause(x²) has gradient 2")
    func pauseStops() throws {
        let c = Context()
        let x = try c.a([1, 2, 3])
        c.attachGrad(x)
        let y = try c.record { try x * 2 + c.pause { try x * x } }
        try c.backward([y])
        #expect(x.grad?.toDoubles() == [2, 2, 2])
    }

    @Test("saved tensors are not copied: an in-place change outside record before backward is seen")
    func savedNotCopied() throws {
        let c = Context()
        let x = try c.a([1, 2, 3])
        c.attachGrad(x)
        let y = try c.record { try x * x }
        _ = try c.invoke("_plus_scalar", [x], ["scalar": .double(1)], out: [x])
        try c.backward([y])
        #expect(x.grad?.toDoubles() == [4, 6, 8])
    }

    @Test("an SGD step outside record is legal between iterations")
    func sgdStep() throws {
        let c = Context()
        let x = try c.a([1, 2])
        c.attachGrad(x)
        let y = try c.record { try x * x }
        try c.backward([y])
        let step = try c.f("_mul_scalar", x.grad!, p: ["scalar": .double(0.5)])
        _ = try c.invoke("broadcast_sub", [x, step], out: [x])
        #expect(x.toDoubles() == [0, 0])
    }

    @Test("comparisons give 0/1 in the input dtype")
    func comparisons() throws {
        let c = Context()
        let a = try c.a([1, 2, 3], nil, .float64), b = try c.a([3, 2, 1], nil, .float64)
        let eq = try c.f("broadcast_equal", a, b)
        #expect(eq.dtype == .float64 && eq.toDoubles() == [0, 1, 0])
        #expect(try c.f("broadcast_greater", a, b).toDoubles() == [0, 0, 1])
        #expect(try c.f("broadcast_lesser_equal", a, b).toDoubles() == [1, 1, 0])
        #expect(try c.f("broadcast_not_equal", a, b).toDoubles() == [1, 0, 1])
        #expect(try c.f("broadcast_greater_equal", a, b).toDoubles() == [0, 1, 1])
        #expect(try c.f("broadcast_lesser", a, b).toDoubles() == [1, 0, 0])
        let i = try c.a([1, 5], nil, .int32)
        let gt = try c.f("_greater_scalar", i, p: ["scalar": .double(2)])
        #expect(gt.dtype == .int32 && gt.toDoubles() == [0, 1])
        #expect(try c.f("_equal_scalar", i, p: ["scalar": .int(5)]).toDoubles() == [0, 1])
        #expect(try c.f("_not_equal_scalar", i, p: ["scalar": .int(5)]).toDoubles() == [1, 0])
        #expect(try c.f("_lesser_scalar", i, p: ["scalar": .int(5)]).toDoubles() == [1, 0])
        #expect(try c.f("_lesser_equal_scalar", i, p: ["scalar": .int(5)]).toDoubles() == [1, 1])
        #expect(try c.f("_greater_equal_scalar", i, p: ["scalar": .int(5)]).toDoubles() == [0, 1])
    }
}

@Suite struct BackwardTests {
    @Test("backward errors: outside record, under pause, no variable upstream, second backward, one bad head in a list")
    func errors() throws {
        let c = Context()
        let x = try c.a([1, 2])
        c.attachGrad(x)
        let outside = try x * 2
        expectError(.notInGraph, notInGraph) { try c.backward([outside]) }
        let paused = try c.record { try c.pause { try x * 2 } }
        expectError(.notInGraph, notInGraph) { try c.backward([paused]) }
        let y = try c.record { try x * 2 }
        try c.backward([y])
        expectError(.graphFreed, notInGraph) { try c.backward([y]) }
        let z = try c.record { try x * 3 }
        expectError(.notInGraph, notInGraph) { try c.backward([z, outside]) }
    }

    @Test("a missing head gradient means ones: non-scalar heads act like sum")
    func implicitOnes() throws {
        let c = Context()
        let x = try c.a([1, 2, 3, 4], [2, 2])
        c.attachGrad(x)
        let y = try c.record { try x * 3 }
        try c.backward([y])
        #expect(x.grad?.toDoubles() == [3, 3, 3, 3])
    }

    @Test("head gradients with a different shape or dtype than the head are rejected")
    func headGradMismatch() throws {
        let c = Context()
        let x = try c.a([1, 2, 3, 4], [2, 2])
        c.attachGrad(x)
        let y = try c.record { try x * 3 }
        expectError(.shapeMismatch) { try c.backward([y], headGrads: [try c.a([1, 1])], retainGraph: true) }
        expectError(.dtypeMismatch) { try c.backward([y], headGrads: [try c.a([1, 1, 1, 1], [2, 2], .float64)], retainGraph: true) }
        expectError(.invalidArgument, "heads and head_grads must be lists of the same length") {
            try c.backward([y], headGrads: [nil, nil], retainGraph: true)
        }
        try c.backward([y], headGrads: [try c.a([1, 10, 100, 1000], [2, 2])])
        #expect(x.grad?.toDoubles() == [3, 30, 300, 3000])
    }

    @Test("several heads sum their gradients; a variable used several times sums its contributions")
    func multipleHeads() throws {
        let c = Context()
        let x = try c.a([1, 2, 3])
        c.attachGrad(x)
        var (a, b) = try c.record { (try x * 2, try x * x) }
        try c.backward([a, b])
        #expect(x.grad?.toDoubles() == [4, 6, 8])
        (a, b) = try c.record { (try x * 2, try x * x) }
        try c.backward([a, b], headGrads: [nil, try c.a([10, 10, 10])])
        #expect(x.grad?.toDoubles() == [22, 42, 62])
        let y = try c.record { try x * x + x * 3 + x }
        try c.backward([y])
        #expect(x.grad?.toDoubles() == [6, 8, 10])
    }

    @Test("retain_graph keeps the graph: add doubles, write holds the gradient once")
    func retainGraph() throws {
        for (req, expected) in [(GradReq.add, [2.0]), (.write, [1.0])] {
            let c = Context()
            let x = try c.a([5])
            c.attachGrad(x, gradReq: req)
            let y = try c.record { try x + 1 }
            try c.backward([y], retainGraph: true)
            try c.backward([y])
            #expect(x.grad?.toDoubles() == expected)
            expectError(.graphFreed, notInGraph) { try c.backward([y]) }
        }
    }

    @Test("backward runs with recording off and training = train_mode, restoring both (also on error)")
    func backwardFlags() throws {
        let c = Context()
        let x = try c.a([1])
        c.attachGrad(x)
        var seen: [[Bool]] = []
        let probe = { (train: Bool) throws -> NDArray in
            let f = Function(forward: { _, xs in [try xs[0] * 1] }, backward: { fc, gs in
                seen.append([fc.context.isRecording, fc.context.isTraining])
                return gs
            })
            return try c.record(trainMode: train) { try c.apply(f, [x])[0] }
        }
        try c.backward([try probe(true)])
        try c.backward([try probe(true)], trainMode: false)
        #expect(seen == [[false, true], [false, false]])
        #expect(!c.isRecording && !c.isTraining)
        let bad = try c.record { try x * 2 }
        c.setTraining(true)
        expectError(.shapeMismatch) { try c.backward([bad], headGrads: [try c.a([1, 2])], trainMode: false) }
        #expect(c.isTraining)
    }

    @Test("backward on a marked leaf writes ones; backward inside record leaves recording on")
    func leafAndInsideRecord() throws {
        let c = Context()
        let x = try c.a([1, 2])
        c.attachGrad(x)
        try c.backward([x])
        #expect(x.grad?.toDoubles() == [1, 1])
        try c.record {
            let y = try x * 4
            try c.backward([y])
            #expect(c.isRecording)
            let z = try x.grad! * 2
            #expect(!z.isInGraph)
        }
        #expect(x.grad?.toDoubles() == [4, 4])
    }
}

@Suite struct GradFunctionTests {
    @Test("grad returns new arrays, leaves .grad alone, and frees the graph unless create_graph")
    func gradBasics() throws {
        let c = Context()
        let x = try c.a([1, 2, 3])
        c.attachGrad(x)
        try c.assign(x.grad!, from: try c.a([7]))
        let y = try c.record { try x * x }
        let g = try c.grad([y], variables: [x])
        #expect(g.count == 1 && g[0].toDoubles() == [2, 4, 6])
        #expect(x.grad?.toDoubles() == [7, 7, 7])
        expectError(.graphFreed, notInGraph) { _ = try c.grad([y], variables: [x]) }
    }

    @Test("variable errors use MXNet's 1-based texts")
    func variableErrors() throws {
        let c = Context()
        let x = try c.a([1]), w = try c.a([2]), plain = try c.a([3])
        c.attachGrad(x)
        c.attachGrad(w)
        let y = try c.record { try x * 2 }
        expectError(.variableNotAttached, "Cannot differentiate with respect to the 1-th variable because it does not require gradient.") {
            _ = try c.grad([y], variables: [plain], retainGraph: true)
        }
        expectError(.variableUnreachable, "Cannot differentiate with respect to the 2-th variable because it is unreachable from the outputs.") {
            _ = try c.grad([y], variables: [x, w], retainGraph: true)
        }
        expectError(.invalidArgument, "variables cannot be an empty list.") { _ = try c.grad([y], variables: []) }
        expectError(.invalidArgument) { _ = try c.grad([y], variables: [x, x], retainGraph: true) }
    }

    @Test("grad with head gradients scales: grad([3x], [x], [[1,10]]) = [3,30]")
    func gradHeadGrads() throws {
        let c = Context()
        let x = try c.a([1, 2])
        c.attachGrad(x)
        let y = try c.record { try x * 3 }
        #expect(try c.grad([y], variables: [x], headGrads: [try c.a([1, 10])])[0].toDoubles() == [3, 30])
    }

    @Test("create_graph outside record: exp(x)+x gives 3.71828, then backward gives 2.71828")
    func createGraphOutsideRecord() throws {
        let c = Context()
        let x = try c.a([1], nil, .float64)
        c.attachGrad(x)
        let z = try c.record { try c.f("exp", x) + x }
        let dx = try c.grad([z], variables: [x], createGraph: true)[0]
        #expect(close(dx.toDoubles(), [M_E + 1], tol: 1e-12))
        try c.backward([dx])
        #expect(close(x.grad!.toDoubles(), [M_E], tol: 1e-12))
    }

    @Test("third order: d³/dx³ sin = -cos; the x*x*x chain works to third order (6)")
    func thirdOrder() throws {
        let c = Context()
        let x = try c.a([0.3, 1.1], nil, .float64)
        c.attachGrad(x)
        let d3 = try c.record { () throws -> NDArray in
            let y = try c.f("sin", x)
            let d1 = try c.grad([y], variables: [x], createGraph: true)[0]
            let d2 = try c.grad([d1], variables: [x], createGraph: true)[0]
            return try c.grad([d2], variables: [x], createGraph: true)[0]
        }
        #expect(close(d3.toDoubles(), [-cos(0.3), -cos(1.1)], tol: 1e-12))
        let e3 = try c.record { () throws -> NDArray in
            let y = try x * x * x
            let d1 = try c.grad([y], variables: [x], createGraph: true)[0]
            let d2 = try c.grad([d1], variables: [x], createGraph: true)[0]
            return try c.grad([d2], variables: [x], createGraph: true)[0]
        }
        #expect(e3.toDoubles() == [6, 6])
    }
}
