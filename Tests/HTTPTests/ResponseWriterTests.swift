import Testing
@testable import HTTP

private struct Pieces: HTTPBodyStream {
    var pieces: [[UInt8]]
    mutating func next() -> [UInt8]? { pieces.isEmpty ? nil : pieces.removeFirst() }
}

@Suite("ResponseWriter")
struct ResponseWriterTests {
    let writer = ResponseWriter(serverName: "tensord")
    let date = "Sat, 28 Nov 2026 11:25:10 GMT"

    private func text(_ response: HTTPResponse, version: HTTPVersion = .http1_1, isHead: Bool = false,
                      keepAlive: Bool = true) -> (String, ResponseWriter.Framing) {
        var out: [UInt8] = []
        let framing = writer.write(response, version: version, isHead: isHead, keepAlive: keepAlive, date: date, into: &out)
        return (String(decoding: out, as: UTF8.self), framing)
    }

    @Test("a bytes response gets status line, Date, Server, fields, Content-Length and body")
    func bytesResponse() {
        let response = HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: .bytes(Array("{\"ok\":true}")))
        let (out, framing) = text(response)
        #expect(out == "HTTP/1.1 200 OK\r\nDate: \(date)\r\nServer: tensord\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}")
        #expect(framing == .init(body: .contentLength(11), keepAlive: true))
    }

    @Test("HEAD gets the same fields, Content-Length included, and no body")
    func headResponse() {
        let response = HTTPResponse(status: 200, body: .bytes(Array("hello")))
        let (get, _) = text(response)
        let (head, framing) = text(response, isHead: true)
        #expect(get == head + "hello")
        #expect(framing.body == .none)
    }

    @Test("framing fields from the handler are dropped; CR/LF in values cannot split the response")
    func writerOwnsFraming() {
        let headers: HTTPHeaders = ["Content-Length": "999", "transfer-encoding": "chunked", "Connection": "keep-alive",
                                    "Date": "x", "Server": "evil", "X-Note": "a\r\nSet-Cookie: b"]
        let (out, _) = text(HTTPResponse(status: 404, headers: headers, body: .bytes([])))
        #expect(out == "HTTP/1.1 404 Not Found\r\nDate: \(date)\r\nServer: tensord\r\nX-Note: a  Set-Cookie: b\r\nContent-Length: 0\r\n\r\n")
    }

    @Test("close, and HTTP/1.0 keep-alive, are stated in Connection")
    func connectionField() {
        let (closed, framing) = text(HTTPResponse(status: 200), keepAlive: false)
        #expect(closed.hasSuffix("Content-Length: 0\r\nConnection: close\r\n\r\n") && !framing.keepAlive)
        let (old, _) = text(HTTPResponse(status: 200), version: .http1_0)
        #expect(old.hasPrefix("HTTP/1.1 200 OK\r\n") && old.hasSuffix("Connection: keep-alive\r\n\r\n"))
    }

    @Test("204 and 304 carry no Content-Length or body; 1xx neither")
    func bodylessStatuses() {
        for status in [204, 304, 101] {
            let (out, framing) = text(HTTPResponse(status: status, body: .bytes(Array("x"))))
            #expect(!out.contains("Content-Length") && out.hasSuffix("\r\n\r\n") && framing.body == .none)
        }
    }

    @Test("a stream is chunked on HTTP/1.1 and close-delimited on HTTP/1.0")
    func streams() {
        let stream = HTTPResponse(status: 200, body: .stream(Pieces(pieces: [Array("ab"), [], Array("cde")])))
        let (chunkedHead, chunked) = text(stream)
        #expect(chunkedHead.hasSuffix("Transfer-Encoding: chunked\r\n\r\n") && chunked == .init(body: .chunked, keepAlive: true))
        let (oldHead, untilClose) = text(stream, version: .http1_0)
        #expect(!oldHead.contains("Transfer-Encoding") && oldHead.hasSuffix("Connection: close\r\n\r\n"))
        #expect(untilClose == .init(body: .untilClose, keepAlive: false))
        let (headOnly, none) = text(stream, isHead: true)
        #expect(!headOnly.contains("Transfer-Encoding") && none.body == .none)
    }

    @Test("chunk framing: pieces framed in hex, empty pieces skipped, last chunk ends it; the parser reads it back")
    func chunkFraming() throws {
        var body: [UInt8] = []
        var stream = Pieces(pieces: [Array("ab"), [], [UInt8](repeating: 0x41, count: 300)])
        while let piece = stream.next() { ResponseWriter.appendChunk(piece, into: &body) }
        body += ResponseWriter.lastChunk
        #expect(String(decoding: body.prefix(7), as: UTF8.self) == "2\r\nab\r\n")
        #expect(String(decoding: body[7..<12], as: UTF8.self) == "12c\r\n")
        var request = Array("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        request += body
        var parser = RequestParser()
        guard case .message(let parsed, _) = try request.withUnsafeBytes({ try parser.parse($0) }) else {
            Issue.record("expected a message"); return
        }
        #expect(parsed.body == Array("ab") + [UInt8](repeating: 0x41, count: 300))
        #expect(ResponseWriter.continueResponse == Array("HTTP/1.1 100 Continue\r\n\r\n"))
    }

    @Test("reason phrases")
    func reasonPhrases() {
        #expect(HTTPStatus.reasonPhrase(413) == "Content Too Large")
        #expect(HTTPStatus.reasonPhrase(431) == "Request Header Fields Too Large")
        #expect(HTTPStatus.reasonPhrase(799) == "Unknown")
    }

    @Test("IMF-fixdate formatting", arguments: [
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"), (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"), (1_795_865_110, "Sat, 28 Nov 2026 11:25:10 GMT"),
    ])
    func dates(seconds: Int, expected: String) {
        #expect(HTTPDate.format(secondsSince1970: seconds) == expected)
    }
}
