/// What ``RequestParser/parse(_:)`` found in the bytes it was given.
///
/// `consumed` counts bytes from the start of the buffer passed in that the caller must drop
/// before the next call; the rest (plus newly read bytes) is passed again.
public enum ParserEvent: Sendable {
    /// The buffer ends inside a message. Drop `consumed` bytes, read more, call again.
    case needMoreData(consumed: Int)
    /// The head of a request with `Expect: 100-continue` (HTTP/1.1) and a body is complete.
    /// Send `100 Continue` if the body is wanted (or answer with a final status and close),
    /// then drop `consumed` bytes and call again to read the body.
    case head(HTTPRequestHead, consumed: Int)
    /// A whole request. Drop `consumed` bytes; pipelined bytes may follow, so call again.
    case message(HTTPRequest, consumed: Int)
}

/// An incremental, strict HTTP/1.1 request parser (RFC 9112) working on byte offsets.
///
/// Push bytes in; it returns at most one event per call. The head is scanned exactly once, even
/// when it arrives one byte at a time: the parser keeps its scan position and only remembers
/// offsets into the caller's buffer, so the caller keeps unconsumed bytes and passes them again
/// (possibly moved to another address) together with newly read ones. Body bytes are copied out
/// and consumed as they arrive, so a large body never makes the caller's buffer grow.
///
/// Any thrown ``HTTPParseError`` leaves the parser unusable: answer with `error.status`
/// and `Connection: close`, then close the connection.
///
/// ```swift
/// var parser = RequestParser()
/// var buffer: [UInt8] = Array("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
/// let event = try buffer.withUnsafeBytes { try parser.parse($0) }
/// if case .message(let request, let consumed) = event { buffer.removeFirst(consumed); _ = request }
/// ```
public struct RequestParser: Sendable {
    /// The limits this parser enforces.
    public let limits: ParserLimits
    /// Whether an HTTP/1.1 request without Host is rejected (RFC 9112 §3.2 says it MUST be).
    public let requireHost: Bool

    private enum State: UInt8 {
        case messageStart, leadingLF, method, target, version, requestLineLF
        case fieldStart, fieldName, valueOWS, value, fieldLF, blockEndLF
        case identityBody, chunkSize, chunkExtStart, chunkExtName, chunkExtValueStart, chunkExtToken
        case chunkExtQuoted, chunkExtEscape, chunkExtAfterQuote, chunkSizeLF, chunkData, chunkDataCR, chunkDataLF
    }

    private struct FieldRange {
        var nameStart: Int, nameEnd: Int, valueStart: Int, valueEnd: Int
    }

    private var state = State.messageStart
    /// Where scanning resumes, as an offset into the buffer of the next call.
    private var position = 0

    // Head bookkeeping: offsets into the caller's buffer, which is not consumed until the head is done.
    private var methodStart = 0, methodEnd = 0, targetStart = 0, targetEnd = 0
    private var versionIndex = 0
    private var version = HTTPVersion.http1_1
    private var fieldNameStart = 0, fieldNameEnd = 0, valueStart = 0
    private var fields: [FieldRange] = []
    /// Start of the current header or trailer block; the block may not reach `blockStart + maxHeaderBytes`.
    private var blockStart = 0
    private var inTrailers = false
    private var trailerCount = 0

    // Framing, collected while the fields are parsed.
    private var contentLength: Int?
    private var hostCount = 0
    private var expectsContinue = false
    private var transferEncodingSeen = false, chunkedIsLast = false
    private var transferEncodingInvalid = false, transferEncodingUnsupported = false
    private var contentEncodingGzip = false, contentEncodingUnsupported = false

    // Body.
    private var head: HTTPRequestHead?
    private var path = "", query: [(String, String)] = []
    private var body: [UInt8] = []
    private var remaining = 0
    /// Bytes of an identity body received so far (`body` is allocated at its full length).
    private var bodyFilled = 0 {
        didSet {
            // A client that has sent this much gets huge pages for the rest (LargeBuffer).
            if oldValue < LargeBuffer.hugePageMinimum && bodyFilled >= LargeBuffer.hugePageMinimum {
                let filled = bodyFilled
                body.withUnsafeMutableBytes { LargeBuffer.adviseHugePages(UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            }
        }
    }
    private var chunkSize = 0
    private var chunkExtensionLength = 0

    /// Creates a parser for one connection.
    /// - Parameters:
    ///   - limits: The size limits; see ``ParserLimits``.
    ///   - requireHost: Reject HTTP/1.1 requests without Host (RFC 9112 §3.2). Keep the default.
    public init(limits: ParserLimits = .init(), requireHost: Bool = true) {
        self.limits = limits
        self.requireHost = requireHost
    }

    /// Whether the parser is between messages (nothing of a next request seen yet).
    /// A connection closed in this state was closed cleanly.
    public var isIdle: Bool { state == .messageStart && position == 0 }

    /// Parses as far as `bytes` allow and returns the first event.
    ///
    /// - Parameter bytes: The unconsumed bytes: everything not yet dropped after earlier events,
    ///   followed by newly read bytes.
    /// - Returns: ``ParserEvent``; drop its `consumed` bytes before calling again.
    /// - Throws: ``HTTPParseError``; every case means answer `error.status` and close.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> ParserEvent {
        guard let base = bytes.baseAddress, bytes.count > position else {
            return .needMoreData(consumed: 0)
        }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let count = bytes.count
        var i = position
        while i < count {
            switch state {
            case .messageStart, .leadingLF, .method, .target, .version, .requestLineLF:
                try parseRequestLine(p, count, &i)
            case .fieldStart, .fieldName, .valueOWS, .value, .fieldLF, .blockEndLF:
                guard try parseFields(p, count, &i) else { break }
                if inTrailers {
                    return try finishMessage(consumed: i)
                }
                if let event = try finishHead(p, &i) { return event }
            case .identityBody:
                let n = min(remaining, count - i)
                let filled = bodyFilled
                body.withUnsafeMutableBytes { ($0.baseAddress! + filled).copyMemory(from: p + i, byteCount: n) }
                bodyFilled += n
                i += n
                remaining -= n
                if remaining == 0 { return try finishMessage(consumed: i) }
            case .chunkData:
                let n = min(remaining, count - i)
                body.append(contentsOf: UnsafeBufferPointer(start: p + i, count: n))
                i += n
                remaining -= n
                if remaining == 0 { state = .chunkDataCR }
            default:
                try parseChunkFraming(p[i], at: i)
                i += 1
            }
        }
        return needMoreData(scannedTo: i)
    }

    /// Whether the parser is inside a request head (request line or header fields), as opposed to
    /// a body, its chunk framing or trailers. With ``isIdle`` this tells a server which timeout
    /// applies: the header deadline runs from a head's first byte however slowly it trickles in.
    public var isInHead: Bool { state.rawValue <= State.blockEndLF.rawValue && !inTrailers }

    /// Bytes still expected of a `Content-Length` body being received, 0 in any other state.
    public var identityBodyRemaining: Int { state == .identityBody ? remaining : 0 }

    /// Receives `Content-Length` body bytes straight into the request's body buffer, for a
    /// server that reads a large body from its socket without copying it through a read buffer.
    /// Only while ``identityBodyRemaining`` is above 0 and no unparsed bytes are held back.
    /// - Parameter read: Gets the space for the rest of the body and returns how many bytes it
    ///   wrote there; a result of 0 or less is passed back unchanged (end of input, error).
    /// - Returns: `read`'s result, and the request once its body is complete.
    public mutating func readBody(_ read: (UnsafeMutableRawBufferPointer) -> Int) throws(HTTPParseError) -> (count: Int, request: HTTPRequest?) {
        precondition(state == .identityBody && remaining > 0, "readBody outside a Content-Length body")
        let (filled, wanted) = (bodyFilled, remaining)
        let n = body.withUnsafeMutableBytes { read(UnsafeMutableRawBufferPointer(rebasing: $0[filled..<(filled + wanted)])) }
        guard n > 0 else { return (n, nil) }
        bodyFilled += n
        remaining -= n
        guard remaining == 0 else { return (n, nil) }
        guard case .message(let request, _) = try finishMessage(consumed: 0) else { preconditionFailure("finishMessage returns a message") }
        return (n, request)
    }

    /// The head is kept in the caller's buffer until it is complete; body and trailer bytes are consumed as read.
    private mutating func needMoreData(scannedTo i: Int) -> ParserEvent {
        if isInHead {
            position = i
            return .needMoreData(consumed: 0)
        }
        position = 0
        blockStart -= i
        return .needMoreData(consumed: i)
    }

    // MARK: - Request line (RFC 9112 §3)

    private mutating func parseRequestLine(_ p: UnsafePointer<UInt8>, _ count: Int, _ i: inout Int) throws(HTTPParseError) {
        // The request line, CRLF included, must fit in maxRequestLineLength (RFC 9112 §3: 414).
        let lineEnd = min(count, methodStart + limits.maxRequestLineLength)
        if state.rawValue > State.leadingLF.rawValue && i >= lineEnd {
            throw .requestLineTooLong
        }
        let c = p[i]
        switch state {
        case .messageStart:
            if c == ByteClass.cr {
                // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
                // They count against the header block limit, which bounds how many are skipped.
                guard i + 1 < limits.maxHeaderBytes else { throw .headersTooLarge }
                state = .leadingLF
                i += 1
            } else if ByteClass.isToken(c) {
                methodStart = i
                state = .method
            } else {
                throw c == ByteClass.lf ? .invalidLineEnding : .invalidRequestLine
            }
        case .leadingLF:
            // RFC 9112 §2.2: a bare CR is rejected.
            guard c == ByteClass.lf else { throw .invalidLineEnding }
            state = .messageStart
            i += 1
        case .method:
            // method = token (RFC 9110 §9.1), followed by exactly one SP (RFC 9112 §3).
            var j = i
            while j < lineEnd && ByteClass.isToken(p[j]) { j += 1 }
            i = j
            guard j < lineEnd else { return }
            guard p[j] == ByteClass.sp else { throw .invalidRequestLine }
            methodEnd = j
            targetStart = j + 1
            i = j + 1
            state = .target
        case .target:
            // request-target: visible ASCII only (RFC 9112 §3.2); its form is checked when the head is done.
            var j = i
            while j < lineEnd {
                if j + 8 <= lineEnd && ByteClass.isTargetWord(ByteClass.load8(p + j)) {
                    j += 8
                } else if ByteClass.isTarget(p[j]) {
                    j += 1
                } else {
                    break
                }
            }
            i = j
            guard j < lineEnd else { return }
            let d = p[j]
            guard d == ByteClass.sp else {
                // A CR or LF here is an HTTP/0.9-style line without a version, which we do not serve.
                throw d == ByteClass.cr || d == ByteClass.lf ? .invalidRequestLine : .invalidTarget
            }
            guard j > targetStart else { throw .invalidRequestLine }
            targetEnd = j
            i = j + 1
            versionIndex = 0
            state = .version
        case .version:
            // HTTP-version = "HTTP/" DIGIT "." DIGIT, then CRLF (RFC 9112 §2.3, §3).
            if versionIndex == 0 && i + 10 <= lineEnd && ByteClass.load8(p + i) == Self.http11
                && p[i + 8] == ByteClass.cr && p[i + 9] == ByteClass.lf {
                version = .http1_1
                i += 10
                startFields()
                return
            }
            try parseVersionByte(c)
            i += 1
        case .requestLineLF:
            guard c == ByteClass.lf else { throw .invalidLineEnding }
            i += 1
            startFields()
        default:
            preconditionFailure("not a request-line state")
        }
    }

    private mutating func startFields() {
        fields.removeAll(keepingCapacity: true)
        blockStart = 0
        state = .fieldStart
    }

    /// "HTTP/1.1" as a little-endian word, for the common case of the version check.
    private static let http11: UInt64 = 0x312E_312F_5054_5448

    private mutating func parseVersionByte(_ c: UInt8) throws(HTTPParseError) {
        let isDigit = c &- UInt8(ascii: "0") < 10
        switch versionIndex {
        case 0...4:
            let expected: UInt8 = switch versionIndex {
            case 0: UInt8(ascii: "H")
            case 1, 2: UInt8(ascii: "T")
            case 3: UInt8(ascii: "P")
            default: UInt8(ascii: "/")
            }
            guard c == expected else { throw .invalidRequestLine }
        case 5:
            guard isDigit else { throw .invalidVersion }
            // RFC 9110 §15.6.6: 505 for a major version we do not support.
            guard c == UInt8(ascii: "1") else { throw .unsupportedVersion }
        case 6:
            guard c == UInt8(ascii: ".") else { throw .invalidVersion }
        case 7:
            guard isDigit else { throw .invalidVersion }
            // RFC 9110 §6.2: a higher HTTP/1.x minor version is served as HTTP/1.1.
            version = c == UInt8(ascii: "0") ? .http1_0 : .http1_1
        default:
            guard c == ByteClass.cr else {
                throw c == ByteClass.lf ? .invalidLineEnding : (isDigit ? .invalidVersion : .invalidRequestLine)
            }
            state = .requestLineLF
        }
        versionIndex += 1
    }

    // MARK: - Header and trailer fields (RFC 9112 §5, RFC 9110 §5)

    /// Scans field lines; returns true after the empty line that ends the block.
    private mutating func parseFields(_ p: UnsafePointer<UInt8>, _ count: Int, _ i: inout Int) throws(HTTPParseError) -> Bool {
        // RFC 9110 §5.4 / RFC 6585 §5: an oversized header (or trailer) block gets 431.
        let end = min(count, blockStart + limits.maxHeaderBytes)
        // The states follow the order of a field line, so a line that is all there runs straight
        // through the blocks below without a dispatch per byte; a short read resumes at `state`.
        var j = i
        defer { i = j }
        while true {
            if state == .fieldStart {
                guard j < end else { break }
                let c = p[j]
                if ByteClass.isToken(c) {
                    fieldNameStart = j
                    state = .fieldName
                } else if c == ByteClass.cr {
                    j += 1
                    state = .blockEndLF
                } else if c == ByteClass.sp || c == ByteClass.htab {
                    // RFC 9112 §5.2: obs-fold is rejected with 400; RFC 9112 §2.2: so is whitespace
                    // between the start line and the first field.
                    throw .obsoleteLineFolding
                } else {
                    throw c == ByteClass.lf ? .invalidLineEnding : .invalidHeaderName
                }
            }
            if state == .fieldName {
                while j < end && ByteClass.isToken(p[j]) { j += 1 }
                guard j < end else { break }
                let d = p[j]
                guard d == UInt8(ascii: ":") else {
                    // RFC 9112 §5.1: no whitespace is allowed between the field name and colon (MUST 400).
                    // RFC 9110 §5.6.2: a field name is a token.
                    throw d == ByteClass.sp || d == ByteClass.htab ? .whitespaceBeforeColon : .invalidHeaderName
                }
                fieldNameEnd = j
                j += 1
                state = .valueOWS
            }
            if state == .valueOWS {
                while j < end && (p[j] == ByteClass.sp || p[j] == ByteClass.htab) { j += 1 }
                guard j < end else { break }
                valueStart = j
                state = .value
            }
            if state == .value {
                // RFC 9110 §5.5: NUL, CR, LF and other controls except HTAB are rejected.
                while j < end {
                    if j + 8 <= end && ByteClass.isPlainValueWord(ByteClass.load8(p + j)) {
                        j += 8
                    } else if ByteClass.isFieldValue(p[j]) {
                        j += 1
                    } else {
                        break
                    }
                }
                guard j < end else { break }
                let d = p[j]
                guard d == ByteClass.cr else {
                    throw d == ByteClass.lf ? .invalidLineEnding : .invalidHeaderValue
                }
                if inTrailers {
                    // RFC 9112 §7.1.2: trailers are parsed against the header limits, then discarded
                    // (their bytes are consumed as they arrive, so no offsets into them are kept).
                    trailerCount += 1
                    guard trailerCount <= limits.maxHeaderCount else { throw .tooManyHeaders }
                } else {
                    // RFC 9112 §5: trailing OWS is not part of the value.
                    var valueEnd = j
                    while valueEnd > valueStart && (p[valueEnd - 1] == ByteClass.sp || p[valueEnd - 1] == ByteClass.htab) {
                        valueEnd -= 1
                    }
                    try completeField(p, valueEnd: valueEnd)
                }
                j += 1
                state = .fieldLF
            }
            if state == .fieldLF {
                guard j < end else { break }
                // RFC 9112 §2.2: a CR not followed by LF is rejected.
                guard p[j] == ByteClass.lf else { throw .invalidLineEnding }
                j += 1
                state = .fieldStart
                continue
            }
            if state == .blockEndLF {
                guard j < end else { break }
                guard p[j] == ByteClass.lf else { throw .invalidLineEnding }
                j += 1
                return true
            }
        }
        if j < count { throw .headersTooLarge }
        return false
    }

    private mutating func completeField(_ p: UnsafePointer<UInt8>, valueEnd: Int) throws(HTTPParseError) {
        guard fields.count < limits.maxHeaderCount else { throw .tooManyHeaders }
        fields.append(FieldRange(nameStart: fieldNameStart, nameEnd: fieldNameEnd, valueStart: valueStart, valueEnd: valueEnd))
        let name = UnsafeBufferPointer(start: p + fieldNameStart, count: fieldNameEnd - fieldNameStart)
        let value = UnsafeBufferPointer(start: p + valueStart, count: valueEnd - valueStart)
        switch name.count {
        case 4 where name.asciiEquals("host"):
            // RFC 9112 §3.2: exactly one valid Host (MUST 400 otherwise).
            hostCount += 1
            guard hostCount == 1 else { throw .duplicateHost }
            guard value.allSatisfy(ByteClass.isHost) else { throw .invalidHost }
        case 6 where name.asciiEquals("expect"):
            // RFC 9110 §10.1.1: only 100-continue is defined; an HTTP/1.0 client's one is ignored.
            guard value.asciiEquals("100-continue") else { throw .unsupportedExpectation }
            expectsContinue = version == .http1_1
        case 14 where name.asciiEquals("content-length"):
            // RFC 9112 §6.3 item 5 and RFC 9110 §8.6: one field, digits only, no overflow.
            guard contentLength == nil else { throw .duplicateContentLength }
            guard !value.isEmpty else { throw .invalidContentLength }
            var length = 0
            for byte in value {
                let digit = byte &- UInt8(ascii: "0")
                guard digit < 10 else { throw .invalidContentLength }
                let (times10, o1) = length.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(digit))
                guard !o1 && !o2 else { throw .invalidContentLength }
                length = sum
            }
            // RFC 9110 §15.5.14: refuse a body over the limit before reading it.
            guard length <= limits.maxBodyBytes else { throw .bodyTooLarge }
            contentLength = length
        case 16 where name.asciiEquals("content-encoding"):
            for coding in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true) {
                let token = coding.trimmingOWS()
                if token.asciiEquals("identity") { continue }
                if (token.asciiEquals("gzip") || token.asciiEquals("x-gzip")) && !contentEncodingGzip {
                    contentEncodingGzip = true
                } else {
                    contentEncodingUnsupported = true
                }
            }
        case 17 where name.asciiEquals("transfer-encoding"):
            // RFC 9112 §6.1: a list of codings that, in a request, must end in exactly one chunked.
            transferEncodingSeen = true
            for coding in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true) {
                let token = coding.trimmingOWS()
                if token.isEmpty { continue }
                if token.asciiEquals("chunked") {
                    if chunkedIsLast { transferEncodingInvalid = true }
                    chunkedIsLast = true
                } else {
                    // RFC 9112 §6.1: chunked MUST NOT be applied before another coding.
                    if chunkedIsLast { transferEncodingInvalid = true }
                    chunkedIsLast = false
                    transferEncodingUnsupported = true
                }
            }
        default:
            break
        }
    }

    // MARK: - Head complete: framing decision (RFC 9112 §6.3)

    private mutating func finishHead(_ p: UnsafePointer<UInt8>, _ i: inout Int) throws(HTTPParseError) -> ParserEvent? {
        if version == .http1_1 && requireHost && hostCount == 0 { throw .missingHost }  // RFC 9112 §3.2
        var chunked = false
        if transferEncodingSeen {
            // RFC 9112 §6.1: Content-Length with Transfer-Encoding is a smuggling vector; reject, then close.
            if contentLength != nil { throw .contentLengthWithTransferEncoding }
            // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
            if version == .http1_0 { throw .transferEncodingInHTTP10 }
            // RFC 9112 §6.3 item 4: a request whose final coding is not chunked MUST get 400.
            if transferEncodingInvalid || !chunkedIsLast { throw .transferEncodingNotChunked }
            // RFC 9112 §6.1: a server SHOULD answer 501 to a coding it does not implement.
            if transferEncodingUnsupported { throw .unsupportedTransferEncoding }
            chunked = true
        }
        let length: Int? = chunked ? nil : (contentLength ?? 0)  // RFC 9112 §6.3 item 6: no framing, no body.
        let hasBody = chunked || (length ?? 0) > 0
        // RFC 9110 §8.4 / §15.5.16: a content coding we cannot undo gets 415.
        if hasBody && contentEncodingUnsupported { throw .unsupportedContentEncoding }

        let target = string(p, targetStart, targetEnd)
        let decoded = try Self.decodeTarget(target, p + targetStart, targetEnd - targetStart)
        var headers = HTTPHeaders()
        headers.fields.reserveCapacity(fields.count)
        for field in fields {
            headers.fields.append((name: KnownNames.name(p + field.nameStart, field.nameEnd - field.nameStart)
                                        ?? string(p, field.nameStart, field.nameEnd),
                                   value: string(p, field.valueStart, field.valueEnd)))
        }
        let method = KnownNames.method(p + methodStart, methodEnd - methodStart) ?? string(p, methodStart, methodEnd)
        guard hasBody else {
            resetForNextMessage()
            return .message(HTTPRequest(method: method, target: target, path: decoded.path, query: decoded.query,
                                        version: version, headers: headers, body: []), consumed: i)
        }
        let head = HTTPRequestHead(method: method, target: target, version: version, headers: headers,
                                   contentLength: length, isChunked: chunked, expectsContinue: expectsContinue)
        self.head = head
        path = decoded.path
        query = decoded.query
        body = []
        if chunked {
            state = .chunkSize
            chunkSize = 0
            chunkExtensionLength = -1
        } else {
            state = .identityBody
            remaining = length ?? 0
            // The announced length is within the limit (checked with the head): allocate it once.
            // Pages are committed only as bytes arrive, so a client that announces a body and
            // never sends it does not make the server hold it.
            bodyFilled = 0
            if remaining > 0 { body = LargeBuffer.unfilled(count: remaining) }
        }
        guard head.expectsContinue else { return nil }
        let consumed = i
        i = 0
        position = 0
        return .head(head, consumed: consumed)
    }

    /// RFC 9112 §3.2: origin-form, absolute-form or asterisk-form (authority-form is only for CONNECT).
    private static func decodeTarget(_ target: String, _ bytes: UnsafePointer<UInt8>, _ count: Int) throws(HTTPParseError) -> (path: String, query: [(String, String)]) {
        // Fast path: an origin-form target without query or percent-encoding is its own path.
        if bytes[0] == UInt8(ascii: "/") {
            var plain = true
            for k in 0..<count where bytes[k] == UInt8(ascii: "%") || bytes[k] == UInt8(ascii: "?") || bytes[k] == UInt8(ascii: "#") {
                plain = false
                break
            }
            if plain { return (target, []) }
        }
        guard bytes[0] == UInt8(ascii: "/") || target == "*" || target.firstRange(of: "://") != nil,
              let decoded = RequestTarget.decode(target)
        else { throw .invalidTarget }
        return decoded
    }

    private func string(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> String {
        // Values may hold obs-text (RFC 9110 §5.5); bytes that are not UTF-8 become U+FFFD.
        String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self)
    }

    // MARK: - Chunked framing (RFC 9112 §7.1)

    private mutating func parseChunkFraming(_ c: UInt8, at i: Int) throws(HTTPParseError) {
        if state.rawValue >= State.chunkExtStart.rawValue && state.rawValue <= State.chunkExtAfterQuote.rawValue && c != ByteClass.cr {
            // RFC 9112 §7.1.1: a server ought to limit the length of chunk extensions.
            chunkExtensionLength += 1
            guard chunkExtensionLength <= limits.maxChunkExtensionLength else { throw .chunkExtensionTooLong }
        }
        switch state {
        case .chunkSize:
            // chunk-size = 1*HEXDIG; no sign, prefix, underscore or whitespace (RFC 9112 §7.1).
            if let digit = RequestTarget.hexValue(c) {
                guard chunkSize <= (Int.max >> 4) else { throw .invalidChunkSize }
                chunkSize = chunkSize << 4 | Int(digit)
                guard chunkSize <= limits.maxBodyBytes - body.count else { throw .bodyTooLarge }
                chunkExtensionLength = 0
            } else if chunkExtensionLength < 0 {
                throw .invalidChunkSize  // no digit yet
            } else if c == UInt8(ascii: ";") {
                chunkExtensionLength = 1
                state = .chunkExtStart
            } else if c == ByteClass.cr {
                state = .chunkSizeLF
            } else {
                throw .invalidChunkSize
            }
        // chunk-ext = *( ";" chunk-ext-name [ "=" chunk-ext-val ] ), name = token,
        // value = token / quoted-string (RFC 9112 §7.1.1); BWS is not accepted, as llhttp strict.
        case .chunkExtStart:
            guard ByteClass.isToken(c) else { throw .invalidChunkExtension }
            state = .chunkExtName
        case .chunkExtName, .chunkExtToken:
            if ByteClass.isToken(c) { return }
            if c == UInt8(ascii: "=") && state == .chunkExtName {
                state = .chunkExtValueStart
            } else {
                try endOfChunkExtension(c)
            }
        case .chunkExtValueStart:
            if ByteClass.isToken(c) {
                state = .chunkExtToken
            } else if c == UInt8(ascii: "\"") {
                state = .chunkExtQuoted
            } else {
                throw .invalidChunkExtension
            }
        case .chunkExtQuoted:
            if c == UInt8(ascii: "\"") {
                state = .chunkExtAfterQuote
            } else if c == UInt8(ascii: "\\") {
                state = .chunkExtEscape
            } else if !ByteClass.isQuotedText(c) {
                throw .invalidChunkExtension
            }
        case .chunkExtEscape:
            // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) (RFC 9110 §5.6.4).
            guard c == ByteClass.htab || (c >= 0x20 && c != 0x7F) else { throw .invalidChunkExtension }
            state = .chunkExtQuoted
        case .chunkExtAfterQuote:
            try endOfChunkExtension(c)
        case .chunkSizeLF:
            guard c == ByteClass.lf else { throw .invalidLineEnding }
            if chunkSize == 0 {
                // last-chunk, then trailer section (RFC 9112 §7.1.2).
                inTrailers = true
                trailerCount = 0
                blockStart = i + 1
                state = .fieldStart
            } else {
                remaining = chunkSize
                state = .chunkData
            }
        case .chunkDataCR:
            guard c == ByteClass.cr else { throw .invalidChunkTerminator }
            state = .chunkDataLF
        case .chunkDataLF:
            guard c == ByteClass.lf else { throw .invalidChunkTerminator }
            chunkSize = 0
            chunkExtensionLength = -1
            state = .chunkSize
        default:
            preconditionFailure("not a chunk framing state")
        }
    }

    private mutating func endOfChunkExtension(_ c: UInt8) throws(HTTPParseError) {
        if c == UInt8(ascii: ";") {
            state = .chunkExtStart
        } else if c == ByteClass.cr {
            state = .chunkSizeLF
        } else {
            throw .invalidChunkExtension
        }
    }

    // MARK: - Message complete

    private mutating func finishMessage(consumed: Int) throws(HTTPParseError) -> ParserEvent {
        guard let head else { preconditionFailure("a body without a head") }
        var request = HTTPRequest(method: head.method, target: head.target, path: path, query: query,
                                  version: head.version, headers: head.headers, body: body)
        body = []
        self.head = nil
        if contentEncodingGzip && !request.body.isEmpty {
            // RFC 9110 §8.4.1.3: undo gzip, with a hard cap so a zip bomb costs nothing (413).
            do {
                request.body = try Compression.gunzip(request.body, limit: limits.maxDecompressedBodyBytes)
            } catch .limitExceeded {
                throw .bodyTooLarge
            } catch {
                throw .invalidContentEncoding
            }
            request.headers.remove("Content-Encoding")
            if request.headers.contains("Content-Length") {
                request.headers.replaceOrAdd("Content-Length", String(request.body.count))
            }
        }
        resetForNextMessage()
        return .message(request, consumed: consumed)
    }

    private mutating func resetForNextMessage() {
        state = .messageStart
        position = 0
        inTrailers = false
        contentLength = nil
        hostCount = 0
        expectsContinue = false
        transferEncodingSeen = false
        chunkedIsLast = false
        transferEncodingInvalid = false
        transferEncodingUnsupported = false
        contentEncodingGzip = false
        contentEncodingUnsupported = false
        methodStart = 0
    }
}
