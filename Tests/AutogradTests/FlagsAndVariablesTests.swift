import Testing
@testable import Autograd

@Suite struct FlagTests {
    @Test("flags start false; set_* return the previous value")
    func flags() {
        let c = Context()
        #expect(!c.isRecording && !c.isTraining)
        #expect(c.setRecording(true) == false)
        #expect(c.setRecording(true) == true)
        #expect(c.setTraining(true) == false)
        #expect(c.setTraining(false) == true)
        #expect(c.isRecording && !c.isTraining)
    }

    @Test("scope nesting gives MXNet's probed (rec, train) pairs")
    func nesting() {
        let c = Context()
        func state() -> [Bool] { [c.isRecording, c.isTraining] }
        c.record {
            #expect(state() == [true, true])
            c.pause {
                #expect(state() == [false, false])
                c.record(trainMode: false) { #expect(state() == [true, false]) }
                #expect(state() == [false, false])
            }
            c.predictMode { #expect(state() == [true, false]) }
        }
        #expect(state() == [false, false])
        c.pause(trainMode: true) { #expect(state() == [false, true]) }
        c.trainMode { #expect(state() == [false, true]) }
        #expect(state() == [false, false])
    }

    @Test("exit restores a flag only if the saved value differs from the scope's value")
    func exitQuirk() {
        let c = Context()
        c.setRecording(true)
        c.record { _ = c.setRecording(false) }
        #expect(!c.isRecording, "a manual set_recording(False) inside an already-recording scope survives the exit")
        let outer = c.enterScope(.record)
        let inner = c.enterScope(.record)
        c.setRecording(false)
        c.exitScope(inner)
        #expect(!c.isRecording)
        c.exitScope(outer)
        #expect(!c.isRecording)
        #expect(inner.kind == .record)
    }

    @Test("a scope exits when an error leaves it, and the error propagates")
    func exitOnError() {
        struct Boom: Error {}
        let c = Context()
        #expect(throws: Boom.self) { try c.record { throw Boom() } }
        #expect(!c.isRecording && !c.isTraining)
    }
}

@Suite struct VariableTests {
    @Test("attach_grad gives zeros; re-attaching resets them; .grad is nil before and on intermediates")
    func attach() throws {
        let c = Context()
        let x = try c.a([1, 2])
        #expect(x.grad == nil && x.gradReq == nil)
        c.attachGrad(x)
        #expect(x.grad?.toDoubles() == [0, 0] && x.gradReq == .write)
        let y = try c.record { try x * 2 }
        #expect(y.grad == nil && y.isInGraph)
        try c.backward([y])
        #expect(x.grad?.toDoubles() == [2, 2])
        c.attachGrad(x)
        #expect(x.grad?.toDoubles() == [0, 0])
    }

    @Test("attach_grad on an intermediate makes a new leaf that stops gradient flow")
    func attachIntermediate() throws {
        let c = Context()
        let x = try c.a([1, 2])
        c.attachGrad(x)
        try c.record {
            let y = try x * 2
            c.attachGrad(y)
            let z = try y * 3
            try c.backward([z])
            #expect(y.grad?.toDoubles() == [3, 3])
        }
        #expect(x.grad?.toDoubles() == [0, 0])
    }

    @Test("grad_req add accumulates over three backwards of x²")
    func gradReqAdd() throws {
        let c = Context()
        let x = try c.a([1, 2, 3])
        c.attachGrad(x, gradReq: .add)
        for expected in [[2.0, 4, 6], [4, 8, 12], [6, 12, 18]] {
            let y = try c.record { try x * x }
            try c.backward([y])
            #expect(x.grad?.toDoubles() == expected)
        }
    }

    @Test("grad_req null: zero buffer, lone variable errors, others still get gradients, mark removed after backward")
    func gradReqNull() throws {
        let c = Context()
        let x = try c.a([1, 2]), w = try c.a([3, 4])
        c.attachGrad(x, gradReq: .null)
        #expect(x.grad?.toDoubles() == [0, 0])
        let y = try c.record { try x * x }
        expectError(.noGradVariables, "There are no inputs in computation graph that require gradients.") { try c.backward([y]) }
        c.attachGrad(w)
        let z = try c.record { try x * w }
        try c.backward([z])
        #expect(w.grad?.toDoubles() == [1, 2])
        #expect(x.grad == nil, "graph cleanup removes the null variable's mark")
        let later = try c.record { try x * 2 }
        #expect(!later.isInGraph)
    }

    @Test("the .grad handle aliases the buffer: a handle taken before backward shows the new values")
    func aliasing() throws {
        let c = Context()
        let x = try c.a([1, 2])
        c.attachGrad(x)
        let g = try #require(x.grad)
        let y = try c.record { try x * 5 }
        try c.backward([y])
        #expect(g.toDoubles() == [5, 5])
        #expect(g === x.grad)
    }

    @Test("mark_variables uses the caller's buffers with write and add")
    func markVariables() throws {
        let c = Context()
        let x = try c.a([1, 2]), u = try c.a([3, 4])
        let gx = try c.a([7, 7]), gu = try c.a([100, 100])
        try c.markVariables([x, u], gradients: [gx, gu], gradReqs: [.write, .add])
        #expect(!x.freshGrad)
        let y = try c.record { try x * u }
        try c.backward([y])
        #expect(gx.toDoubles() == [3, 4])
        #expect(gu.toDoubles() == [101, 102])
        #expect(x.grad === gx && u.grad === gu)
        #expect(x.freshGrad && u.freshGrad)
        x.freshGrad = false
        #expect(!x.freshGrad)
        expectError(.invalidArgument) { try c.markVariables([x], gradients: [], gradReqs: [.write]) }
        expectError(.shapeMismatch) { try c.markVariables([x], gradients: [try c.a([1])], gradReqs: [.write]) }
    }

    @Test("a marked variable unreachable from the heads is left untouched")
    func unreachableUntouched() throws {
        let c = Context()
        let x = try c.a([1]), other = try c.a([5])
        c.attachGrad(x)
        try c.markVariables([other], gradients: [try c.a([9])], gradReqs: [.write])
        let y = try c.record { try x * 2 }
        try c.backward([y])
        #expect(other.grad?.toDoubles() == [9])
        #expect(!other.freshGrad)
    }
}
