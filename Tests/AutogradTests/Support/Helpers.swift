import Testing
@testable import Autograd

extension Context {
    /// A float array (float32 unless given) from values, shape defaulting to 1-D.
    func a(_ v: [Double], _ shape: [Int]? = nil, _ dtype: DType = .float32) throws -> NDArray {
        try array(v, shape: shape ?? [v.count], dtype: dtype)
    }
    /// invoke(...)[0]
    func f(_ op: String, _ xs: NDArray..., p: [String: OpParam] = [:]) throws -> NDArray { try invoke(op, xs, p)[0] }
}

/// Elementwise closeness.
func close(_ a: [Double], _ b: [Double], tol: Double = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tol * max(1, abs($1)) || ($0.isNaN && $1.isNaN) || $0 == $1 }
}

/// Expects an AutogradError of the given kind (and exact message when given).
func expectError(_ kind: AutogradError.Kind, _ message: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
                 _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected \(kind) error", sourceLocation: sourceLocation)
    } catch let error as AutogradError {
        #expect(error.kind == kind, "got \(error.kind): \(error.message)", sourceLocation: sourceLocation)
        if let message { #expect(error.message == message, sourceLocation: sourceLocation) }
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}
