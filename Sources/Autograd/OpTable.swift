/// Operator parameter value, as decoded from JSON.
public enum OpParam: Sendable, Equatable {
    case int(Int), double(Double), bool(Bool), string(String), list([OpParam]), null
}

/// A parameter of an operator, as listed in the catalog.
public struct ParamSpec: Sendable {
    public let name: String
    /// "int", "float", "boolean", "string", "shape", "axes", "dtype", ... (see `ParamKind`)
    public let type: String
    public let defaultValue: OpParam?
    public let required: Bool
    public let doc: String
    let kind: ParamKind
}

/// The catalog row of an operator, generated from the op table.
public struct OpSpec: Sendable {
    public let name: String
    public let aliases: [String]
    public let inputs: [String]
    /// True when the op takes any number of inputs (concat, stack, add_n).
    public let variadic: Bool
    /// Number of outputs; 0 means it depends on the parameters (split, BatchNorm, topk).
    public let outputs: Int
    public let params: [ParamSpec]
    public let differentiable: Bool
    public let summary: String
}

/// The operator catalog.
public enum Operators {
    /// Every public operator with its parameters and defaults.
    public static let catalog: [OpSpec] = OpTable.all.filter { !$0.hidden }.map(\.spec)
}

/// How a parameter's JSON value is interpreted.
enum ParamKind: Sendable {
    case int, double, bool, dtype
    case string([String])          // one of the choices
    case ints                      // tuple of ints (an int is accepted as a 1-tuple)
    case optInts                   // tuple of int-or-None (slice begin/end/step)
    case axes                      // None, an int, or a tuple of ints
    case optInt, optDouble, optDType
    case optBool
    case optString([String])       // one of the choices, or None

    var typeName: String {
        switch self {
        case .int: return "int"
        case .double: return "float"
        case .bool: return "boolean"
        case .dtype: return "dtype"
        case .string(let c): return "string, one of " + c.joined(separator: "|")
        case .ints: return "tuple of int"
        case .optInts: return "tuple of int or None"
        case .axes: return "int or tuple of int or None"
        case .optInt: return "int or None"
        case .optDouble: return "float or None"
        case .optDType: return "dtype or None"
        case .optBool: return "boolean or None"
        case .optString(let c): return "string or None, one of " + c.joined(separator: "|")
        }
    }
}

/// A resolved parameter value.
enum AttrValue: Sendable {
    case int(Int), double(Double), bool(Bool), string(String), ints([Int]), optInts([Int?]), dtype(DType), none
}

/// Resolved parameters of one op call, aligned with the op's parameter list.
struct Attrs: Sendable {
    let names: [String]
    var values: [AttrValue]
    static let empty = Attrs(names: [], values: [])

    @inline(__always) func value(_ name: String) -> AttrValue {
        for i in names.indices where names[i] == name { return values[i] }
        preconditionFailure("op has no parameter \(name)")
    }
    func double(_ n: String) -> Double {
        switch value(n) { case .double(let d): return d; case .int(let i): return Double(i); default: preconditionFailure(n) }
    }
    func optDouble(_ n: String) -> Double? { if case .none = value(n) { return nil }; return double(n) }
    func int(_ n: String) -> Int { if case .int(let i) = value(n) { return i }; preconditionFailure(n) }
    func optInt(_ n: String) -> Int? { if case .int(let i) = value(n) { return i }; return nil }
    func bool(_ n: String) -> Bool { if case .bool(let b) = value(n) { return b }; preconditionFailure(n) }
    func string(_ n: String) -> String { if case .string(let s) = value(n) { return s }; preconditionFailure(n) }
    func ints(_ n: String) -> [Int] { if case .ints(let v) = value(n) { return v }; preconditionFailure(n) }
    func optInts(_ n: String) -> [Int?] { if case .optInts(let v) = value(n) { return v }; preconditionFailure(n) }
    /// nil means "None" (all axes).
    func axes(_ n: String) -> [Int]? { if case .ints(let v) = value(n) { return v }; return nil }
    func dtype(_ n: String) -> DType? { if case .dtype(let d) = value(n) { return d }; return nil }
    func optBool(_ n: String) -> Bool? { if case .bool(let b) = value(n) { return b }; return nil }
    func optString(_ n: String) -> String? { if case .string(let s) = value(n) { return s }; return nil }
}

/// What a recorded node keeps for backward.
struct Saves: OptionSet, Sendable {
    let rawValue: Int
    static let inputs = Saves(rawValue: 1)
    static let outputs = Saves(rawValue: 2)
    static let nothing: Saves = []
    static let both: Saves = [.inputs, .outputs]
}

/// Arguments of a forward function.
struct ForwardArgs {
    let ctx: Context
    let inputs: [NDArray]
    let attrs: Attrs
    @inline(__always) subscript(_ i: Int) -> NDArray { inputs[i] }
}

/// What a forward function produces: the outputs and hidden tensors its backward needs.
struct ForwardResult {
    var outputs: [NDArray]
    var aux: [NDArray] = []
    init(_ outputs: [NDArray], aux: [NDArray] = []) { self.outputs = outputs; self.aux = aux }
    init(_ output: NDArray) { self.outputs = [output] }
}

/// Arguments of a vector-Jacobian product. Inputs and outputs carry their graph entries, so
/// a VJP written with the public ops is itself recorded under `createGraph`.
struct VJPArgs {
    let ctx: Context
    let savedInputs: [NDArray?]
    let savedOutputs: [NDArray?]
    let inputMeta: [(shape: [Int], dtype: DType)]
    /// One gradient per output (zeros where an output received none).
    let grads: [NDArray]
    let aux: [NDArray]
    let attrs: Attrs
    /// Which inputs need a gradient.
    let needs: [Bool]
    let payload: AnyObject?

    func input(_ i: Int) -> NDArray {
        guard let x = savedInputs[i] else { preconditionFailure("op did not save input \(i)") }
        return x
    }
    func output(_ i: Int) -> NDArray {
        guard let y = savedOutputs[i] else { preconditionFailure("op did not save output \(i)") }
        return y
    }
    var g: NDArray { grads[0] }
    var x: NDArray { input(0) }
    var y: NDArray { output(0) }
}

typealias ForwardFn = @Sendable (ForwardArgs) throws -> ForwardResult
typealias VJPFn = @Sendable (VJPArgs) throws -> [NDArray?]

/// One row of the op table: everything about an operator, declared once.
final class OpDef: Sendable {
    let name: String
    let aliases: [String]
    let inputNames: [String]
    /// Trailing inputs may be omitted down to this count (FullyConnected without bias).
    let minInputs: Int
    let variadic: Bool
    let outputs: Int
    let params: [ParamSpec]
    let summary: String
    let saves: Saves
    let forward: ForwardFn
    /// nil: not differentiable (never recorded).
    let vjp: VJPFn?
    /// Internal ops (adjoints used by VJPs) are left out of the public catalog.
    let hidden: Bool
    let defaults: Attrs?

    init(_ name: String, aliases: [String] = [], inputs: [String], minInputs: Int? = nil, variadic: Bool = false,
         params: [ParamSpec] = [], summary: String, outputs: Int = 1, saves: Saves = .nothing, hidden: Bool = false,
         forward: @escaping ForwardFn, vjp: VJPFn?) {
        self.name = name
        self.aliases = aliases
        self.inputNames = inputs
        self.minInputs = minInputs ?? inputs.count
        self.variadic = variadic
        self.outputs = outputs
        self.params = params
        self.summary = summary
        self.saves = saves
        self.hidden = hidden
        self.forward = forward
        self.vjp = vjp
        self.defaults = try? OpDef.resolve(name: name, specs: params, [:])
    }

    var differentiable: Bool { vjp != nil }

    var spec: OpSpec {
        OpSpec(name: name, aliases: aliases, inputs: inputNames, variadic: variadic, outputs: outputs,
               params: params, differentiable: differentiable, summary: summary)
    }

    /// Resolves JSON-style parameters against the declared ones (defaults filled in).
    func parse(_ params: [String: OpParam]) throws -> Attrs {
        if params.isEmpty, let d = defaults { return d }
        return try OpDef.resolve(name: name, specs: self.params, params)
    }

    static func resolve(name: String, specs: [ParamSpec], _ given: [String: OpParam]) throws -> Attrs {
        for key in given.keys where !specs.contains(where: { $0.name == key }) {
            throw AutogradError(.invalidParameter, "\(name): unknown parameter '\(key)'")
        }
        var values: [AttrValue] = []
        values.reserveCapacity(specs.count)
        for spec in specs {
            guard let raw = given[spec.name] ?? spec.defaultValue else {
                throw AutogradError(.invalidParameter, "\(name): required parameter '\(spec.name)' (\(spec.type)) is missing")
            }
            guard let v = convert(raw, spec.kind) else {
                throw AutogradError(.invalidParameter, "\(name): parameter '\(spec.name)' expects \(spec.type), got \(describe(raw))")
            }
            values.append(v)
        }
        return Attrs(names: specs.map(\.name), values: values)
    }

    private static func describe(_ p: OpParam) -> String {
        switch p {
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .bool(let b): return b ? "true" : "false"
        case .string(let s): return "'\(s)'"
        case .list(let l): return "[" + l.map(describe).joined(separator: ",") + "]"
        case .null: return "null"
        }
    }

    private static func convert(_ p: OpParam, _ kind: ParamKind) -> AttrValue? {
        switch kind {
        case .int:
            if case .int(let i) = p { return .int(i) }
            if case .double(let d) = p, d.rounded() == d, abs(d) < 1e15 { return .int(Int(d)) }
            return nil
        case .double:
            if case .double(let d) = p { return .double(d) }
            if case .int(let i) = p { return .double(Double(i)) }
            if case .string(let s) = p { switch s.lowercased() { case "inf": return .double(.infinity); case "-inf": return .double(-.infinity); case "nan": return .double(.nan); default: return nil } }
            return nil
        case .bool:
            if case .bool(let b) = p { return .bool(b) }
            if case .int(let i) = p, i == 0 || i == 1 { return .bool(i == 1) }
            return nil
        case .dtype:
            if case .string(let s) = p, let d = DType(rawValue: s) { return .dtype(d) }
            return nil
        case .string(let choices):
            if case .string(let s) = p, choices.isEmpty || choices.contains(s) { return .string(s) }
            return nil
        case .ints:
            if case .int = p, case .int(let i)? = convert(p, .int) { return .ints([i]) }
            if case .list(let l) = p {
                var out: [Int] = []
                for e in l { guard case .int(let i)? = convert(e, .int) else { return nil }; out.append(i) }
                return .ints(out)
            }
            return nil
        case .optInts:
            if case .list(let l) = p {
                var out: [Int?] = []
                for e in l {
                    if case .null = e { out.append(nil); continue }
                    guard case .int(let i)? = convert(e, .int) else { return nil }
                    out.append(i)
                }
                return .optInts(out)
            }
            return nil
        case .axes:
            if case .null = p { return AttrValue.none }
            return convert(p, .ints)
        case .optInt:
            if case .null = p { return AttrValue.none }
            return convert(p, .int)
        case .optDouble:
            if case .null = p { return AttrValue.none }
            return convert(p, .double)
        case .optDType:
            if case .null = p { return AttrValue.none }
            return convert(p, .dtype)
        case .optBool:
            if case .null = p { return AttrValue.none }
            return convert(p, .bool)
        case .optString(let choices):
            if case .null = p { return AttrValue.none }
            return convert(p, .string(choices))
        }
    }
}

/// Shorthand for declaring parameters in the table.
func param(_ name: String, _ kind: ParamKind, _ def: OpParam? = nil, _ doc: String = "") -> ParamSpec {
    ParamSpec(name: name, type: kind.typeName, defaultValue: def, required: def == nil, doc: doc, kind: kind)
}

/// The op table: the union of the per-family tables, looked up by name or alias.
enum OpTable {
    static let all: [OpDef] = elementwiseOps + unaryOps + reductionOps + linalgOps + shapeOps + indexOps
        + nnOps + creationOps + tier2Ops + optimizerOps + convOps + poolingOps + normOps + tier2UnaryOps + sequenceOps

    static let byName: [String: OpDef] = {
        var m: [String: OpDef] = [:]
        for op in all {
            for n in [op.name] + op.aliases {
                precondition(m[n] == nil, "duplicate op name \(n)")
                m[n] = op
            }
        }
        return m
    }()

    static func get(_ name: String) -> OpDef {
        guard let op = byName[name] else { preconditionFailure("no op \(name)") }
        return op
    }
}
