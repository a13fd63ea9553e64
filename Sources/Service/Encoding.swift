import Autograd
import Wire

/// Builds the JSON response bodies, named after the `openapi.yaml` schemas.
enum DTO {
    static func object(_ members: [(String, JSONOut)]) -> JSONOut { .object(members) }

    static func strings(_ values: [String]) -> JSONOut { .array(values.map { .string($0) }) }

    static func ints(_ values: [Int]) -> JSONOut { .array(values.map { .int($0) }) }

    /// `Tensor`: `{"shape","dtype","data"}` with flat data.
    static func tensor(_ array: NDArray) -> JSONOut {
        object([("shape", ints(array.shape)), ("dtype", .string(array.dtype.rawValue)), ("data", data(array))])
    }

    /// The values of an array as a flat JSON list (non-finite values as strings).
    static func data(_ array: NDArray) -> JSONOut { .data(array) }

    /// `ArrayInfo`.
    static func arrayInfo(_ id: String, _ array: NDArray, data withData: Bool = false) -> JSONOut {
        var members: [(String, JSONOut)] = [
            ("id", .string(id)), ("shape", ints(array.shape)), ("dtype", .string(array.dtype.rawValue)),
            ("size", .int(array.size)), ("bytes", .int(array.byteCount)),
            ("grad_req", array.gradReq.map { .string($0.rawValue) } ?? .null), ("in_graph", .bool(array.isInGraph)),
        ]
        if withData { members.append(("data", data(array))) }
        return object(members)
    }

    static func arrayInfos(_ arrays: [(String, NDArray)], data withData: Bool = false) -> JSONOut {
        .array(arrays.map { arrayInfo($0.0, $0.1, data: withData) })
    }

    static func flags(_ flags: Flags) -> JSONOut {
        object([("is_recording", .bool(flags.isRecording)), ("is_training", .bool(flags.isTraining))])
    }

    /// `ScopeFrame` (flags after entering).
    static func scope(_ frame: ScopeFrameSnapshot) -> JSONOut {
        object([("id", .string(frame.id)), ("kind", .string(frame.kind)), ("train_mode", .bool(frame.trainMode)),
                ("depth", .int(frame.depth)), ("is_recording", .bool(frame.isRecording)),
                ("is_training", .bool(frame.isTraining))])
    }

    /// `Session`.
    static func session(_ info: SessionInfo, owner: String) -> JSONOut {
        object([
            ("id", .string(info.id)),
            ("owner", .string(owner)),
            ("created_at", .string(Timestamp.iso8601(info.createdAt))),
            ("last_activity", .string(Timestamp.iso8601(info.lastActivity))),
            ("expires_at", .string(Timestamp.iso8601(info.expiresAt))),
            ("idle_timeout_s", .int(Int(info.idleTimeout))),
            ("ttl_s", info.ttl.map { .int(Int($0)) } ?? .null),
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
    static func opSpec(_ spec: OpSpec) -> JSONOut {
        object([
            ("name", .string(spec.name)), ("aliases", strings(spec.aliases)), ("inputs", strings(spec.inputs)),
            ("variadic", .bool(spec.variadic)), ("outputs", .int(spec.outputs)),
            ("params", .array(spec.params.map { param in
                object([("name", .string(param.name)), ("type", .string(param.type)),
                        ("default", param.defaultValue.map(opParam) ?? .null), ("required", .bool(param.required)),
                        ("doc", .string(param.doc))])
            })),
            ("differentiable", .bool(spec.differentiable)), ("summary", .string(spec.summary)),
        ])
    }

    static func opParam(_ param: OpParam) -> JSONOut {
        switch param {
        case .int(let v): .int(v)
        case .double(let v): .double(v)
        case .bool(let v): .bool(v)
        case .string(let v): .string(v)
        case .list(let items): .array(items.map(opParam))
        case .null: .null
        }
    }

    /// `Symbol`; variable nodes say whether the last backward reached them (`reached`: variable ids).
    static func symbol(_ symbol: GraphSymbol, reached: Set<Int> = []) -> JSONOut {
        object([
            ("nodes", .array(symbol.nodes.map { node in
                var members: [(String, JSONOut)] = [
                    ("id", .int(node.id)), ("op", .string(node.op)), ("name", .string(node.name)),
                    ("inputs", ints(node.inputs)), ("shape", ints(node.shape)), ("dtype", .string(node.dtype.rawValue)),
                ]
                if let req = node.gradReq { members.append(("grad_req", .string(req.rawValue))) }
                members.append(("is_variable", .bool(node.isVariable)))
                if node.isVariable { members.append(("grad_reached", .bool(GraphRendering.isReached(node, reached)))) }
                return object(members)
            })),
            ("heads", ints(symbol.heads)),
            ("arguments", strings(symbol.arguments)),
        ])
    }

    /// RFC 9457 problem body.
    static func problem(_ error: APIError, instance: String?) -> JSONOut {
        var members: [(String, JSONOut)] = [
            ("type", .string("https://tensord.dev/problems/\(error.code.rawValue)")),
            ("title", .string(error.code.title)), ("status", .int(error.status)),
            ("detail", .string(error.detail)), ("code", .string(error.code.rawValue)),
        ]
        if let instance { members.append(("instance", .string(instance))) }
        for (key, extensionValue) in error.extensions.sorted(by: { $0.key < $1.key }) {
            let value: JSONOut = switch extensionValue {
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

/// A response body under construction: JSON structure whose tensor data stays in the engine's
/// buffer until written (float32 with Float32 digits, integers as integer literals).
indirect enum JSONOut {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONOut])
    case object([(String, JSONOut)])
    /// The flat values of an array.
    case data(NDArray)

    /// The compact JSON text.
    func encoded() -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        write(to: &writer)
        return writer.bytes
    }

    func write(to writer: inout JSONWriter) {
        switch self {
        case .null: writer.write(.null)
        case .bool(let b): writer.write(.bool(b))
        case .int(let i): writer.write(.int(i))
        case .double(let d): writer.write(.double(d))
        case .string(let s): writer.writeString(s)
        case .array(let items):
            writer.bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { writer.bytes.append(UInt8(ascii: ",")) }
                item.write(to: &writer)
            }
            writer.bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            writer.bytes.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { writer.bytes.append(UInt8(ascii: ",")) }
                writer.writeKey(member.0)
                member.1.write(to: &writer)
            }
            writer.bytes.append(UInt8(ascii: "}"))
        case .data(let array):
            Self.writeData(array, to: &writer)
        }
    }

    private static func writeData(_ array: NDArray, to writer: inout JSONWriter) {
        let count = array.size
        array.withUnsafeBytes { raw in
            switch array.dtype {
            case .float32: writer.writeFloats(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: Float.self), count: count))
            case .float64: writer.writeDoubles(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: Double.self), count: count))
            case .int32: writeIntegers(raw.bindMemory(to: Int32.self), to: &writer)
            case .int64: writeIntegers(raw.bindMemory(to: Int64.self), to: &writer)
            case .uint8: writeIntegers(raw.bindMemory(to: UInt8.self), to: &writer)
            }
        }
    }

    private static func writeIntegers<T: FixedWidthInteger>(_ values: UnsafeBufferPointer<T>, to writer: inout JSONWriter) {
        writer.bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { writer.bytes.append(UInt8(ascii: ",")) }
            writer.bytes.append(contentsOf: value.description.utf8)
        }
        writer.bytes.append(UInt8(ascii: "]"))
    }
}
