import Testing
@testable import HTTP

/// One row of the http-server.md §1.5 table: raw request → expected status (nil = accepted).
struct EdgeCase: CustomTestStringConvertible, Sendable {
    let name: String
    let raw: String
    let status: Int?
    var limits = ParserLimits()
    var testDescription: String { name }
}

private let host = "Host: x\r\n"
private func post(_ fields: String, _ body: String = "") -> String { "POST /p HTTP/1.1\r\n\(host)\(fields)\r\n\(body)" }
private func get(_ fields: String) -> String { "GET / HTTP/1.1\r\n\(fields)\r\n" }
private func chunked(_ body: String) -> String { post("Transfer-Encoding: chunked\r\n", body) }
private var unlimitedBody: ParserLimits { var l = ParserLimits(); l.maxBodyBytes = .max; return l }

let edgeCases: [EdgeCase] = [
    EdgeCase(name: "CL + TE together → 400", raw: post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), status: 400),
    EdgeCase(name: "TE + CL together (other order) → 400", raw: post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"), status: 400),
    EdgeCase(name: "duplicate CL, different values → 400", raw: post("Content-Length: 1\r\nContent-Length: 2\r\n", "ab"), status: 400),
    EdgeCase(name: "duplicate CL, same value → 400", raw: post("Content-Length: 2\r\nContent-Length: 2\r\n", "ab"), status: 400),
    EdgeCase(name: "CL list `2, 2` → 400", raw: post("Content-Length: 2, 2\r\n", "ab"), status: 400),
    EdgeCase(name: "CL with sign → 400", raw: post("Content-Length: +2\r\n", "ab"), status: 400),
    EdgeCase(name: "CL negative → 400", raw: post("Content-Length: -1\r\n"), status: 400),
    EdgeCase(name: "CL hex → 400", raw: post("Content-Length: 0x2\r\n", "ab"), status: 400),
    EdgeCase(name: "CL overflow → 400", raw: post("Content-Length: 99999999999999999999999\r\n"), status: 400),
    EdgeCase(name: "CL empty → 400", raw: post("Content-Length: \r\n"), status: 400),
    EdgeCase(name: "CL with surrounding OWS is accepted", raw: post("Content-Length: \t2 \r\n", "ab"), status: nil),
    EdgeCase(name: "TE not ending in chunked → 400", raw: post("Transfer-Encoding: gzip\r\n", "x"), status: 400),
    EdgeCase(name: "TE chunked then gzip → 400", raw: post("Transfer-Encoding: chunked, gzip\r\n", "x"), status: 400),
    EdgeCase(name: "TE chunked twice → 400", raw: post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), status: 400),
    EdgeCase(name: "TE we do not implement (gzip, chunked) → 501", raw: post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), status: 501),
    EdgeCase(name: "TE in HTTP/1.0 → 400", raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
    EdgeCase(name: "TE chunked, case-insensitive → accepted", raw: post("Transfer-Encoding: Chunked\r\n", "0\r\n\r\n"), status: nil),
    EdgeCase(name: "obs-fold → 400", raw: get(host + "X-A: 1\r\n  continued\r\n"), status: 400),
    EdgeCase(name: "whitespace before the first field → 400", raw: "GET / HTTP/1.1\r\n Host: x\r\n\r\n", status: 400),
    EdgeCase(name: "bare LF ending the request line → 400", raw: "GET / HTTP/1.1\nHost: x\r\n\r\n", status: 400),
    EdgeCase(name: "bare LF ending a field → 400", raw: get("Host: x\nX: y\r\n"), status: 400),
    EdgeCase(name: "bare LF ending the head → 400", raw: "GET / HTTP/1.1\r\nHost: x\r\n\n", status: 400),
    EdgeCase(name: "bare CR inside a value → 400", raw: get(host + "X: a\rb\r\n"), status: 400),
    EdgeCase(name: "bare CR ending the head → 400", raw: "GET / HTTP/1.1\r\nHost: x\r\n\rX", status: 400),
    EdgeCase(name: "space before the colon → 400", raw: get(host + "X-A : 1\r\n"), status: 400),
    EdgeCase(name: "tab before the colon → 400", raw: get(host + "X-A\t: 1\r\n"), status: 400),
    EdgeCase(name: "non-token character in a name → 400", raw: get(host + "X@A: 1\r\n"), status: 400),
    EdgeCase(name: "empty field name → 400", raw: get(host + ": 1\r\n"), status: 400),
    EdgeCase(name: "NUL in a value → 400", raw: get(host + "X: a\u{0}b\r\n"), status: 400),
    EdgeCase(name: "control character in a value → 400", raw: get(host + "X: a\u{1}b\r\n"), status: 400),
    EdgeCase(name: "DEL in a value → 400", raw: get(host + "X: a\u{7F}b\r\n"), status: 400),
    EdgeCase(name: "HTAB inside a value is accepted", raw: get(host + "X: a\tb\r\n"), status: nil),
    EdgeCase(name: "obs-text in a value is accepted", raw: get(host + "X: D\u{FC}sseldorf\r\n"), status: nil),
    EdgeCase(name: "missing Host on HTTP/1.1 → 400", raw: "GET / HTTP/1.1\r\n\r\n", status: 400),
    EdgeCase(name: "missing Host on HTTP/1.0 is accepted", raw: "GET / HTTP/1.0\r\n\r\n", status: nil),
    EdgeCase(name: "two Host fields → 400", raw: get("Host: a\r\nHost: a\r\n"), status: 400),
    EdgeCase(name: "invalid Host → 400", raw: get("Host: a/b\r\n"), status: 400),
    EdgeCase(name: "empty Host is accepted (RFC 9112 §3.2)", raw: get("Host:\r\n"), status: nil),
    EdgeCase(name: "IPv6 Host with port is accepted", raw: get("Host: [::1]:8080\r\n"), status: nil),
    EdgeCase(name: "chunk size overflow → 400", raw: chunked("10000000000000000\r\n"), status: 400, limits: unlimitedBody),
    EdgeCase(name: "chunk size above the body limit → 413", raw: chunked("200000\r\n"), status: 413),
    EdgeCase(name: "chunk size `0x5` → 400", raw: chunked("0x5\r\nhello\r\n0\r\n\r\n"), status: 400),
    EdgeCase(name: "chunk size `+5` → 400", raw: chunked("+5\r\nhello\r\n0\r\n\r\n"), status: 400),
    EdgeCase(name: "chunk size `5_0` → 400", raw: chunked("5_0\r\nhello\r\n0\r\n\r\n"), status: 400),
    EdgeCase(name: "chunk size with a leading space → 400", raw: chunked(" 5\r\nhello\r\n0\r\n\r\n"), status: 400),
    EdgeCase(name: "chunk size with a trailing space → 400", raw: chunked("5 \r\nhello\r\n0\r\n\r\n"), status: 400),
    EdgeCase(name: "empty chunk size line → 400", raw: chunked("\r\n"), status: 400),
    EdgeCase(name: "chunk data longer than its size → 400", raw: chunked("5\r\nhello!\r\n0\r\n\r\n"), status: 400),
    EdgeCase(name: "chunk extensions are accepted", raw: chunked("5;a;b=c;d=\"e;\\\"f\"\r\nhello\r\n0;z\r\n\r\n"), status: nil),
    EdgeCase(name: "chunk extension without a name → 400", raw: chunked("5;=x\r\nhello\r\n0\r\n\r\n"), status: 400),
    EdgeCase(name: "chunk extension with whitespace → 400", raw: chunked("5; a\r\nhello\r\n0\r\n\r\n"), status: 400),
    EdgeCase(name: "chunk extension with an unbalanced quote → 400", raw: chunked("5;a=\"x\r\nhello\r\n0\r\n\r\n"), status: 400),
    EdgeCase(name: "chunk extension over 256 bytes → 400", raw: chunked("5;" + String(repeating: "a", count: 300) + "\r\nhello\r\n0\r\n\r\n"), status: 400),
    EdgeCase(name: "trailers are parsed and accepted", raw: chunked("5\r\nhello\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n"), status: nil),
    EdgeCase(name: "malformed trailer → 400", raw: chunked("0\r\nX T: 1\r\n\r\n"), status: 400),
    EdgeCase(name: "Expect: 100-continue is accepted", raw: post("Expect: 100-continue\r\nContent-Length: 2\r\n", "ab"), status: nil),
    EdgeCase(name: "unknown expectation → 417", raw: post("Expect: coffee\r\nContent-Length: 2\r\n", "ab"), status: 417),
    EdgeCase(name: "HTTP/2.0 → 505", raw: "GET / HTTP/2.0\r\n\(host)\r\n", status: 505),
    EdgeCase(name: "HTTP/9.9 → 505", raw: "GET / HTTP/9.9\r\n\(host)\r\n", status: 505),
    EdgeCase(name: "HTTP/1.2 is served as 1.1", raw: "GET / HTTP/1.2\r\n\(host)\r\n", status: nil),
    EdgeCase(name: "malformed version `HTTP/1` → 400", raw: "GET / HTTP/1\r\n\(host)\r\n", status: 400),
    EdgeCase(name: "malformed version `HTTP/1.10` → 400", raw: "GET / HTTP/1.10\r\n\(host)\r\n", status: 400),
    EdgeCase(name: "lowercase protocol name → 400", raw: "GET / http/1.1\r\n\(host)\r\n", status: 400),
    EdgeCase(name: "two spaces after the method → 400", raw: "GET  / HTTP/1.1\r\n\(host)\r\n", status: 400),
    EdgeCase(name: "space after the version → 400", raw: "GET / HTTP/1.1 \r\n\(host)\r\n", status: 400),
    EdgeCase(name: "non-ASCII byte in the target → 400", raw: "GET /\u{E9} HTTP/1.1\r\n\(host)\r\n", status: 400),
    EdgeCase(name: "bad percent-encoding in the target → 400", raw: "GET /a%zz HTTP/1.1\r\n\(host)\r\n", status: 400),
    EdgeCase(name: "authority-form target → 400", raw: "GET example.com:80 HTTP/1.1\r\n\(host)\r\n", status: 400),
    EdgeCase(name: "request target over 8 KiB → 414", raw: "GET /" + String(repeating: "a", count: 8200) + " HTTP/1.1\r\n\(host)\r\n", status: 414),
    EdgeCase(name: "header block over 32 KiB → 431", raw: get(host + "X: " + String(repeating: "a", count: 33_000) + "\r\n"), status: 431),
    EdgeCase(name: "101 header fields → 431", raw: get(host + String(repeating: "X: 1\r\n", count: 100)), status: 431),
    EdgeCase(name: "100 header fields are accepted", raw: get(host + String(repeating: "X: 1\r\n", count: 99)), status: nil),
    EdgeCase(name: "Content-Length over 1 MiB → 413", raw: post("Content-Length: 1048577\r\n"), status: 413),
    EdgeCase(name: "unknown method is accepted (the router decides)", raw: "BREW /pot HTTP/1.1\r\n\(host)\r\n", status: nil),
    EdgeCase(name: "method with a non-token byte → 400", raw: "GE(T / HTTP/1.1\r\n\(host)\r\n", status: 400),
    EdgeCase(name: "HEAD is accepted", raw: "HEAD / HTTP/1.1\r\n\(host)\r\n", status: nil),
    EdgeCase(name: "leading empty lines are ignored", raw: "\r\n\r\nGET / HTTP/1.1\r\n\(host)\r\n", status: nil),
    EdgeCase(name: "leading bare LF → 400", raw: "\nGET / HTTP/1.1\r\n\(host)\r\n", status: 400),
    EdgeCase(name: "unsupported Content-Encoding on a body → 415", raw: post("Content-Encoding: br\r\nContent-Length: 2\r\n", "ab"), status: 415),
    EdgeCase(name: "gzip Content-Encoding that is not gzip → 400", raw: post("Content-Encoding: gzip\r\nContent-Length: 2\r\n", "ab"), status: 400),
]

@Suite("RequestParser: http-server.md §1.5 edge cases")
struct RequestParserEdgeCaseTests {
    @Test("each edge case gives its status, however the bytes are split", arguments: edgeCases)
    func edgeCase(_ edge: EdgeCase) {
        let result = SplitFeed.consistent(Array(edge.raw), parser: RequestParser(limits: edge.limits))
        if let status = edge.status {
            #expect(result.error?.status == status, "got \(String(describing: result.error))")
        } else {
            #expect(result.error == nil)
            #expect(result.messages == 1)
            #expect(result.leftover == 0)
        }
    }
}
