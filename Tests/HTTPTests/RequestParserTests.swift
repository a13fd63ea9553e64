import Testing
@testable import HTTP

/// Parses `text` fed whole and returns the events, failing on an error.
private func parseAll(_ text: String, parser: RequestParser = RequestParser()) throws -> [ParserEvent] {
    var parser = parser
    var buffer = Array(text)
    var events: [ParserEvent] = []
    while true {
        let event = try buffer.withUnsafeBytes { try parser.parse($0) }
        events.append(event)
        switch event {
        case .needMoreData(let consumed):
            buffer.removeFirst(consumed)
            return events
        case .head(_, let consumed), .message(_, let consumed):
            buffer.removeFirst(consumed)
            if buffer.isEmpty { return events }
        }
    }
}

private func requests(_ events: [ParserEvent]) -> [HTTPRequest] {
    events.compactMap { if case .message(let request, _) = $0 { request } else { nil } }
}

@Suite("RequestParser")
struct RequestParserTests {
    @Test("a GET yields method, target, decoded path and query, version and trimmed fields")
    func simpleGet() throws {
        let events = try parseAll("GET /v1/a%20b/c?x=1&y=hello+w%C3%B6rld&flag#frag HTTP/1.1\r\nHost: h:80\r\nX-Pad:  \tv a l \t\r\nAccept: */*\r\n\r\n")
        let request = try #require(requests(events).first)
        #expect(request.method == "GET")
        #expect(request.target == "/v1/a%20b/c?x=1&y=hello+w%C3%B6rld&flag#frag")
        #expect(request.path == "/v1/a b/c")
        #expect(request.rawPath == "/v1/a%20b/c")
        #expect(request.query.map { "\($0.0)=\($0.1)" } == ["x=1", "y=hello wörld", "flag="])
        #expect(request.queryValue("y") == "hello wörld")
        #expect(request.version == .http1_1)
        #expect(request.headers == HTTPHeaders([("Host", "h:80"), ("X-Pad", "v a l"), ("Accept", "*/*")]))
        #expect(request.body.isEmpty)
        #expect(request.keepAlive)
    }

    @Test("absolute-form and asterisk-form targets give their paths")
    func targetForms() throws {
        let events = try parseAll("GET http://example.com:8080/p/q?z=1 HTTP/1.1\r\nHost: example.com\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: x\r\n\r\nGET http://example.com HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(requests(events).map(\.path) == ["/p/q", "*", "/"])
        #expect(requests(events)[0].query.first?.1 == "1")
    }

    @Test("pipelined requests come out one by one, in order, with their bodies")
    func pipelining() throws {
        let stream = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nAAA"
            + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
            + "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nCC\r\n0\r\n\r\n"
            + "GET /d HTTP/1.1\r\nHo"
        var parser = RequestParser()
        var buffer = Array(stream)
        var seen: [String] = []
        while true {
            let event = try buffer.withUnsafeBytes { try parser.parse($0) }
            guard case .message(let request, let consumed) = event else {
                guard case .needMoreData(let consumed) = event else { Issue.record("unexpected \(event)"); return }
                buffer.removeFirst(consumed)
                break
            }
            seen.append("\(request.method) \(request.path) \(String(decoding: request.body, as: UTF8.self))")
            buffer.removeFirst(consumed)
        }
        #expect(seen == ["POST /a AAA", "GET /b ", "PUT /c CC"])
        #expect(buffer == Array("GET /d HTTP/1.1\r\nHo"), "an incomplete head stays unconsumed")
        #expect(!parser.isIdle)
        buffer += Array("st: x\r\n\r\n")
        let last = try buffer.withUnsafeBytes { try parser.parse($0) }
        guard case .message(let request, let consumed) = last else { Issue.record("expected a message"); return }
        #expect(request.path == "/d" && consumed == buffer.count)
        #expect(parser.isIdle)
    }

    @Test("chunked body with extensions and trailers: data joined, trailers discarded")
    func chunkedWithExtensionsAndTrailers() throws {
        let raw = "POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value;q=\"a \\\"b\\\"\"\r\nhello\r\nA\r\n, chunked!\r\n0;last\r\nX-Checksum: 123\r\nX-Other: y\r\n\r\n"
        let result = SplitFeed.consistent(Array(raw))
        #expect(result.error == nil && result.messages == 1)
        let request = try #require(requests(try parseAll(raw)).first)
        #expect(String(decoding: request.body, as: UTF8.self) == "hello, chunked!")
        #expect(request.headers["X-Checksum"] == nil)
        #expect(request.headers["Transfer-Encoding"] == "chunked")
    }

    @Test("body bytes are consumed as they arrive, so the caller's buffer does not grow")
    func bodyIsConsumedIncrementally() throws {
        var parser = RequestParser()
        let head = Array("PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        var consumedTotal = 0
        var event = try head.withUnsafeBytes { try parser.parse($0) }
        guard case .needMoreData(let c0) = event else { Issue.record("expected needMoreData"); return }
        #expect(c0 == head.count)
        consumedTotal += c0
        let piece = [UInt8](repeating: 7, count: 1000)
        for round in 0..<100 {
            event = try piece.withUnsafeBytes { try parser.parse($0) }
            if round < 99 {
                guard case .needMoreData(let consumed) = event else { Issue.record("round \(round): \(event)"); return }
                #expect(consumed == piece.count)
            }
        }
        guard case .message(let request, let consumed) = event else { Issue.record("expected message"); return }
        #expect(consumed == piece.count)
        #expect(request.body.count == 100_000 && request.body.allSatisfy { $0 == 7 })
    }

    @Test("Expect: 100-continue yields the head before the body, then the message")
    func expectContinue() throws {
        let raw = "PUT /x HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\nabcd"
        let result = SplitFeed.consistent(Array(raw))
        #expect(result.events.count == 2)
        #expect(result.events.first == .head("PUT /x expect=true"))
        var parser = RequestParser()
        let head = Array(raw.utf8.prefix(raw.utf8.count - 4))
        let event = try head.withUnsafeBytes { try parser.parse($0) }
        guard case .head(let requestHead, let consumed) = event else { Issue.record("expected head, got \(event)"); return }
        #expect(consumed == head.count)
        #expect(requestHead.expectsContinue && requestHead.contentLength == 4 && !requestHead.isChunked)
        let body = Array("abcd")
        guard case .message(let request, _) = try body.withUnsafeBytes({ try parser.parse($0) }) else {
            Issue.record("expected message"); return
        }
        #expect(request.body == body)
    }

    @Test("no head event without a body or on HTTP/1.0 (RFC 9110 §10.1.1: ignore it)")
    func expectContinueIgnored() {
        let noBody = SplitFeed.whole(Array("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n"))
        #expect(noBody.events.count == 1 && noBody.messages == 1)
        let http10 = SplitFeed.whole(Array("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nz"))
        #expect(http10.events.count == 1 && http10.messages == 1)
    }

    @Test("keep-alive: HTTP/1.1 unless close; HTTP/1.0 only with keep-alive", arguments: [
        ("HTTP/1.1", "", true), ("HTTP/1.1", "Connection: close\r\n", false),
        ("HTTP/1.1", "Connection: Upgrade, CLOSE\r\n", false), ("HTTP/1.0", "", false),
        ("HTTP/1.0", "Connection: keep-alive\r\n", true), ("HTTP/1.0", "Connection: Keep-Alive, close\r\n", false),
    ])
    func keepAlive(version: String, field: String, expected: Bool) throws {
        let request = try #require(requests(try parseAll("GET / \(version)\r\nHost: x\r\n\(field)\r\n")).first)
        #expect(request.keepAlive == expected)
    }

    @Test("the request line may be exactly the limit long; one byte more gives 414")
    func requestLineLimit() {
        var limits = ParserLimits()
        limits.maxRequestLineLength = 64
        let fixed = "GET / HTTP/1.1\r\n".utf8.count - 1  // without the target's "/"
        let atLimit = "GET /" + String(repeating: "a", count: 64 - fixed - 1) + " HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(SplitFeed.consistent(Array(atLimit), parser: RequestParser(limits: limits)).error == nil)
        let over = "GET /" + String(repeating: "a", count: 64 - fixed) + " HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(SplitFeed.consistent(Array(over), parser: RequestParser(limits: limits)).error == .requestLineTooLong)
        // An incomplete line already over the limit is refused without waiting for its end.
        #expect(SplitFeed.whole(Array("GET /" + String(repeating: "a", count: 100)), parser: RequestParser(limits: limits)).error == .requestLineTooLong)
    }

    @Test("the header block may be exactly the limit long; one byte more gives 431")
    func headerBlockLimit() {
        var limits = ParserLimits()
        limits.maxHeaderBytes = 100
        let base = "GET / HTTP/1.1\r\nHost: x\r\nX: \r\n\r\n"
        let pad = String(repeating: "v", count: 100 - base.utf8.count)
        let atLimit = "GET / HTTP/1.1\r\nHost: x\r\nX: \(pad)\r\n\r\n"
        #expect(atLimit.utf8.count == 100)
        #expect(SplitFeed.consistent(Array(atLimit), parser: RequestParser(limits: limits)).error == nil)
        let over = "GET / HTTP/1.1\r\nHost: x\r\nX: \(pad)v\r\n\r\n"
        #expect(SplitFeed.consistent(Array(over), parser: RequestParser(limits: limits)).error == .headersTooLarge)
    }

    @Test("trailers count against the field limit too")
    func trailerLimit() {
        var limits = ParserLimits()
        limits.maxHeaderCount = 3
        let raw = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"
        #expect(SplitFeed.consistent(Array(raw), parser: RequestParser(limits: limits)).error == .tooManyHeaders)
    }

    @Test("a chunked body over the limit gives 413 even when each chunk is small")
    func chunkedBodyLimit() {
        var limits = ParserLimits()
        limits.maxBodyBytes = 10
        let ok = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n"
        #expect(SplitFeed.consistent(Array(ok), parser: RequestParser(limits: limits)).error == nil)
        let over = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n5\r\n67890\r\n1\r\nX\r\n0\r\n\r\n"
        #expect(SplitFeed.consistent(Array(over), parser: RequestParser(limits: limits)).error == .bodyTooLarge)
    }

    @Test("a chunk extension of exactly the limit passes; one byte more gives 400")
    func chunkExtensionLimit() {
        func raw(_ length: Int) -> [UInt8] {
            Array("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "e", count: length - 1) + "\r\nX\r\n0\r\n\r\n")
        }
        #expect(SplitFeed.consistent(raw(256)).error == nil)
        #expect(SplitFeed.consistent(raw(257)).error == .chunkExtensionTooLong)
    }

    @Test("a gzip request body is decompressed and its headers adjusted")
    func gzipBody() throws {
        let original = Array(String(repeating: "{\"x\":1.5}", count: 100))
        let compressed = try #require(Compression.gzip(original))
        var raw = Array("POST /g HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: \(compressed.count)\r\n\r\n")
        raw += compressed
        let result = SplitFeed.consistent(raw)
        #expect(result.error == nil)
        var parser = RequestParser()
        guard case .message(let request, _) = try raw.withUnsafeBytes({ try parser.parse($0) }) else {
            Issue.record("expected a message"); return
        }
        #expect(request.body == original)
        #expect(request.headers["Content-Encoding"] == nil)
        #expect(request.headers["Content-Length"] == String(original.count))
    }

    @Test("a gzip bomb over the decompressed limit gives 413 without inflating it all")
    func gzipBomb() throws {
        let zeros = [UInt8](repeating: 0, count: 20 * 1024 * 1024)
        let bomb = try #require(Compression.gzip(zeros, level: 9))
        #expect(bomb.count < 64 * 1024)
        var raw = Array("POST /g HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: \(bomb.count)\r\n\r\n")
        raw += bomb
        #expect(SplitFeed.whole(raw).error == .bodyTooLarge)
        #expect(HTTPParseError.bodyTooLarge.status == 413)
    }

    @Test("every parse error means one of the statuses the server sends, with a problem body")
    func errorStatuses() {
        let statuses: [HTTPParseError: Int] = [
            .invalidRequestLine: 400, .unsupportedVersion: 505, .requestLineTooLong: 414, .headersTooLarge: 431,
            .tooManyHeaders: 431, .bodyTooLarge: 413, .unsupportedTransferEncoding: 501,
            .unsupportedExpectation: 417, .unsupportedContentEncoding: 415, .missingHost: 400,
        ]
        for (error, status) in statuses {
            #expect(error.status == status)
            let response = error.response
            #expect(response.status == status)
            #expect(response.headers["Content-Type"] == "application/problem+json")
            guard case .bytes(let body) = response.body else { Issue.record("expected bytes"); continue }
            #expect(String(decoding: body, as: UTF8.self).contains("\"status\":\(status)"))
        }
    }
}

@Suite("RequestParser byte scanning")
struct RequestParserScanTests {
    @Test("a forbidden byte is caught at any position of a long value or target (word-at-a-time scan)")
    func forbiddenBytesEverywhere() {
        let forbiddenInValue: [UInt8] = [0x00, 0x01, 0x08, 0x0A, 0x0B, 0x0D, 0x1F, 0x7F]
        for byte in forbiddenInValue {
            for position in 0..<24 {
                var value = [UInt8](repeating: UInt8(ascii: "v"), count: 24)
                value[position] = byte
                let raw = Array("GET / HTTP/1.1\r\nHost: x\r\nX: ") + value + Array("\r\n\r\n")
                let error = SplitFeed.whole(raw).error
                #expect(error == .invalidHeaderValue || error == .invalidLineEnding, "byte \(byte) at \(position)")
            }
        }
        for byte: UInt8 in [0x00, 0x09, 0x1F, 0x7F, 0x80, 0xFF] {
            for position in 1..<24 {
                var target = [UInt8](repeating: UInt8(ascii: "t"), count: 24)
                target[0] = UInt8(ascii: "/")
                target[position] = byte
                let raw = Array("GET ") + target + Array(" HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(SplitFeed.whole(raw).error == .invalidTarget, "byte \(byte) at \(position)")
            }
        }
    }

    @Test("HTAB, obs-text and every visible byte pass in long values", arguments: [UInt8(0x09), 0x20, 0x21, 0x7E, 0x80, 0xFF])
    func allowedBytes(_ byte: UInt8) {
        let value = [UInt8](repeating: UInt8(ascii: "a"), count: 11) + [byte] + [UInt8](repeating: UInt8(ascii: "b"), count: 12)
        let raw = Array("GET / HTTP/1.1\r\nHost: x\r\nX: ") + value + Array("\r\n\r\n")
        #expect(SplitFeed.whole(raw).error == nil)
    }

    @Test("interned names and methods keep the client's spelling")
    func spelling() throws {
        var parser = RequestParser()
        let raw = Array("DELETE /x HTTP/1.1\r\nhost: a\r\nCONTENT-TYPE: t\r\nContent-Type: u\r\n\r\n")
        guard case .message(let request, _) = try raw.withUnsafeBytes({ try parser.parse($0) }) else {
            Issue.record("expected a message"); return
        }
        #expect(request.method == "DELETE")
        #expect(request.headers.map(\.name) == ["host", "CONTENT-TYPE", "Content-Type"])
    }
}
