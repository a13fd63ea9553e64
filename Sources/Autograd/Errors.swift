/// A typed engine error. `message` carries MXNet's exact text wherever MXNet has one.
public struct AutogradError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The error categories (the REST API maps each to a problem type).
    public enum Kind: String, Sendable {
        case shapeMismatch, dtypeMismatch, invalidParameter, unknownOperator,
             notInGraph,            // head has no recorded history
             graphFreed,            // head had a graph that a backward freed (same MXNet text as notInGraph)
             noGradVariables,
             variableNotAttached,
             variableUnreachable,
             inplaceOnGraphArray,
             inplaceWhileRecording,
             notPartOfGraph,        // get_symbol on an array with no history
             functionReused, functionBadGradients, notDifferentiable, invalidArgument,
             arrayTooLarge,         // an array would have more elements than `Context.Limits.maxElements`
             limitExceeded          // an allocation would pass the context's memory budget (`maxBytes`)
    }
    /// What went wrong, for mapping to API problems.
    public let kind: Kind
    /// The human-readable text (MXNet's where it has one).
    public let message: String

    /// An error of `kind` with `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// MXNet's error texts, quoted exactly because clients match on them.
enum MXNetText {
    static let notInGraph = "Cannot differentiate node because it is not in a computational graph. You need to set is_recording to true or use autograd.record() to save computational graphs for backward. If you want to differentiate the same graph twice, you need to pass retain_graph=True to backward."
    static let noGradVariables = "There are no inputs in computation graph that require gradients."
    static func variableNotAttached(_ i: Int) -> String {
        "Cannot differentiate with respect to the \(i)-th variable because it does not require gradient."
    }
    static func variableUnreachable(_ i: Int) -> String {
        "Cannot differentiate with respect to the \(i)-th variable because it is unreachable from the outputs."
    }
    static let inplaceOnGraphArray = "Assigning to NDArrays that are already in a computational graph will cause undefined behavior when evaluating gradients. Please call backward first to clear the graph or do this out side of a record section. Also note that you cannot use inplace operations like +=, *=, relu(x, out=x), y[idx]=x, etc inside a record section."
    static let inplaceWhileRecording = "Inplace operations (+=, -=, x[:]=, etc) are not supported when recording with autograd."
    static let notPartOfGraph = "NDArray is not part of a computation graph. Did you forget to turn on recording?"
    static let functionReused = "Each Function instance can only be called once. Please create another instance."
    static func notDifferentiable(_ op: String) -> String {
        "Operator \(op) is non-differentiable because it didn't register FGradient attribute."
    }
    static let emptyVariables = "variables cannot be an empty list."
    static let headGradsLength = "heads and head_grads must be lists of the same length"
}

/// Formats a shape the way MXNet prints it in errors: `[2,3]`.
func shapeText(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ",") + "]" }

/// Runs internal (untyped-throwing) engine code and surfaces its errors as `AutogradError`.
@inline(__always)
func typed<R>(_ body: () throws -> R) throws(AutogradError) -> R {
    do { return try body() } catch let e as AutogradError { throw e } catch {
        throw AutogradError(.invalidArgument, "\(error)")
    }
}
