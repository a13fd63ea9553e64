/// A response as a handler produces it. The server adds `Date`, `Server`, framing
/// (`Content-Length` or chunked) and `Connection`; handlers never set those.
public struct HTTPResponse: Sendable {
    /// The status code, 100...599.
    public var status: Int
    /// The handler's header fields (framing fields here are ignored by ``ResponseWriter``).
    public var headers: HTTPHeaders
    /// The body: bytes, or a pull-based stream sent chunked.
    public var body: HTTPBody

    /// Creates a response.
    public init(status: Int, headers: HTTPHeaders = .init(), body: HTTPBody = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A response body.
public enum HTTPBody: Sendable {
    /// A body known up front; sent with `Content-Length`.
    case bytes([UInt8])
    /// A body produced piece by piece; sent chunked on HTTP/1.1, close-delimited on HTTP/1.0.
    case stream(any HTTPBodyStream)
}

/// A pull-based body source. The server calls `next()` whenever the socket can take more,
/// which gives backpressure for free; `nil` ends the body. An empty array is skipped.
///
/// A struct conforms with a `mutating` method, a class with a plain one.
public protocol HTTPBodyStream: Sendable {
    /// The next piece of the body, or `nil` at the end.
    mutating func next() -> [UInt8]?
}

/// Serves requests. Completion-based so that a handler may answer inline (the fast path) or
/// later from another queue; `respond` must be called exactly once.
public protocol HTTPHandler: Sendable {
    /// Handles `request` and calls `respond` exactly once with the response.
    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void)
}
