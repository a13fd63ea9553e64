import Autograd
import Wire

/// One step of a batched program (`POST .../run`) or of a custom function's body.
indirect enum Step {
    case create(TensorInput, id: String?)
    case op(String, inputs: [String], params: [String: OpParam], out: [String]?, ids: [String]?)
    case scope(Context.ScopeKind, trainMode: Bool?, steps: [Step])
    case attachGrad(String, GradReq)
    case backward(heads: [String], headGrads: [String?]?, retainGraph: Bool, trainMode: Bool)
    case grad(heads: [String], variables: [String], headGrads: [String?]?, retainGraph: Bool?,
              createGraph: Bool, trainMode: Bool, ids: [String]?)
    case assign(String, TensorInput)
    case detach(String, id: String?)
    case release([String])
    case setRecording(Bool)
    case setTraining(Bool)
    case markVariables(variables: [String], gradients: [String], gradReqs: [GradReq])
    case seed(UInt64)
    case call(String, inputs: [String], ids: [String]?)
}

/// A custom function's forward or backward program: input names bound to the arrays the engine
/// passes in, steps, and the names whose arrays are returned.
struct FunctionBody {
    let inputs: [String]
    let steps: [Step]
    let outputs: [String]
}

/// `POST .../functions`: the two programs of one `autograd.Function`.
struct FunctionDefinition {
    let forward: FunctionBody
    let backward: FunctionBody
}

/// The result of a `run` program.
struct RunResult {
    /// Whether a failed step is skipped and the program goes on (`"on_error": "continue"`).
    var continuesOnError = false
    /// The first failure, when the program went on past it.
    var failure: APIError?
    /// Top-level steps fully done.
    var steps = 0
    var fetched: [(String, NDArray)] = []
    var outputs: [(String, NDArray)] = []
}

/// Parses and executes programs over a session's actions (the same ``Session`` methods the
/// single-route handlers call).
struct Interpreter: Sendable {
    let maxSteps: Int
    let maxDepth: Int

    /// The names of the step kinds, in the order they are looked for.
    static let stepKinds = ["create", "op", "scope", "attach_grad", "backward", "grad", "assign", "detach",
                            "release", "set_recording", "set_training", "mark_variables", "seed", "call"]

    // MARK: - Parsing

    /// Parses `{"steps": [...]}`-style lists, enforcing the step count and depth limits.
    func parseSteps(_ value: JSONValue?, path: [Int], depth: Int, count: inout Int) throws(APIError) -> [Step] {
        guard let value else { return [] }
        guard let items = value.array else {
            throw APIError(.invalidArgument, "'steps' must be a list of step objects.", Self.stepExtension(path))
        }
        guard depth <= maxDepth else {
            throw APIError(.invalidArgument, "Scope blocks are nested more than \(maxDepth) deep.", Self.stepExtension(path))
        }
        var steps: [Step] = []
        for (index, item) in items.enumerated() {
            count += 1
            guard count <= maxSteps else {
                throw APIError(.invalidArgument, "The program has more than \(maxSteps) steps.", Self.stepExtension(path + [index]))
            }
            do {
                steps.append(try parseStep(item, path: path + [index], depth: depth, count: &count))
            } catch {
                throw error.extensions["step"] == nil ? error.with("step", .string(Self.pathText(path + [index]))) : error
            }
        }
        return steps
    }

    private func parseStep(_ value: JSONValue, path: [Int], depth: Int, count: inout Int) throws(APIError) -> Step {
        guard let object = value.object else { throw APIError(.invalidArgument, "Each step must be a JSON object.") }
        let f = Fields(object, context: "steps[\(Self.pathText(path))].")
        let kinds = Self.stepKinds.filter { object[$0] != nil }
        guard kinds.count == 1, let kind = kinds.first else {
            throw APIError(.invalidArgument,
                           kinds.isEmpty ? "A step must have exactly one of the keys \(Self.stepKinds.joined(separator: ", "))."
                                         : "A step has several kinds (\(kinds.joined(separator: ", "))); use one per step.")
        }
        switch kind {
        case "create":
            guard let spec = object["create"]?.object else { throw f.bad("create", "a Tensor object") }
            let tensor = try Fields(spec, context: f.context + "create.").tensor()
            let inner = try Fields(spec).string("id")
            return .create(tensor, id: try f.string("id") ?? inner)
        case "op":
            let single = try f.string("id")
            let ids = try f.ids("ids") ?? single.map { [$0] }
            return .op(try f.requiredString("op"), inputs: try f.ids("inputs") ?? [], params: try f.params("params"),
                       out: try f.ids("out", single: true), ids: ids)
        case "scope":
            let nested = try parseSteps(object["steps"], path: path, depth: depth + 1, count: &count)
            return .scope(try f.scopeKind("scope"), trainMode: try f.bool("train_mode"), steps: nested)
        case "attach_grad":
            return .attachGrad(try f.requiredString("attach_grad"), try f.gradReq("grad_req") ?? .write)
        case "backward":
            let g = try nestedFields(f, "backward", listKey: "heads")
            return .backward(heads: try g.requiredIDs("heads"), headGrads: try g.optionalIDs("head_grads"),
                             retainGraph: try g.bool("retain_graph") ?? false, trainMode: try g.bool("train_mode") ?? true)
        case "grad":
            let g = try nestedFields(f, "grad", listKey: "heads")
            return .grad(heads: try g.requiredIDs("heads"), variables: try g.requiredIDs("variables"),
                         headGrads: try g.optionalIDs("head_grads"), retainGraph: try g.bool("retain_graph"),
                         createGraph: try g.bool("create_graph") ?? false, trainMode: try g.bool("train_mode") ?? true,
                         ids: try Self.firstIDs(f, g, "ids"))
        case "assign":
            return .assign(try f.requiredString("assign"), try f.tensor())
        case "detach":
            return .detach(try f.requiredString("detach"), id: try f.string("id"))
        case "release":
            return .release(try f.requiredIDs("release"))
        case "set_recording":
            guard let on = try f.bool("set_recording") else { throw f.bad("set_recording", "true or false") }
            return .setRecording(on)
        case "set_training":
            guard let on = try f.bool("set_training") else { throw f.bad("set_training", "true or false") }
            return .setTraining(on)
        case "mark_variables":
            let g = try nestedFields(f, "mark_variables", listKey: nil)
            let (variables, gradients, reqs) = try Self.markVariables(g)
            return .markVariables(variables: variables, gradients: gradients, gradReqs: reqs)
        case "seed":
            return .seed(try Self.seed(f, "seed"))
        default: // "call"
            return .call(try f.requiredString("call"), inputs: try f.ids("inputs") ?? [], ids: try f.ids("ids"))
        }
    }

    /// `key` from the step itself, else from its nested object.
    private static func firstIDs(_ outer: Fields, _ inner: Fields, _ key: String) throws(APIError) -> [String]? {
        if let ids = try outer.ids(key) { return ids }
        return try inner.ids(key)
    }

    /// The object under `key`, or (for `backward`/`grad` given as a bare list) a synthetic one.
    private func nestedFields(_ f: Fields, _ key: String, listKey: String?) throws(APIError) -> Fields {
        if let object = f[key]?.object { return Fields(object, context: f.context + key + ".") }
        if let listKey, let value = f[key], value.string != nil || value.array != nil {
            // The list form keeps its options beside it: {"backward": ["y"], "retain_graph": true}.
            let options = f.object.members.filter { $0.key != key }
            return Fields(JSONObject([JSONMember(listKey, value)] + options), context: f.context)
        }
        throw f.bad(key, "an object")
    }

    /// `{"variables","gradients","grad_reqs"}` of mark_variables (grad_reqs: one name or a list).
    static func markVariables(_ f: Fields) throws(APIError) -> (variables: [String], gradients: [String], gradReqs: [GradReq]) {
        let variables = try f.requiredIDs("variables")
        let gradients = try f.requiredIDs("gradients")
        var reqs: [GradReq]
        if let names = f["grad_reqs"]?.array {
            reqs = []
            for name in names {
                guard let req = name.string.flatMap(GradReq.init(rawValue:)) else {
                    throw f.bad("grad_reqs", "\"write\", \"add\", \"null\" or a list of those")
                }
                reqs.append(req)
            }
        } else {
            reqs = Array(repeating: try f.gradReq("grad_reqs") ?? .write, count: variables.count)
        }
        return (variables, gradients, reqs)
    }

    /// A seed: a non-negative integer.
    static func seed(_ f: Fields, _ key: String) throws(APIError) -> UInt64 {
        guard let value = try f.int(key), value >= 0 else { throw f.bad(key, "a non-negative integer") }
        return UInt64(value)
    }

    /// `POST .../functions` body.
    func parseFunction(_ f: Fields) throws(APIError) -> FunctionDefinition {
        var count = 0
        func body(_ key: String) throws(APIError) -> FunctionBody {
            guard let object = f[key]?.object else { throw f.bad(key, "a program object {\"inputs\", \"steps\", \"outputs\"}") }
            let g = Fields(object, context: key + ".")
            let steps = try parseSteps(object["steps"], path: [], depth: 0, count: &count)
            return FunctionBody(inputs: try g.requiredIDs("inputs"), steps: steps, outputs: try g.requiredIDs("outputs"))
        }
        let forward = try body("forward")
        let backward = try body("backward")
        try Self.checkOperators(forward.steps)
        try Self.checkOperators(backward.steps)
        guard backward.inputs.count == forward.outputs.count else {
            throw APIError(.invalidArgument, "backward.inputs must name one gradient per forward output (\(forward.outputs.count)).",
                           ["expected": .int(forward.outputs.count), "actual": .int(backward.inputs.count)])
        }
        guard backward.outputs.count == forward.inputs.count else {
            throw APIError(.invalidArgument, "backward.outputs must name one gradient per forward input (\(forward.inputs.count)).",
                           ["expected": .int(forward.inputs.count), "actual": .int(backward.outputs.count)])
        }
        return FunctionDefinition(forward: forward, backward: backward)
    }

    /// Rejects unknown op names up front (404 `unknown-op`), so a bad definition fails at once.
    private static func checkOperators(_ steps: [Step]) throws(APIError) {
        for step in steps {
            switch step {
            case .op(let name, _, _, _, _) where OperatorIndex.spec(name) == nil:
                throw APIError(.unknownOp, "Operator '\(name)' is not in the catalog (GET /v1/ops lists them).", ["op": .string(name)])
            case .scope(_, _, let nested):
                try checkOperators(nested)
            default:
                continue
            }
        }
    }

    // MARK: - Execution

    /// Runs a parsed program on the session; a failure names its step and the completed count.
    /// With `continueOnError` every step runs even after a failure (as separate requests would),
    /// and the first failure is thrown at the end.
    func run(_ steps: [Step], fetch: [String], session: Session, continueOnError: Bool = false) throws(APIError) -> RunResult {
        var result = RunResult(continuesOnError: continueOnError)
        do {
            try execute(steps, path: [], session: session, table: session.arrays, result: &result)
        } catch {
            throw error.with("completed", .int(result.steps))
        }
        if let failure = result.failure { throw failure.with("completed", .int(result.steps)) }
        for name in fetch {
            if let array = session.arrays.lookup(name) {
                result.fetched.append((name, array))
            } else if name.hasSuffix(".grad"), session.arrays.contains(String(name.dropLast(5))) {
                result.fetched.append((name, try session.gradient(of: String(name.dropLast(5)))))
            } else {
                throw APIError(.arrayNotFound, "fetch names '\(name)', which is neither an array nor '<id>.grad' of one.",
                               ["array_id": .string(name), "completed": .int(result.steps)])
            }
        }
        return result
    }

    /// Runs a custom function's forward or backward program (inside the engine's callback).
    func runBody(_ body: FunctionBody, inputs: [NDArray], session: Session, table: ArrayTable,
                 part: String) throws(APIError) -> [NDArray] {
        guard inputs.count == body.inputs.count else {
            throw APIError(.invalidArgument, "The \(part) program takes \(body.inputs.count) input(s) but got \(inputs.count).")
        }
        for (name, array) in zip(body.inputs, inputs) { table.insert(array, id: name) }
        var result = RunResult()
        do {
            try execute(body.steps, path: [], session: session, table: table, result: &result)
            return try body.outputs.map { (id) throws(APIError) in try session.array(id, in: table) }
        } catch {
            throw APIError(error.code, "In the custom function's \(part) program: \(error.detail)", error.extensions)
        }
    }

    private func execute(_ steps: [Step], path: [Int], session: Session, table: ArrayTable,
                         result: inout RunResult) throws(APIError) {
        for (index, step) in steps.enumerated() {
            let stepPath = path + [index]
            do {
                try execute(step, path: stepPath, session: session, table: table, result: &result)
            } catch {
                let named = error.extensions["step"] == nil ? error.with("step", .string(Self.pathText(stepPath))) : error
                guard result.continuesOnError else { throw named }
                if result.failure == nil { result.failure = named }
                continue
            }
            if path.isEmpty { result.steps += 1 }
        }
    }

    private func execute(_ step: Step, path: [Int], session: Session, table: ArrayTable,
                         result: inout RunResult) throws(APIError) {
        switch step {
        case .create(let tensor, let id):
            result.outputs.append(try session.createArray(tensor, id: id, in: table))
        case .op(let name, let inputs, let params, let out, let ids):
            let outputs = try session.invoke(name, inputs: inputs, params: params, out: out, ids: ids, in: table)
            if out == nil { result.outputs += outputs }
        case .scope(let kind, let trainMode, let nested):
            let frame = try session.pushScope(kind, trainMode: trainMode)
            // The scope is exited whatever happens inside it.
            defer { _ = try? session.popScope(frame.id) }
            try execute(nested, path: path, session: session, table: table, result: &result)
        case .attachGrad(let id, let req):
            _ = try session.attachGrad(id, gradReq: req, in: table)
        case .backward(let heads, let headGrads, let retainGraph, let trainMode):
            _ = try session.backward(heads: heads, headGrads: headGrads, retainGraph: retainGraph, trainMode: trainMode, in: table)
        case .grad(let heads, let variables, let headGrads, let retainGraph, let createGraph, let trainMode, let ids):
            result.outputs += try session.grad(heads: heads, variables: variables, headGrads: headGrads, retainGraph: retainGraph,
                                               createGraph: createGraph, trainMode: trainMode, ids: ids, in: table)
        case .assign(let id, let tensor):
            _ = try session.assign(id, tensor, in: table)
        case .detach(let id, let newID):
            result.outputs.append(try session.detach(id, newID: newID, in: table))
        case .release(let ids):
            _ = session.release(ids, in: table)
            result.outputs.removeAll { ids.contains($0.0) }
        case .setRecording(let on):
            _ = session.setFlags(recording: on, training: nil)
        case .setTraining(let on):
            _ = session.setFlags(recording: nil, training: on)
        case .markVariables(let variables, let gradients, let reqs):
            try session.markVariables(variables, gradients: gradients, gradReqs: reqs, in: table)
        case .seed(let value):
            session.seed(value)
        case .call(let fid, let inputs, let ids):
            result.outputs += try session.callFunction(fid, inputs: inputs, ids: ids, in: table)
        }
    }

    static func pathText(_ path: [Int]) -> String { path.map(String.init).joined(separator: ".") }

    static func stepExtension(_ path: [Int]) -> [String: APIError.Extension] {
        path.isEmpty ? [:] : ["step": .string(pathText(path))]
    }
}
