import Autograd
import HTTP
import Wire

/// What a route handler gets: the request (with path parameters), who sent it and the service it runs in.
struct RequestContext: Sendable {
    let request: HTTPRequest
    let caller: Caller
    let service: Service

    /// A `{param}` of the route's path (always present: the router matched the template).
    func parameter(_ name: String) -> String { request.pathParameters[name] ?? "" }

    /// The first value of a query parameter.
    func query(_ name: String) -> String? { request.query.first { $0.0 == name }?.1 }

    /// `?name=true|false|1|0`; anything else is 400.
    func queryBool(_ name: String) throws(APIError) -> Bool? {
        guard let value = query(name) else { return nil }
        switch value {
        case "true", "1": return true
        case "false", "0": return false
        default: throw APIError(.invalidArgument, "Query parameter '\(name)' must be true or false.")
        }
    }

    // MARK: - Request bodies

    /// The body as a JSON object (`{}` when empty); 415 unless it is JSON.
    func fields() throws(APIError) -> Fields {
        guard !request.body.isEmpty else { return Fields(JSONObject()) }
        switch Negotiation.bodyKind(request) {
        case .json: return try Fields(body: request.body)
        case .npy, .unsupported(_):
            throw Negotiation.unsupportedMediaType(request.headers["Content-Type"] ?? "", accepted: "application/json")
        }
    }

    /// A tensor from a JSON `Tensor` body or an `.npy` body (`?dtype=` casts npy values), plus the
    /// optional `id` (JSON member or `?id=`).
    func tensorBody() throws(APIError) -> (TensorInput, id: String?, fields: Fields?) {
        // `?id=` and `?dtype=` are checked whatever the body, so a malformed one is never ignored.
        let queryID = query("id")
        if let queryID { try Session.validateID(queryID) }
        let queryDType = try Fields.dtype(query("dtype"))
        switch Negotiation.bodyKind(request) {
        case .json:
            let fields = try Fields(body: request.body)
            return (try fields.tensor(), try fields.string("id") ?? queryID, fields)
        case .npy:
            let tensor = try NPYCodec.decode(request.body, maxElements: service.registry.configuration.maxArrayElements)
            guard let dtype = queryDType else { return (tensor, queryID, nil) }
            return (NPYCodec.cast(tensor, to: dtype), queryID, nil)
        case .unsupported(let type):
            throw Negotiation.unsupportedMediaType(type, accepted: "application/json, application/x-npy")
        }
    }

    // MARK: - Responses

    /// Negotiates a tensor response: JSON `Tensor` or `.npy`.
    func tensorReply(_ array: NDArray, status: Int = 200) throws(APIError) -> Reply {
        switch try Negotiation.tensorFormat(request) {
        case .json: return .json(DTO.tensor(array), status: status)
        case .npy: return Reply(status: status, contentType: "application/x-npy", body: NPYCodec.encode(array))
        }
    }
}

/// A handler's answer before encoding.
struct Reply: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var contentType: String?
    var body: [UInt8]

    init(status: Int, headers: [(String, String)] = [], contentType: String? = nil, body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.contentType = contentType
        self.body = body
    }

    static func json(_ value: JSONOut, status: Int = 200, headers: [(String, String)] = []) -> Reply {
        Reply(status: status, headers: headers, contentType: "application/json", body: value.encoded())
    }

    static let noContent = Reply(status: 204)
}
