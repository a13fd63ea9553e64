import Autograd
import Wire

/// Typed access to the members of a JSON request object (or a `run` step); every missing or
/// ill-typed member becomes 400 `invalid-argument` naming the member.
struct Fields {
    let object: JSONObject
    /// Where this object sits in the request, for messages (`""`, `"steps[2]."`).
    let context: String

    init(_ object: JSONObject, context: String = "") {
        self.object = object
        self.context = context
    }

    /// Parses a request body that must be a JSON object; an empty body is `{}`.
    init(body: [UInt8]) throws(APIError) {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            self.init(JSONObject())
            return
        }
        guard let object = try JSONCodec.parse(body).object else {
            throw APIError(.invalidBody, "The request body must be a JSON object.")
        }
        self.init(object)
    }

    /// The member `key`; an explicit `null` is kept, so the typed accessors reject it like any
    /// other value of the wrong type (the spec declares no nullable request member).
    subscript(key: String) -> JSONValue? {
        object[key]
    }

    func has(_ key: String) -> Bool { self[key] != nil }

    func bad(_ key: String, _ expectation: String) -> APIError {
        APIError(.invalidArgument, "'\(context)\(key)' must be \(expectation).")
    }

    func string(_ key: String) throws(APIError) -> String? {
        guard let value = self[key] else { return nil }
        guard let string = value.string else { throw bad(key, "a string") }
        return string
    }

    func requiredString(_ key: String) throws(APIError) -> String {
        guard let string = try string(key) else { throw bad(key, "a string (it is required)") }
        return string
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        guard let value = self[key] else { return nil }
        guard let bool = value.bool else { throw bad(key, "true or false") }
        return bool
    }

    func int(_ key: String) throws(APIError) -> Int? {
        guard let value = self[key] else { return nil }
        guard let int = Fields.int(value) else { throw bad(key, "an integer") }
        return int
    }

    static func int(_ value: JSONValue) -> Int? {
        guard let number = value.number else { return nil }
        if let int = number.int { return int }
        return number.double.isFinite && number.double.rounded() == number.double ? Int(exactly: number.double) : nil
    }

    /// A list of ids; with `single`, one id given as a string stands for a one-element list
    /// (only where the API documents that form: `out` and the release route's `ids`).
    func ids(_ key: String, single: Bool = false) throws(APIError) -> [String]? {
        guard let value = self[key] else { return nil }
        if single, let id = value.string { return [id] }
        guard let items = value.array else {
            throw bad(key, single ? "an array id or a list of array ids" : "a list of array ids (e.g. [\"x\"])")
        }
        var ids: [String] = []
        for item in items {
            guard let id = item.string else { throw bad(key, "a list of array ids (strings)") }
            ids.append(id)
        }
        return ids
    }

    func requiredIDs(_ key: String, single: Bool = false) throws(APIError) -> [String] {
        guard let ids = try ids(key, single: single) else { throw bad(key, "a list of array ids (it is required)") }
        return ids
    }

    /// `head_grads`: a list whose entries are ids or null.
    func optionalIDs(_ key: String) throws(APIError) -> [String?]? {
        guard let value = self[key] else { return nil }
        guard let items = value.array else { throw bad(key, "a list of array ids or nulls") }
        var ids: [String?] = []
        for item in items {
            if item.isNull { ids.append(nil); continue }
            guard let id = item.string else { throw bad(key, "a list of array ids or nulls") }
            ids.append(id)
        }
        return ids
    }

    func gradReq(_ key: String) throws(APIError) -> GradReq? {
        guard let name = try string(key) else { return nil }
        guard let req = GradReq(rawValue: name) else { throw bad(key, "one of \"write\", \"add\", \"null\" (got \"\(name)\")") }
        return req
    }

    func scopeKind(_ key: String) throws(APIError) -> Context.ScopeKind {
        let name = try requiredString(key)
        guard let kind = Context.ScopeKind(rawValue: name) else {
            throw bad(key, "one of \"record\", \"pause\", \"train_mode\", \"predict_mode\" (got \"\(name)\")")
        }
        return kind
    }

    /// Operator parameters with MXNet's names; JSON lists become tuples, null becomes None.
    func params(_ key: String) throws(APIError) -> [String: OpParam] {
        guard let value = self[key] else { return [:] }
        guard let object = value.object else { throw bad(key, "an object of named operator parameters") }
        var params: [String: OpParam] = [:]
        for member in object.members {
            guard let param = Fields.opParam(member.value) else {
                throw bad("\(key).\(member.key)", "a number, boolean, string, null or a list of those")
            }
            params[member.key] = param
        }
        return params
    }

    static func opParam(_ value: JSONValue) -> OpParam? {
        switch value {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .string(let s): return .string(s)
        case .number(let n): return n.int.map(OpParam.int) ?? .double(n.double)
        case .numbers(let numbers):
            guard numbers.shape.count == 1 else { return nil }
            return .list(numbers.values.map { v in
                numbers.allIntegers ? .int(Int(v)) : .double(v)
            })
        case .array(let items):
            var list: [OpParam] = []
            for item in items {
                guard let param = opParam(item) else { return nil }
                list.append(param)
            }
            return .list(list)
        case .object: return nil
        }
    }

    // MARK: - Tensors

    /// A `Tensor` from the members `data`, `shape`, `dtype` of this object.
    func tensor() throws(APIError) -> TensorInput {
        let dtype = try Fields.dtype(string("dtype"))
        guard let data = object["data"] else { throw bad("data", "a number or a (nested) list of numbers (it is required)") }
        let numbers: NumericArray
        switch data {
        case .numbers(let parsed):
            numbers = parsed
        case .number(let number):
            numbers = NumericArray(values: [number.double], shape: [1], allIntegers: number.isInteger)
        case .string(let special):
            guard let value = Fields.special(special) else { throw bad("data", "numbers or the strings \"NaN\", \"Infinity\", \"-Infinity\"") }
            numbers = NumericArray(values: [value], shape: [1])
        case .null:
            throw APIError(.invalidBody, "'\(context)data' is null; non-finite values travel as the strings \"NaN\", \"Infinity\", \"-Infinity\".")
        case .array:
            throw APIError(.invalidBody, "'\(context)data' must be a rectangular (nested) list of numbers; null and other strings than \"NaN\", \"Infinity\", \"-Infinity\" are not allowed.")
        case .bool, .object:
            throw bad("data", "a number or a (nested) list of numbers")
        }
        guard let given = self["shape"] else { return .json(numbers, shape: numbers.shape, dtype: dtype) }
        guard let items = given.array else { throw bad("shape", "a list of non-negative integers") }
        var dims: [Int] = []
        for item in items {
            guard let dim = Fields.int(item), dim >= 0 else { throw bad("shape", "a list of non-negative integers") }
            dims.append(dim)
        }
        let (count, overflow) = dims.reduce((1, false)) { acc, dim in
            let (product, o) = acc.0.multipliedReportingOverflow(by: dim)
            return (product, acc.1 || o)
        }
        let nestedMismatch = numbers.shape.count > 1 && numbers.shape != dims
        guard !overflow, count == numbers.values.count, !nestedMismatch else {
            throw APIError(.dataSizeMismatch,
                           "'\(context)data' has \(numbers.values.count) value(s) (nested shape \(numbers.shape)) but shape \(dims) needs \(overflow ? "more" : String(count)).",
                           ["expected": .ints(dims), "actual": .ints(numbers.shape)])
        }
        return .json(numbers, shape: dims, dtype: dtype)
    }

    static func special(_ string: String) -> Double? {
        switch string {
        case "NaN": .nan
        case "Infinity": .infinity
        case "-Infinity": -.infinity
        default: nil
        }
    }

    /// A dtype by its name or OIP alias; unknown names are 422 `unsupported-dtype`.
    static func dtype(_ name: String?) throws(APIError) -> DType? {
        guard let name else { return nil }
        if let dtype = DType(rawValue: name) { return dtype }
        switch name {
        case "FP32": return .float32
        case "FP64": return .float64
        case "INT32": return .int32
        case "INT64": return .int64
        case "UINT8": return .uint8
        default:
            throw APIError(.unsupportedDType,
                           "dtype '\(name)' is not supported; use one of float32, float64, int32, int64, uint8.",
                           ["actual": .string(name)])
        }
    }
}
