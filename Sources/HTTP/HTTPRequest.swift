/// The protocol version of a message. Only HTTP/1.0 and HTTP/1.1 are parsed; `HTTP/1.x` with a
/// higher minor version is treated as HTTP/1.1 (RFC 9110 §6.2).
public enum HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    case http1_0
    case http1_1

    /// `"HTTP/1.0"` or `"HTTP/1.1"`.
    public var description: String { self == .http1_0 ? "HTTP/1.0" : "HTTP/1.1" }
}

/// A complete request as a handler sees it.
public struct HTTPRequest: Sendable {
    /// The method token, case-sensitive (RFC 9110 §9.1): `"GET"`, `"POST"`, ...
    public var method: String
    /// The raw request-target as sent (origin-form, absolute-form or `*`).
    public var target: String
    /// The percent-decoded path without query or fragment (`"*"` for asterisk-form).
    public var path: String
    /// The decoded query pairs in order; `+` decodes to a space (form-urlencoded convention).
    public var query: [(String, String)]
    /// The request's protocol version.
    public var version: HTTPVersion
    /// The header fields as received (trailers are not included).
    public var headers: HTTPHeaders
    /// The body, already de-chunked and, for `Content-Encoding: gzip`, decompressed.
    public var body: [UInt8]
    /// The `{param}` values of the matched route, filled in by the router's caller.
    public var pathParameters: [String: String]
    /// The peer address, filled in by the server.
    public var remoteAddress: String?

    /// Creates a request; `path` and `query` are derived from `target` when not given.
    public init(method: String, target: String, version: HTTPVersion = .http1_1,
                headers: HTTPHeaders = .init(), body: [UInt8] = [],
                pathParameters: [String: String] = [:], remoteAddress: String? = nil) {
        self.method = method
        self.target = target
        let parts = RequestTarget.decode(target)
        self.path = parts?.path ?? ""
        self.query = parts?.query ?? []
        self.version = version
        self.headers = headers
        self.body = body
        self.pathParameters = pathParameters
        self.remoteAddress = remoteAddress
    }

    init(method: String, target: String, path: String, query: [(String, String)], version: HTTPVersion,
         headers: HTTPHeaders, body: [UInt8]) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        pathParameters = [:]
        remoteAddress = nil
    }

    /// The still percent-encoded path of `target` (without query and fragment), as the router wants it.
    public var rawPath: Substring { RequestTarget.rawPath(target) }

    /// Whether the connection may stay open after the response (RFC 9112 §9.3): HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool { HTTPRequestHead.keepAlive(version: version, headers: headers) }

    /// The first query value for `name`, or `nil`.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.0 == name }?.1
    }
}

/// A request head whose body has not been read yet; see ``ParserEvent/head(_:consumed:)``.
public struct HTTPRequestHead: Sendable {
    /// The method token.
    public var method: String
    /// The raw request-target.
    public var target: String
    /// The protocol version.
    public var version: HTTPVersion
    /// The header fields.
    public var headers: HTTPHeaders
    /// The announced body length, `nil` for a chunked body.
    public var contentLength: Int?
    /// Whether the body uses chunked transfer coding.
    public var isChunked: Bool
    /// Whether an HTTP/1.1 client waits for `100 Continue` before sending the body (RFC 9110 §10.1.1).
    public var expectsContinue: Bool

    /// Whether the connection may stay open after the response (RFC 9112 §9.3).
    public var keepAlive: Bool { HTTPRequestHead.keepAlive(version: version, headers: headers) }

    /// The keep-alive rule of RFC 9112 §9.3: any `close` option closes; otherwise HTTP/1.1 stays
    /// open and HTTP/1.0 stays open only with a `keep-alive` option.
    public static func keepAlive(version: HTTPVersion, headers: HTTPHeaders) -> Bool {
        var close = false
        var keepAlive = false
        for (name, value) in headers where HTTPHeaders.nameEquals(name, "Connection") {
            for option in value.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true) {
                let token = option.trimmingOWS()
                if token.asciiEquals("close") { close = true }
                if token.asciiEquals("keep-alive") { keepAlive = true }
            }
        }
        if close { return false }
        return version == .http1_1 || keepAlive
    }
}

extension Collection where Element == UInt8 {
    /// The collection without leading and trailing SP/HTAB (RFC 9110 §5.6.3 OWS).
    func trimmingOWS() -> SubSequence {
        let isOWS: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard let start = firstIndex(where: { !isOWS($0) }) else { return self[endIndex...] }
        var end = start
        var index = start
        while index != endIndex {
            if !isOWS(self[index]) { end = self.index(after: index) }
            index = self.index(after: index)
        }
        return self[start..<end]
    }

    /// ASCII case-insensitive comparison with a lowercase literal.
    func asciiEquals(_ lowercase: StaticString) -> Bool {
        guard count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { literal in
            zip(self, literal).allSatisfy { HTTPHeaders.asciiLower($0) == $1 }
        }
    }
}
