/// Why a request was rejected. Every case maps to one status code, and every case means the
/// connection is closed after the error response (RFC 9112 §6.3, §9.6): the framing of whatever
/// follows can no longer be trusted.
public enum HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Malformed request line: method, spacing or protocol name.
    case invalidRequestLine
    /// A request-target with a forbidden byte, bad percent-encoding or unsupported form.
    case invalidTarget
    /// `HTTP/x.y` with a malformed version.
    case invalidVersion
    /// HTTP/2 or later in an HTTP/1 request line (505).
    case unsupportedVersion
    /// The request line exceeds ``ParserLimits/maxRequestLineLength`` (414).
    case requestLineTooLong
    /// The header block or trailer block exceeds ``ParserLimits/maxHeaderBytes`` (431).
    case headersTooLarge
    /// More fields than ``ParserLimits/maxHeaderCount`` (431).
    case tooManyHeaders
    /// A field name with a non-token byte, or empty.
    case invalidHeaderName
    /// Whitespace between a field name and its colon.
    case whitespaceBeforeColon
    /// A field line starting with whitespace (obs-fold).
    case obsoleteLineFolding
    /// A control character (other than HTAB) in a field value.
    case invalidHeaderValue
    /// A line ending that is not CRLF: bare LF or bare CR.
    case invalidLineEnding
    /// HTTP/1.1 without a Host field.
    case missingHost
    /// More than one Host field.
    case duplicateHost
    /// A Host value that is not `uri-host [":" port]`.
    case invalidHost
    /// A Content-Length that is not a plain decimal number.
    case invalidContentLength
    /// Two or more Content-Length fields.
    case duplicateContentLength
    /// Content-Length together with Transfer-Encoding.
    case contentLengthWithTransferEncoding
    /// A Transfer-Encoding whose final coding is not `chunked`, or with `chunked` twice.
    case transferEncodingNotChunked
    /// Transfer-Encoding in an HTTP/1.0 request.
    case transferEncodingInHTTP10
    /// A transfer coding other than `chunked` (501).
    case unsupportedTransferEncoding
    /// A chunk-size line that is not hex digits (with optional extensions) or overflows.
    case invalidChunkSize
    /// A chunk extension that does not follow the grammar.
    case invalidChunkExtension
    /// A chunk extension longer than ``ParserLimits/maxChunkExtensionLength``.
    case chunkExtensionTooLong
    /// Chunk data not followed by CRLF.
    case invalidChunkTerminator
    /// The body (declared, received or decompressed) exceeds its limit (413).
    case bodyTooLarge
    /// An `Expect` value other than `100-continue` (417).
    case unsupportedExpectation
    /// A Content-Encoding other than gzip or identity on a request body (415).
    case unsupportedContentEncoding
    /// A gzip request body that does not decompress.
    case invalidContentEncoding

    /// The response status for this error.
    public var status: Int {
        switch self {
        case .unsupportedVersion: 505
        case .requestLineTooLong: 414
        case .headersTooLarge, .tooManyHeaders: 431
        case .bodyTooLarge: 413
        case .unsupportedTransferEncoding: 501
        case .unsupportedExpectation: 417
        case .unsupportedContentEncoding: 415
        default: 400
        }
    }

    /// A short human-readable explanation for logs and error bodies.
    public var description: String {
        switch self {
        case .invalidRequestLine: "malformed request line"
        case .invalidTarget: "invalid request target"
        case .invalidVersion: "invalid HTTP version"
        case .unsupportedVersion: "HTTP version not supported"
        case .requestLineTooLong: "request line too long"
        case .headersTooLarge: "header block too large"
        case .tooManyHeaders: "too many header fields"
        case .invalidHeaderName: "invalid header field name"
        case .whitespaceBeforeColon: "whitespace before colon in header field"
        case .obsoleteLineFolding: "obsolete line folding is not accepted"
        case .invalidHeaderValue: "invalid character in header field value"
        case .invalidLineEnding: "line not terminated by CRLF"
        case .missingHost: "missing Host header"
        case .duplicateHost: "more than one Host header"
        case .invalidHost: "invalid Host header"
        case .invalidContentLength: "invalid Content-Length"
        case .duplicateContentLength: "more than one Content-Length"
        case .contentLengthWithTransferEncoding: "Content-Length together with Transfer-Encoding"
        case .transferEncodingNotChunked: "Transfer-Encoding must end in chunked"
        case .transferEncodingInHTTP10: "Transfer-Encoding in an HTTP/1.0 request"
        case .unsupportedTransferEncoding: "transfer coding not implemented"
        case .invalidChunkSize: "invalid chunk size"
        case .invalidChunkExtension: "invalid chunk extension"
        case .chunkExtensionTooLong: "chunk extension too long"
        case .invalidChunkTerminator: "chunk data not followed by CRLF"
        case .bodyTooLarge: "request body too large"
        case .unsupportedExpectation: "unsupported expectation"
        case .unsupportedContentEncoding: "unsupported Content-Encoding"
        case .invalidContentEncoding: "request body is not valid gzip"
        }
    }
}

extension HTTPParseError {
    /// The stable problem code (docs/API.md) for the error body.
    public var problemCode: String {
        switch status {
        case 413: "body-too-large"
        case 414: "uri-too-long"
        case 415: "unsupported-media-type"
        case 417: "expectation-failed"
        case 431: "header-fields-too-large"
        case 501: "not-implemented"
        case 505: "http-version-not-supported"
        default: "bad-request"
        }
    }

    /// The problem title: one per code, the same text the service uses for its codes.
    public var problemTitle: String {
        switch status {
        case 413: "Request body too large"
        case 414: "Request target too long"
        case 415: "Unsupported media type"
        case 417: "Expectation failed"
        case 431: "Header fields too large"
        case 501: "Not implemented"
        case 505: "HTTP version not supported"
        default: "Malformed HTTP request"
        }
    }

    /// The error response: `application/problem+json` (RFC 9457) with this error's status.
    /// The caller sends it with `keepAlive: false` and then closes.
    public var response: HTTPResponse {
        // `description` is a fixed ASCII text without quotes or backslashes: no JSON escaping needed.
        let body = #"{"type":"https://tensord.dev/problems/\#(problemCode)","title":"\#(problemTitle)","status":\#(status),"detail":"\#(description)","code":"\#(problemCode)"}"#
        return HTTPResponse(status: status, headers: ["Content-Type": "application/problem+json"], body: .bytes(Array(body.utf8)))
    }
}
