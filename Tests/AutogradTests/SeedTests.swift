import Testing
@testable import Autograd

@Suite struct SeedTests {
    @Test("record x*x+1 on [1,2,3,4], backward gives exactly [2,4,6,8]")
    func seedExample() throws {
        let ctx = Context()
        let x = try ctx.array([1, 2, 3, 4], shape: [4])
        ctx.attachGrad(x)
        let y = try ctx.record { try x * x + 1 }
        try ctx.backward([y])
        #expect(x.grad?.toDoubles() == [2, 4, 6, 8])
        #expect(x.grad?.dtype == .float32)
    }

    @Test("d²/dx² of x³ is 6x through grad(createGraph:)")
    func cubeSecondDerivative() throws {
        let ctx = Context()
        let x = try ctx.array([1, 2, 3], shape: [3], dtype: .float64)
        ctx.attachGrad(x)
        let dx = try ctx.record { () throws -> NDArray in
            let y = try x * x * x
            return try ctx.grad([y], variables: [x], createGraph: true)[0]
        }
        #expect(dx.toDoubles() == [3, 12, 27])
        try ctx.backward([dx])
        #expect(x.grad?.toDoubles() == [6, 12, 18])
    }
}
