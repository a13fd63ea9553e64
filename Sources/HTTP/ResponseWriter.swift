/// Serialises response heads (RFC 9112 §4, §6) and chunk framing (RFC 9112 §7.1) into bytes.
///
/// The writer owns framing: it writes `Date`, `Server`, `Content-Length` or
/// `Transfer-Encoding: chunked`, and `Connection`, and drops those fields from the handler's
/// headers. The status line always says `HTTP/1.1` (RFC 9110 §6.2).
///
/// ```swift
/// let writer = ResponseWriter(serverName: "tensord")
/// var out: [UInt8] = []
/// let framing = writer.write(response, version: .http1_1, isHead: false, keepAlive: true,
///                            date: HTTPDate.format(secondsSince1970: now), into: &out)
/// ```
public struct ResponseWriter: Sendable {
    /// How the body follows the head that ``writeHead(_:version:isHead:keepAlive:date:into:)`` wrote.
    public enum BodyFraming: Sendable, Equatable {
        /// Nothing follows (HEAD, 1xx, 204, 304, or an empty body).
        case none
        /// Exactly this many bytes of the `.bytes` body follow.
        case contentLength(Int)
        /// The stream follows as chunks (``appendChunk(_:into:)``), ended by ``lastChunk``.
        case chunked
        /// The stream follows raw and the connection closes at its end (HTTP/1.0 has no chunked).
        case untilClose
    }

    /// What the caller must do after the head.
    public struct Framing: Sendable, Equatable {
        /// How the body is framed.
        public var body: BodyFraming
        /// Whether the connection stays open after this response (the head says so too).
        public var keepAlive: Bool
    }

    /// The interim response sent before reading a body the client is holding back (RFC 9110 §10.1.1).
    public static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
    /// The last chunk with an empty trailer section, ending a chunked body.
    public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    private let serverLine: [UInt8]

    /// Creates a writer that sends `Server: serverName`.
    public init(serverName: String = "tensord") {
        serverLine = Array("Server: \(serverName)\r\n".utf8)
    }

    /// Appends the head and, for `.bytes`, the body: the whole response when the result is
    /// `.none` or `.contentLength`.
    @discardableResult
    public func write(_ response: HTTPResponse, version: HTTPVersion, isHead: Bool, keepAlive: Bool,
                      date: String, into buffer: inout [UInt8]) -> Framing {
        let framing = writeHead(response, version: version, isHead: isHead, keepAlive: keepAlive, date: date, into: &buffer)
        if case .contentLength = framing.body, case .bytes(let bytes) = response.body {
            buffer.append(contentsOf: bytes)
        }
        return framing
    }

    /// Appends the status line and header section.
    /// - Parameters:
    ///   - response: The handler's response; its framing fields are ignored.
    ///   - version: The request's version: HTTP/1.0 gets no chunked body and needs an explicit keep-alive.
    ///   - isHead: The request was HEAD: same fields as GET, no body (RFC 9110 §9.3.2).
    ///   - keepAlive: Whether the connection may stay open (``HTTPRequest/keepAlive`` and server policy).
    ///   - date: The cached IMF-fixdate (``HTTPDate``); empty omits `Date`.
    public func writeHead(_ response: HTTPResponse, version: HTTPVersion, isHead: Bool, keepAlive: Bool,
                          date: String, into buffer: inout [UInt8]) -> Framing {
        let status = response.status
        precondition((100...999).contains(status), "status code out of range")
        Self.append(literal: "HTTP/1.1 ", to: &buffer)
        buffer.append(UInt8(ascii: "0") + UInt8(status / 100))
        buffer.append(UInt8(ascii: "0") + UInt8(status / 10 % 10))
        buffer.append(UInt8(ascii: "0") + UInt8(status % 10))
        buffer.append(ByteClass.sp)
        HTTPStatus.staticReasonPhrase(status).withUTF8Buffer { buffer.append(contentsOf: $0) }
        Self.append(literal: "\r\n", to: &buffer)
        if !date.isEmpty {
            Self.append(literal: "Date: ", to: &buffer)
            Self.append(date, to: &buffer)
            Self.append(literal: "\r\n", to: &buffer)
        }
        buffer.append(contentsOf: serverLine)
        for (name, value) in response.headers where !Self.isWriterOwned(name) {
            appendSanitised(name, into: &buffer)
            Self.append(literal: ": ", to: &buffer)
            appendSanitised(value, into: &buffer)
            Self.append(literal: "\r\n", to: &buffer)
        }

        // RFC 9110 §8.6 / §15.2, §15.3.5, §15.4.5: 1xx and 204 carry no Content-Length; 304 carries no body.
        let bodyless = status < 200 || status == 204 || status == 304
        var body = BodyFraming.none
        var keepAlive = keepAlive
        switch response.body {
        case .bytes(let bytes) where !bodyless:
            appendContentLength(bytes.count, into: &buffer)
            body = isHead || bytes.isEmpty ? .none : .contentLength(bytes.count)
        case .stream where !bodyless && !isHead:
            if version == .http1_1 {
                Self.append(literal: "Transfer-Encoding: chunked\r\n", to: &buffer)
                body = .chunked
            } else {
                // RFC 9112 §6.3 item 8: without chunked, HTTP/1.0 bodies are delimited by closing.
                body = .untilClose
                keepAlive = false
            }
        default:
            break
        }
        if !keepAlive {
            Self.append(literal: "Connection: close\r\n", to: &buffer)
        } else if version == .http1_0 {
            Self.append(literal: "Connection: keep-alive\r\n", to: &buffer)
        }
        Self.append(literal: "\r\n", to: &buffer)
        return Framing(body: body, keepAlive: keepAlive)
    }

    /// Appends one chunk (`size CRLF data CRLF`); an empty `data` is skipped, as it would end the body.
    public static func appendChunk(_ data: [UInt8], into buffer: inout [UInt8]) {
        guard !data.isEmpty else { return }
        buffer.append(contentsOf: chunkHeader(size: data.count))
        buffer.append(contentsOf: data)
        Self.append(literal: "\r\n", to: &buffer)
    }

    /// The `size CRLF` line before `size` bytes of chunk data (which are then followed by CRLF),
    /// for callers that write the data without copying.
    public static func chunkHeader(size: Int) -> [UInt8] {
        precondition(size > 0, "an empty chunk would end the body")
        var digits: [UInt8] = []
        var rest = size
        while rest > 0 {
            let digit = UInt8(rest & 0xF)
            digits.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
            rest >>= 4
        }
        return digits.reversed() + [ByteClass.cr, ByteClass.lf]
    }

    private func appendContentLength(_ length: Int, into buffer: inout [UInt8]) {
        Self.append(literal: "Content-Length: ", to: &buffer)
        if length == 0 {
            buffer.append(UInt8(ascii: "0"))
        } else {
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                          UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &digits) { raw in
                var index = raw.count
                var rest = length
                while rest > 0 {
                    index -= 1
                    raw[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[index...]))
            }
        }
        Self.append(literal: "\r\n", to: &buffer)
    }

    /// Copies a name or value, turning CR, LF, NUL and other controls into spaces so that no
    /// handler-supplied text can split the response (RFC 9110 §5.5).
    private func appendSanitised(_ text: String, into buffer: inout [UInt8]) {
        let start = buffer.count
        Self.append(text, to: &buffer)
        for index in start..<buffer.count where !ByteClass.isFieldValue(buffer[index]) {
            buffer[index] = ByteClass.sp
        }
    }

    @inline(__always)
    private static func append(literal text: StaticString, to buffer: inout [UInt8]) {
        text.withUTF8Buffer { buffer.append(contentsOf: $0) }
    }

    @inline(__always)
    private static func append(_ text: String, to buffer: inout [UInt8]) {
        var text = text
        text.withUTF8 { buffer.append(contentsOf: $0) }
    }

    private static func isWriterOwned(_ name: String) -> Bool {
        switch name.utf8.count {
        case 4: HTTPHeaders.nameEquals(name, "Date")
        case 6: HTTPHeaders.nameEquals(name, "Server")
        case 10: HTTPHeaders.nameEquals(name, "Connection") || HTTPHeaders.nameEquals(name, "Keep-Alive")
        case 14: HTTPHeaders.nameEquals(name, "Content-Length")
        case 17: HTTPHeaders.nameEquals(name, "Transfer-Encoding")
        default: false
        }
    }
}
