import Autograd
import Wire

/// Builds the JSON response bodies, named after the `openapi.yaml` schemas.
enum DTO {
    static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(members.map { JSONMember($0.0, $0.1) }))
    }

    static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }

    static func ints(_ values: [Int]) -> JSONValue { .array(values.map(JSONValue.int)) }

    /// `Tensor`: `{"shape","dtype","data"}` with flat data.
    static func tensor(_ array: NDArray) -> JSONValue {
        object([("shape", ints(array.shape)), ("dtype", .string(array.dtype.rawValue)), ("data", data(array))])
    }

    /// The values of an array as a flat JSON list (non-finite values as strings).
    static func data(_ array: NDArray) -> JSONValue {
        let isInteger = array.dtype != .float32 && array.dtype != .float64
        if array.dtype == .float32 {
            return .numbers(NumericArray(values: array.toDoubles(), shape: [array.size], allIntegers: false))
        }
        return .numbers(NumericArray(values: array.toDoubles(), shape: [array.size], allIntegers: isInteger))
    }

    /// `ArrayInfo`.
    static func arrayInfo(_ id: String, _ array: NDArray, data withData: Bool = false) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(id)), ("shape", ints(array.shape)), ("dtype", .string(array.dtype.rawValue)),
            ("size", .int(array.size)), ("bytes", .int(array.byteCount)),
            ("grad_req", array.gradReq.map { .string($0.rawValue) } ?? .null), ("in_graph", .bool(array.isInGraph)),
        ]
        if withData { members.append(("data", data(array))) }
        return object(members)
    }

    static func arrayInfos(_ arrays: [(String, NDArray)], data withData: Bool = false) -> JSONValue {
        .array(arrays.map { arrayInfo($0.0, $0.1, data: withData) })
    }

    static func flags(_ flags: Flags) -> JSONValue {
        object([("is_recording", .bool(flags.isRecording)), ("is_training", .bool(flags.isTraining))])
    }

    /// `ScopeFrame` (flags after entering).
    static func scope(_ frame: ScopeFrame) -> JSONValue {
        object([("id", .string(frame.id)), ("kind", .string(frame.kind.rawValue)), ("train_mode", .bool(frame.trainMode)),
                ("depth", .int(frame.depth)), ("is_recording", .bool(frame.isRecording)),
                ("is_training", .bool(frame.isTraining))])
    }

    /// `Session`.
    static func session(_ info: SessionInfo) -> JSONValue {
        object([
            ("id", .string(info.id)),
            ("created_at", .string(Timestamp.iso8601(info.createdAt))),
            ("last_activity", .string(Timestamp.iso8601(info.lastActivity))),
            ("expires_at", .string(Timestamp.iso8601(info.lastActivity + info.idleTimeout))),
            ("idle_timeout_s", .double(info.idleTimeout)),
            ("labels", object(info.labels.map { ($0.0, .string($0.1)) })),
            ("state", object([("is_recording", .bool(info.status.flags.isRecording)),
                              ("is_training", .bool(info.status.flags.isTraining)),
                              ("scopes", .array(info.status.scopes.map(scope)))])),
            ("usage", object([("arrays", .int(info.status.arrays)), ("bytes", .int(info.status.bytes)),
                              ("graph_bytes", .int(info.status.graphBytes))])),
            ("limits", object([("max_bytes", .int(info.limits.maxBytes)),
                               ("max_array_elements", .int(info.limits.maxArrayElements))])),
        ])
    }

    /// `OpSpec`.
    static func opSpec(_ spec: OpSpec) -> JSONValue {
        object([
            ("name", .string(spec.name)), ("aliases", strings(spec.aliases)), ("inputs", strings(spec.inputs)),
            ("variadic", .bool(spec.variadic)), ("outputs", .int(spec.outputs)),
            ("params", .array(spec.params.map { param in
                object([("name", .string(param.name)), ("type", .string(param.type)),
                        ("default", param.default.map(opParam) ?? .null), ("required", .bool(param.required)),
                        ("doc", .string(param.doc))])
            })),
            ("differentiable", .bool(spec.differentiable)), ("summary", .string(spec.summary)),
        ])
    }

    static func opParam(_ param: OpParam) -> JSONValue {
        switch param {
        case .int(let v): .int(v)
        case .double(let v): .double(v)
        case .bool(let v): .bool(v)
        case .string(let v): .string(v)
        case .list(let items): .array(items.map(opParam))
        case .null: .null
        }
    }

    /// `Symbol`.
    static func symbol(_ symbol: GraphSymbol) -> JSONValue {
        object([
            ("nodes", .array(symbol.nodes.map { node in
                object([("id", .int(node.id)), ("op", .string(node.op)), ("name", .string(node.name)),
                        ("inputs", ints(node.inputs)), ("shape", ints(node.shape)), ("dtype", .string(node.dtype.rawValue)),
                        ("grad_req", node.gradReq.map { .string($0.rawValue) } ?? .null),
                        ("is_variable", .bool(node.isVariable))])
            })),
            ("heads", ints(symbol.heads)),
            ("arguments", strings(symbol.arguments)),
        ])
    }

    /// RFC 9457 problem body.
    static func problem(_ error: APIError, instance: String?) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("type", .string("https://tensord.dev/problems/\(error.code.rawValue)")),
            ("title", .string(error.code.title)), ("status", .int(error.status)),
            ("detail", .string(error.detail)), ("code", .string(error.code.rawValue)),
        ]
        if let instance { members.append(("instance", .string(instance))) }
        for key in error.extensions.keys.sorted() {
            let value: JSONValue = switch error.extensions[key]! {
            case .string(let s): .string(s)
            case .int(let i): .int(i)
            case .ints(let list): ints(list)
            case .strings(let list): strings(list)
            }
            members.append((key, value))
        }
        return object(members)
    }
}
