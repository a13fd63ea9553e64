import Autograd
import Wire

/// Values for a new or overwritten array, decoded from a JSON `Tensor` or an `.npy` body.
enum TensorInput {
    /// JSON numbers as Wire parsed them; `dtype` is nil when the request named none (then the
    /// target's dtype for an overwrite, else float32, MXNet's default).
    case json(NumericArray, shape: [Int], dtype: DType?)
    /// Little-endian, row-major element bytes (`.npy`).
    case bytes(ArraySlice<UInt8>, shape: [Int], dtype: DType)

    var shape: [Int] {
        switch self {
        case .json(_, let shape, _), .bytes(_, let shape, _): shape
        }
    }
}

/// Array ids visible to a piece of work: the session's arrays, or the locals of a custom
/// function's program (which also see the arrays of the enclosing table).
final class ArrayTable {
    private(set) var arrays: [String: NDArray] = [:]
    /// Ids in insertion order, so listings are stable.
    private(set) var order: [String] = []
    let parent: ArrayTable?

    init(parent: ArrayTable? = nil) { self.parent = parent }

    func lookup(_ id: String) -> NDArray? { arrays[id] ?? parent?.lookup(id) }

    func contains(_ id: String) -> Bool { lookup(id) != nil }

    func insert(_ array: NDArray, id: String) {
        if arrays.updateValue(array, forKey: id) == nil { order.append(id) }
    }

    @discardableResult
    func remove(_ id: String) -> Bool {
        guard arrays.removeValue(forKey: id) != nil else { return false }
        order.removeAll { $0 == id }
        return true
    }

    /// Removes every id present; returns how many were. One pass over `order` for all of them
    /// (a batched release of k ids costs O(n + k), not O(n k)).
    func remove(_ ids: [String]) -> Int {
        var removed = Set<String>()
        for id in ids where arrays.removeValue(forKey: id) != nil { removed.insert(id) }
        if !removed.isEmpty { order.removeAll { removed.contains($0) } }
        return removed.count
    }

    var count: Int { arrays.count }
}

/// One open scope of a session's scope stack.
struct ScopeFrame {
    let id: String
    let token: Context.ScopeToken
    let kind: Context.ScopeKind
    /// The effective `train_mode` of the scope (what it sets the training flag to).
    let trainMode: Bool
    let depth: Int
    let isRecording: Bool
    let isTraining: Bool
}

/// The recording and training flags of a session.
struct Flags: Equatable {
    var isRecording: Bool
    var isTraining: Bool
}

/// Per-session limits (from ``ServiceConfiguration``).
struct SessionLimits {
    let maxBytes: Int
    let maxArrayElements: Int
    let maxArrays: Int
}

/// A session's autograd state: its engine context, arrays, scope stack and custom functions.
///
/// Not thread-safe: every access happens on the session's serial queue. Each public action of
/// the API is one method here, called by both the single-route handlers and `run` steps.
final class Session {
    let id: String
    let context: Context
    let limits: SessionLimits
    /// The registry's count of successful operator invocations, shared by all sessions.
    let opsExecuted: Counter
    let arrays = ArrayTable()
    private(set) var scopes: [ScopeFrame] = []
    private var functions: [String: Function] = [:]
    /// The API error a custom function's program raised inside the engine (which only passes
    /// its own error type through); reported instead of the engine's wrapper.
    private var functionFailure: APIError?
    /// Variable ids (`NDArray.variableID`) whose gradient the last successful backward or grad
    /// reached; graph renderings highlight them.
    private(set) var lastBackwardReached: Set<Int> = []
    private var nextArrayNumber = 0
    private var nextScopeNumber = 0
    private var nextFunctionNumber = 0

    init(id: String, seed: UInt64, limits: SessionLimits, opsExecuted: Counter) {
        self.id = id
        self.limits = limits
        self.opsExecuted = opsExecuted
        self.context = Context(seed: seed, limits: .init(maxElements: limits.maxArrayElements, maxBytes: limits.maxBytes))
    }

    // MARK: - Ids and lookup

    /// The array with this id, or 404 `array-not-found`.
    func array(_ id: String, in table: ArrayTable? = nil) throws(APIError) -> NDArray {
        guard let array = (table ?? arrays).lookup(id) else { throw Self.arrayNotFound(id) }
        return array
    }

    static func arrayNotFound(_ id: String) -> APIError {
        APIError(.arrayNotFound, "No array with id '\(id)' in this session.", ["array_id": .string(id)])
    }

    /// Validates client-chosen output ids before any work is done: well-formed, unused, distinct.
    func checkNewIDs(_ ids: [String], in table: ArrayTable? = nil) throws(APIError) {
        var seen = Set<String>()
        for id in ids {
            try Self.validateID(id)
            guard !(table ?? arrays).contains(id), seen.insert(id).inserted else {
                throw APIError(.arrayExists, "An array with id '\(id)' already exists.", ["array_id": .string(id)])
            }
        }
    }

    /// Stores outputs under the given ids, or under fresh server ids `t<N>`.
    func store(_ outputs: [NDArray], ids: [String]?, in table: ArrayTable? = nil) -> [(String, NDArray)] {
        let table = table ?? arrays
        var stored: [(String, NDArray)] = []
        for (index, output) in outputs.enumerated() {
            let id = ids.map { $0[index] } ?? freshID(in: table)
            table.insert(output, id: id)
            stored.append((id, output))
        }
        return stored
    }

    private func freshID(in table: ArrayTable) -> String {
        while true {
            let id = "t\(nextArrayNumber)"
            nextArrayNumber += 1
            if !table.contains(id) { return id }
        }
    }

    /// Array ids are `^[A-Za-z0-9_.:-]{1,128}$`.
    static func validateID(_ id: String) throws(APIError) {
        let utf8 = id.utf8
        let ok = (1...128).contains(utf8.count) && utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."),
                 UInt8(ascii: ":"), UInt8(ascii: "-"): true
            default: false
            }
        }
        guard ok else {
            throw APIError(.invalidArgument, "Array id '\(id)' must match ^[A-Za-z0-9_.:-]{1,128}$.", ["array_id": .string(id)])
        }
    }

    // MARK: - Memory

    /// Checks that `count` more arrays fit under the session's array limit.
    func checkArrayCount(adding count: Int) throws(APIError) {
        guard arrays.count + count <= limits.maxArrays else {
            throw APIError(.sessionQuotaExceeded,
                           "The session holds \(arrays.count) arrays; at most \(limits.maxArrays) are allowed. Release arrays first.",
                           ["session_id": .string(id)])
        }
    }

    /// Checks an allocation of `shape`/`dtype` against the element limit and the session budget,
    /// before anything is allocated.
    func checkAllocation(shape: [Int], dtype: DType) throws(APIError) {
        var elements = 1
        for dim in shape {
            guard dim >= 0 else {
                throw APIError(.invalidArgument, "Shape \(shape) has a negative dimension.")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= limits.maxArrayElements else {
                throw APIError(.arrayTooLarge,
                               "Shape \(shape) has more than the \(limits.maxArrayElements) elements allowed per array.",
                               ["expected": .int(limits.maxArrayElements)])
            }
            elements = product
        }
        let bytes = elements * dtype.byteSize
        guard context.allocatedBytes + bytes <= limits.maxBytes else {
            throw APIError(.sessionQuotaExceeded,
                           "Allocating \(bytes) bytes would exceed the session budget of \(limits.maxBytes) bytes (\(context.allocatedBytes) in use). Release arrays first.",
                           ["session_id": .string(id)])
        }
    }

    // MARK: - Arrays

    /// Creates an engine array from decoded input (limits checked first).
    private func makeArray(_ input: TensorInput, defaultDType: DType = .float32) throws(APIError) -> NDArray {
        switch input {
        case .json(let numbers, let shape, let given):
            let dtype = given ?? defaultDType
            try checkAllocation(shape: shape, dtype: dtype)
            switch dtype {
            case .float32:
                // Wire's correctly rounded floats (no double rounding through Double).
                let floats: [Float]
                do { floats = try numbers.floats() } catch { throw APIError(.invalidArgument, "'data': \(error.message).") }
                return try makeArray(.bytes(floats.withUnsafeBytes { ArraySlice($0) }, shape: shape, dtype: .float32))
            case .float64:
                return try engine { () throws(AutogradError) in try context.array(numbers.values, shape: shape, dtype: dtype) }
            case .int32, .int64, .uint8:
                try Self.checkIntegers(numbers.values, dtype: dtype)
                return try engine { () throws(AutogradError) in try context.array(numbers.values, shape: shape, dtype: dtype) }
            }
        case .bytes(let bytes, let shape, let dtype):
            try checkAllocation(shape: shape, dtype: dtype)
            let made = bytes.withUnsafeBytes { raw in
                Result { () throws(AutogradError) in try context.array(bytes: raw, shape: shape, dtype: dtype) }
            }
            return try engine { () throws(AutogradError) in try made.get() }
        }
    }

    /// Integer dtypes take only integral values in their range (no silent truncation).
    private static func checkIntegers(_ values: [Double], dtype: DType) throws(APIError) {
        let range: ClosedRange<Double> = switch dtype {
        case .uint8: 0...255
        case .int32: Double(Int32.min)...Double(Int32.max)
        default: -9.223372036854775808e18...9.223372036854775e18
        }
        for (index, value) in values.enumerated() where !(value.rounded() == value && range.contains(value)) {
            throw APIError(.invalidArgument, "'data' value \(value) at index \(index) is not a valid \(dtype.rawValue).")
        }
    }

    /// `POST .../arrays` and the `create` step.
    func createArray(_ input: TensorInput, id: String?, in table: ArrayTable? = nil) throws(APIError) -> (String, NDArray) {
        if let id { try checkNewIDs([id], in: table) }
        try checkArrayCount(adding: 1)
        let array = try makeArray(input)
        return store([array], ids: id.map { [$0] }, in: table)[0]
    }

    /// `PUT .../data` and the `assign` step: `x[:] = v` with MXNet's §9 rules inside `record`.
    func assign(_ id: String, _ input: TensorInput, in table: ArrayTable? = nil) throws(APIError) -> NDArray {
        let target = try array(id, in: table)
        guard input.shape.reduce(1, *) == target.size, input.shape == target.shape || input.shape == [target.size] else {
            throw APIError(.dataSizeMismatch,
                           "Cannot assign values of shape \(input.shape) to array '\(id)' of shape \(target.shape).",
                           ["array_id": .string(id), "expected": .ints(target.shape), "actual": .ints(input.shape)])
        }
        let source: NDArray
        switch input {
        case .json(let numbers, _, let dtype): source = try makeArray(.json(numbers, shape: target.shape, dtype: dtype), defaultDType: target.dtype)
        case .bytes(let bytes, _, let dtype) where dtype == target.dtype:
            // Same dtype (an .npy upload): copied straight from the body into the array.
            let done = bytes.withUnsafeBytes { raw in
                Result { () throws(AutogradError) in try context.assign(target, bytes: raw) }
            }
            try engine { () throws(AutogradError) in try done.get() }
            return target
        case .bytes(let bytes, _, let dtype): source = try makeArray(.bytes(bytes, shape: target.shape, dtype: dtype))
        }
        try engine { () throws(AutogradError) in try context.assign(target, from: source) }
        return target
    }

    /// `DELETE .../arrays/{aid}`.
    func deleteArray(_ id: String) throws(APIError) {
        guard arrays.remove(id) else { throw Self.arrayNotFound(id) }
    }

    /// `POST .../release` and the `release` step: unknown ids are ignored.
    func release(_ ids: [String], in table: ArrayTable? = nil) -> Int {
        let table = table ?? arrays
        return table.remove(ids)
    }

    /// `POST .../detach` and the `detach` step.
    func detach(_ id: String, newID: String?, in table: ArrayTable? = nil) throws(APIError) -> (String, NDArray) {
        let source = try array(id, in: table)
        if let newID { try checkNewIDs([newID], in: table) }
        try checkArrayCount(adding: 1)
        return store([context.detach(source)], ids: newID.map { [$0] }, in: table)[0]
    }

    // MARK: - Autograd

    /// `PUT .../grad` and the `attach_grad` step (re-attaching zeroes the buffer).
    func attachGrad(_ id: String, gradReq: GradReq, in table: ArrayTable? = nil) throws(APIError) -> NDArray {
        let target = try array(id, in: table)
        try checkAllocation(shape: target.shape, dtype: target.dtype)
        context.attachGrad(target, gradReq: gradReq)
        return target
    }

    /// The gradient buffer of an array, or 404 `grad-not-attached`.
    func gradient(of id: String, in table: ArrayTable? = nil) throws(APIError) -> NDArray {
        let target = try array(id, in: table)
        guard let grad = target.grad else {
            throw APIError(.gradNotAttached, "Array '\(id)' has no gradient buffer; call attach_grad first.",
                           ["array_id": .string(id)])
        }
        return grad
    }

    /// `POST .../mark_variables` and the `mark_variables` step.
    func markVariables(_ variables: [String], gradients: [String], gradReqs: [GradReq],
                       in table: ArrayTable? = nil) throws(APIError) {
        guard variables.count == gradients.count, gradReqs.count == variables.count else {
            throw APIError(.invalidArgument, "variables, gradients and grad_reqs must have the same length.")
        }
        let vars = try variables.map { (id) throws(APIError) in try array(id, in: table) }
        let grads = try gradients.map { (id) throws(APIError) in try array(id, in: table) }
        try engine { () throws(AutogradError) in try context.markVariables(vars, gradients: grads, gradReqs: gradReqs) }
    }

    /// Resolves `head_grads` (ids or null) and rejects any whose shape or dtype differs from its head
    /// (stricter than MXNet, which silently computes garbage for some ops).
    private func headGradients(_ ids: [String?]?, heads: [NDArray], headIDs: [String],
                               in table: ArrayTable?) throws(APIError) -> [NDArray?]? {
        guard let ids else { return nil }
        guard ids.count == heads.count else {
            throw APIError(.invalidArgument, "heads and head_grads must be lists of the same length.",
                           ["expected": .int(heads.count), "actual": .int(ids.count)])
        }
        var result: [NDArray?] = []
        for (index, id) in ids.enumerated() {
            guard let id else { result.append(nil); continue }
            let grad = try array(id, in: table)
            let head = heads[index]
            guard grad.shape == head.shape else {
                throw APIError(.shapeMismatch,
                               "head_grads[\(index)] has shape \(grad.shape) but head '\(headIDs[index])' has shape \(head.shape).",
                               ["array_id": .string(id), "expected": .ints(head.shape), "actual": .ints(grad.shape)])
            }
            guard grad.dtype == head.dtype else {
                throw APIError(.dtypeMismatch,
                               "head_grads[\(index)] has dtype \(grad.dtype.rawValue) but head '\(headIDs[index])' has dtype \(head.dtype.rawValue).",
                               ["array_id": .string(id), "expected": .string(head.dtype.rawValue), "actual": .string(grad.dtype.rawValue)])
            }
            result.append(grad)
        }
        return result
    }

    /// `POST .../backward` and the `backward` step; returns the ids of the arrays whose gradient
    /// buffer the backward pass wrote (observed through MXNet's `_fresh_grad` flag).
    func backward(heads headIDs: [String], headGrads: [String?]?, retainGraph: Bool, trainMode: Bool,
                  in table: ArrayTable? = nil) throws(APIError) -> [String] {
        guard !headIDs.isEmpty else { throw APIError(.invalidArgument, "heads must not be empty.") }
        let heads = try headIDs.map { (id) throws(APIError) in try array(id, in: table) }
        let grads = try headGradients(headGrads, heads: heads, headIDs: headIDs, in: table)
        // Walks the table's storage (no lookup per id): this runs on every backward, and a
        // session may hold thousands of arrays.
        var watched: [(id: String, array: NDArray, wasFresh: Bool)] = []
        for (id, array) in arrays.arrays where array.grad != nil { watched.append((id, array, array.freshGrad)) }
        for entry in watched { entry.array.freshGrad = false }
        defer {
            for entry in watched where !entry.array.freshGrad { entry.array.freshGrad = entry.wasFresh }
        }
        try engine { () throws(AutogradError) in
            try context.backward(heads, headGrads: grads, retainGraph: retainGraph, trainMode: trainMode)
        }
        let reached = watched.filter { $0.array.freshGrad }
        lastBackwardReached = Set(reached.compactMap { $0.array.variableID })
        guard reached.count > 1 else { return reached.map(\.id) }
        let ids = Set(reached.map(\.id))
        return arrays.order.filter { ids.contains($0) }   // in the table's order, as listings are
    }

    /// `POST .../grad` and the `grad` step: new gradient arrays, one per variable.
    func grad(heads headIDs: [String], variables variableIDs: [String], headGrads: [String?]?,
              retainGraph: Bool?, createGraph: Bool, trainMode: Bool, ids: [String]?,
              in table: ArrayTable? = nil) throws(APIError) -> [(String, NDArray)] {
        guard !headIDs.isEmpty else { throw APIError(.invalidArgument, "heads must not be empty.") }
        guard !variableIDs.isEmpty else { throw APIError(.invalidArgument, "variables cannot be an empty list.") }
        if let ids {
            guard ids.count == variableIDs.count else {
                throw APIError(.invalidArgument, "ids must name one array per variable.",
                               ["expected": .int(variableIDs.count), "actual": .int(ids.count)])
            }
            try checkNewIDs(ids, in: table)
        }
        try checkArrayCount(adding: variableIDs.count)
        let heads = try headIDs.map { (id) throws(APIError) in try array(id, in: table) }
        let variables = try variableIDs.map { (id) throws(APIError) in try array(id, in: table) }
        let grads = try headGradients(headGrads, heads: heads, headIDs: headIDs, in: table)
        let results = try engine { () throws(AutogradError) in
            try context.grad(heads, variables: variables, headGrads: grads, retainGraph: retainGraph,
                             createGraph: createGraph, trainMode: trainMode)
        }
        lastBackwardReached = Set(variables.compactMap(\.variableID))
        return store(results, ids: ids, in: table)
    }

    /// `GET .../graph`: get_symbol.
    func symbol(of id: String) throws(APIError) -> GraphSymbol {
        let head = try array(id)
        return try engine { () throws(AutogradError) in try context.symbol(of: head) }
    }

    // MARK: - Operators

    /// `POST .../ops/{op}` and the `op` step.
    func invoke(_ op: String, inputs inputIDs: [String], params: [String: OpParam], out outIDs: [String]?,
                ids: [String]?, in table: ArrayTable? = nil) throws(APIError) -> [(String, NDArray)] {
        guard let spec = OperatorIndex.spec(op) else {
            throw APIError(.unknownOp, "Operator '\(op)' is not in the catalog (GET /v1/ops lists them).", ["op": .string(op)])
        }
        if let ids {
            if spec.outputs > 0, ids.count != spec.outputs {
                throw APIError(.invalidArgument, "'\(op)' has \(spec.outputs) output(s) but ids names \(ids.count).",
                               ["op": .string(op), "expected": .int(spec.outputs), "actual": .int(ids.count)])
            }
            if outIDs != nil { throw APIError(.invalidArgument, "Give either out or ids, not both.", ["op": .string(op)]) }
            try checkNewIDs(ids, in: table)
        }
        if outIDs == nil { try checkArrayCount(adding: max(1, spec.outputs)) }
        let inputs = try inputIDs.map { (id) throws(APIError) in try array(id, in: table) }
        let out = try outIDs.map { (list) throws(APIError) in try list.map { (id) throws(APIError) in try array(id, in: table) } }
        let outputs: [NDArray]
        do {
            outputs = try context.invoke(op, inputs, params, out: out)
        } catch {
            throw APIError(error).with("op", .string(op))
        }
        opsExecuted.add()
        if let outIDs { return Array(zip(outIDs, outputs)) }
        if let ids, ids.count != outputs.count {
            // Only reachable for ops whose output count depends on params (split); nothing is stored.
            throw APIError(.invalidArgument, "'\(op)' produced \(outputs.count) output(s) but ids names \(ids.count).",
                           ["op": .string(op), "expected": .int(outputs.count), "actual": .int(ids.count)])
        }
        return store(outputs, ids: ids, in: table)
    }

    // MARK: - Flags and scopes

    var flags: Flags { Flags(isRecording: context.isRecording, isTraining: context.isTraining) }

    /// `PATCH .../flags` and the `set_recording`/`set_training` steps: set_recording/set_training,
    /// returning the previous values.
    func setFlags(recording: Bool?, training: Bool?) -> (previous: Flags, current: Flags) {
        let previous = flags
        if let recording { context.setRecording(recording) }
        if let training { context.setTraining(training) }
        return (previous, flags)
    }

    /// `POST .../scopes` and the enter half of a `scope` step.
    /// `id`: a client-chosen frame id (so that a pipelining client can exit the scope without
    /// waiting for this answer); it must not name an open scope. Otherwise `sc<N>`.
    func pushScope(_ kind: Context.ScopeKind, trainMode: Bool?, id: String? = nil) throws(APIError) -> ScopeFrame {
        if let id {
            try Self.validateID(id)
            guard !scopes.contains(where: { $0.id == id }) else {
                throw APIError(.invalidArgument, "A scope with id '\(id)' is already open.")
            }
        }
        let effective: Bool
        switch kind {
        case .record: effective = trainMode ?? true
        case .pause: effective = trainMode ?? false
        case .trainMode, .predictMode:
            guard trainMode == nil else {
                throw APIError(.invalidArgument, "Scope kind '\(kind.rawValue)' takes no train_mode.")
            }
            effective = kind == .trainMode
        }
        let token = context.enterScope(kind, trainMode: kind == .record || kind == .pause ? effective : nil)
        var frameID = id ?? "sc\(nextScopeNumber)"
        if id == nil {
            nextScopeNumber += 1
            while scopes.contains(where: { $0.id == frameID }) {   // a client chose this one
                frameID = "sc\(nextScopeNumber)"
                nextScopeNumber += 1
            }
        }
        let frame = ScopeFrame(id: frameID, token: token, kind: kind, trainMode: effective,
                               depth: scopes.count + 1, isRecording: context.isRecording, isTraining: context.isTraining)
        scopes.append(frame)
        return frame
    }

    /// `DELETE .../scopes/{scope_id}` and the exit half of a `scope` step: only the innermost scope.
    func popScope(_ id: String) throws(APIError) -> Flags {
        guard let top = scopes.last else {
            throw APIError(.scopeOrder, "The scope stack is empty; there is no scope '\(id)' to exit.")
        }
        guard top.id == id else {
            let known = scopes.contains { $0.id == id }
            throw APIError(.scopeOrder,
                           known ? "Scope '\(id)' is not the innermost scope; exit '\(top.id)' first."
                                 : "No open scope '\(id)'; the innermost scope is '\(top.id)'.",
                           ["expected": .string(top.id), "actual": .string(id)])
        }
        scopes.removeLast()
        context.exitScope(top.token)
        return flags
    }

    /// `POST .../seed` and the `seed` step (mx.random.seed).
    func seed(_ value: UInt64) { context.seed(value) }

    // MARK: - Custom functions

    /// `POST .../functions`: one engine `Function` instance whose closures run the given programs.
    func defineFunction(_ definition: FunctionDefinition, interpreter: Interpreter) -> String {
        let id = "f\(nextFunctionNumber)"
        nextFunctionNumber += 1
        let locals = LocalsBox()
        let function = Function(
            forward: { [weak self] _, inputs in
                guard let self else { throw APIError(.internal, "The session is gone.") }
                // Names are local to the function; the forward's stay visible to its backward.
                let table = ArrayTable()
                locals.table = table
                do throws(APIError) {
                    let outputs = try interpreter.runBody(definition.forward, inputs: inputs, session: self, table: table, part: "forward")
                    // The engine links what forward returns to the recorded node, which holds this
                    // function and so `locals`: returning the table's own arrays would close a
                    // retain cycle (node -> function -> locals -> output -> node) that leaks the
                    // session's context and arrays unless a backward frees the graph.
                    return outputs.map { self.context.detach($0) }
                } catch {
                    self.functionFailure = error
                    throw error
                }
            },
            backward: { [weak self] _, outputGrads in
                guard let self else { throw APIError(.internal, "The session is gone.") }
                let table = ArrayTable(parent: locals.table)
                do throws(APIError) {
                    return try interpreter.runBody(definition.backward, inputs: outputGrads, session: self, table: table, part: "backward")
                } catch {
                    self.functionFailure = error
                    throw error
                }
            })
        functions[id] = function
        return id
    }

    /// `POST .../functions/{fid}/call` and the `call` step.
    func callFunction(_ fid: String, inputs inputIDs: [String], ids: [String]?,
                      in table: ArrayTable? = nil) throws(APIError) -> [(String, NDArray)] {
        guard let function = functions[fid] else {
            throw APIError(.notFound, "No custom function with id '\(fid)' in this session.", ["function_id": .string(fid)])
        }
        if let ids { try checkNewIDs(ids, in: table) }
        try checkArrayCount(adding: ids?.count ?? 1)
        let inputs = try inputIDs.map { (id) throws(APIError) in try array(id, in: table) }
        let outputs = try engine { () throws(AutogradError) in try context.apply(function, inputs) }
        if let ids, ids.count != outputs.count {
            throw APIError(.invalidArgument, "The function produced \(outputs.count) output(s) but ids names \(ids.count).",
                           ["expected": .int(outputs.count), "actual": .int(ids.count)])
        }
        return store(outputs, ids: ids, in: table)
    }

    /// Runs an engine call, mapping its typed error to the API's.
    func engine<R>(_ body: () throws(AutogradError) -> R) throws(APIError) -> R {
        functionFailure = nil
        do {
            return try body()
        } catch {
            defer { functionFailure = nil }
            throw functionFailure ?? APIError(error)
        }
    }
}

/// The locals of one custom-function forward run, kept for its backward (the saved tensors).
private final class LocalsBox {
    var table: ArrayTable?
}
