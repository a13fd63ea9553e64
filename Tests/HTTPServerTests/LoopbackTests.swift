import Dispatch
import Foundation
import Glibc
import HTTP
@testable import HTTPServer
import Testing

/// Live tests on 127.0.0.1 / ::1 ephemeral ports, asserting the raw bytes on the wire.
@Suite(.timeLimit(.minutes(1)))
struct LoopbackTests {
    static let helloResponse = "HTTP/1.1 200 OK\r\nDate: <date>\r\nServer: tensord\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
    static let getHello = "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"

    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        for _ in 0..<3 {
            client.send(Self.getHello)
            #expect(client.receiveResponse().map(normalized) == Self.helloResponse)
        }
    }

    @Test func pipelinedResponsesComeInOrderEvenWhenHandlersFinishOutOfOrder() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        client.send("GET /slow?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n" + Self.getHello + "GET /slow?ms=10 HTTP/1.1\r\nHost: t\r\n\r\n")
        let responses = client.receiveResponses(3)
        #expect(responses.count == 3)
        #expect(responses.first?.hasSuffix("slow 300") == true)
        #expect(responses.dropFirst().first.map(normalized) == Self.helloResponse)
        #expect(responses.last?.hasSuffix("slow 10") == true)
    }

    @Test func inlineResponsesToOnePipelinedReadLeaveInOneWrite() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        client.send(String(repeating: Self.getHello, count: 5))
        // One writev means one segment on loopback, so a single recv sees all five.
        let bytes = client.receiveSome() ?? []
        let text = normalized(String(decoding: bytes, as: UTF8.self))
        #expect(text == String(repeating: Self.helloResponse, count: 5))
    }

    @Test func deepPipelineBeyondTheLimitKeepsOrder() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        // 80 requests (more than ConnectionState.maxPipelined), answered out of order by the handler.
        let requests = (0..<80).map { "GET /slow?ms=\(($0 * 7) % 40) HTTP/1.1\r\nHost: t\r\n\r\n" }
        client.send(requests.joined())
        let bodies = client.receiveResponses(80).map { $0.components(separatedBy: "\r\n\r\n").last ?? "" }
        #expect(bodies == (0..<80).map { "slow \(($0 * 7) % 40)" })
    }

    @Test func requestDrippedOneByteAtATimeAndLargeUploadAcrossReads() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        for byte in "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc".utf8 {
            client.send([byte])
            usleep(1_000)
        }
        #expect(client.receiveResponse()?.hasSuffix("Content-Length: 3\r\n\r\nabc") == true)

        let upload = bigBody(500_000)
        client.send(Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(upload.count)\r\n\r\n".utf8) + upload)
        let raw = client.receiveRawResponses(1).first ?? []
        #expect(Array(raw.suffix(upload.count)) == upload)
    }

    @Test func aSecondRespondCallIsIgnored() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        client.send("GET /twice HTTP/1.1\r\nHost: t\r\n\r\n" + Self.getHello)
        let responses = client.receiveResponses(2)
        #expect(responses.first?.hasSuffix("\r\n\r\nfirst") == true)
        #expect(responses.last.map(normalized) == Self.helloResponse)
    }

    @Test func chunkedUploadArrivingInPiecesIsDechunked() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
        usleep(50_000)
        client.send("lo\r\n6;ext=1\r\n world\r\n")
        usleep(50_000)
        client.send("0\r\nX-Trailer: yes\r\n\r\n")
        #expect(client.receiveResponse().map(normalized) ==
                "HTTP/1.1 200 OK\r\nDate: <date>\r\nServer: tensord\r\nX-Method: POST\r\nContent-Length: 11\r\n\r\nhello world")
    }

    @Test func continueIsSentBeforeTheBodyOnlyForHTTP11() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        #expect(client.receiveSome().map { String(decoding: $0, as: UTF8.self) } == "HTTP/1.1 100 Continue\r\n\r\n")
        client.send("ping")
        #expect(client.receiveResponse()?.hasSuffix("Content-Length: 4\r\n\r\nping") == true)

        let old = try RawClient(port: server.boundPort)
        old.send("POST /echo HTTP/1.0\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        old.setTimeout(0.3)
        #expect(old.receiveSome() == nil)   // nothing, no 100 for HTTP/1.0
        old.setTimeout(5)
        old.send("pong")
        let (bytes, closed) = old.receiveUntilClose()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.hasSuffix("Connection: close\r\n\r\npong"))
        #expect(closed)
    }

    @Test func headHasGetHeadersAndNoBody() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        client.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(client.receiveResponse(headOnly: true).map(normalized) == String(Self.helloResponse.dropLast(5)))
        // Had any body bytes followed the HEAD response, they would now precede this one.
        client.send(Self.getHello)
        #expect(client.receiveResponse().map(normalized) == Self.helloResponse)
    }

    @Test func http10ClosesUnlessKeepAliveIsAsked() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        client.send("GET /hello HTTP/1.0\r\n\r\n")
        let (bytes, closed) = client.receiveUntilClose()
        #expect(normalized(String(decoding: bytes, as: UTF8.self)) ==
                "HTTP/1.1 200 OK\r\nDate: <date>\r\nServer: tensord\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        #expect(closed)

        let keeper = try RawClient(port: server.boundPort)
        for _ in 0..<2 {
            keeper.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(keeper.receiveResponse().map(normalized) ==
                    "HTTP/1.1 200 OK\r\nDate: <date>\r\nServer: tensord\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello")
        }
    }

    @Test func streamedBodyIsChunkedOn11AndCloseDelimitedOn10() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        client.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n" + Self.getHello)
        #expect(client.receiveResponses(2).map(normalized) == [
            "HTTP/1.1 200 OK\r\nDate: <date>\r\nServer: tensord\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nalpha\r\n4\r\nbeta\r\n5\r\ngamma\r\n0\r\n\r\n",
            Self.helloResponse,
        ])

        let old = try RawClient(port: server.boundPort)
        old.send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let (bytes, closed) = old.receiveUntilClose()
        #expect(normalized(String(decoding: bytes, as: UTF8.self)) ==
                "HTTP/1.1 200 OK\r\nDate: <date>\r\nServer: tensord\r\nConnection: close\r\n\r\nalphabetagamma")
        #expect(closed)
    }

    @Test func oversizedHeaderGets431AndClose() throws {
        let server = try startServer { $0.limits.maxHeaderBytes = 1024 }
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        client.send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "a", count: 2000))\r\n\r\n")
        let (bytes, closed) = client.receiveUntilClose()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        #expect(text.contains("\r\nConnection: close\r\n"))
        #expect(closed)
    }

    @Test func oversizedBodyGets413AndClose() throws {
        let server = try startServer { $0.limits.maxBodyBytes = 100 }
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" + String(repeating: "x", count: 1000))
        let (bytes, closed) = client.receiveUntilClose()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 413 Content Too Large\r\n"))
        #expect(text.contains("\r\nConnection: close\r\n"))
        #expect(closed)
    }

    /// Errors the server answers before any handler runs are RFC 9457 problems like the service's,
    /// with a stable code (docs/ERRORS.md), and close the connection.
    @Test func protocolErrorsAreProblemJSON() throws {
        let server = try startServer { $0.limits.maxHeaderBytes = 1024; $0.limits.maxBodyBytes = 1000 }
        defer { server.stop() }
        let cases: [(request: String, status: Int, reason: String, body: String)] = [
            ("GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "a", count: 2000))\r\n\r\n", 431, "Request Header Fields Too Large",
             #"{"type":"https://tensord.dev/problems/header-fields-too-large","title":"Header fields too large","status":431,"detail":"header block too large","code":"header-fields-too-large"}"#),
            ("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n", 413, "Content Too Large",
             #"{"type":"https://tensord.dev/problems/body-too-large","title":"Request body too large","status":413,"detail":"request body too large","code":"body-too-large"}"#),
            ("GET /hello HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n", 400, "Bad Request",
             #"{"type":"https://tensord.dev/problems/bad-request","title":"Malformed HTTP request","status":400,"detail":"more than one Host header","code":"bad-request"}"#),
            ("GET /\(String(repeating: "a", count: 9000)) HTTP/1.1\r\nHost: t\r\n\r\n", 414, "URI Too Long",
             #"{"type":"https://tensord.dev/problems/uri-too-long","title":"Request target too long","status":414,"detail":"request line too long","code":"uri-too-long"}"#),
            ("GET /hello HTTP/2.0\r\nHost: t\r\n\r\n", 505, "HTTP Version Not Supported",
             #"{"type":"https://tensord.dev/problems/http-version-not-supported","title":"HTTP version not supported","status":505,"detail":"HTTP version not supported","code":"http-version-not-supported"}"#),
            ("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "Not Implemented",
             #"{"type":"https://tensord.dev/problems/not-implemented","title":"Not implemented","status":501,"detail":"transfer coding not implemented","code":"not-implemented"}"#),
        ]
        for (request, status, reason, body) in cases {
            let client = try RawClient(port: server.boundPort)
            client.send(request)
            let (bytes, closed) = client.receiveUntilClose()
            #expect(normalized(String(decoding: bytes, as: UTF8.self)) ==
                    "HTTP/1.1 \(status) \(reason)\r\nDate: <date>\r\nServer: tensord\r\n" +
                    "Content-Type: application/problem+json\r\nContent-Length: \(body.utf8.count)\r\n" +
                    "Connection: close\r\n\r\n" + body, "\(status)")
            #expect(closed)
        }
    }

    @Test func framingErrorAnswers400AfterEarlierPipelinedResponse() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        client.send(Self.getHello + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
        let (bytes, closed) = client.receiveUntilClose()
        let text = normalized(String(decoding: bytes, as: UTF8.self))
        #expect(text.hasPrefix(Self.helloResponse + "HTTP/1.1 400 Bad Request\r\n"))
        #expect(closed)
    }

    @Test func slowHeaderIsCutOffWithoutStarvingOthers() throws {
        let server = try startServer { $0.timeouts.header = .milliseconds(300) }
        defer { server.stop() }
        let slow = try RawClient(port: server.boundPort)
        let start = Date()
        for byte in "GET /hel".utf8 {
            slow.send([byte])
            usleep(20_000)
        }
        let other = try RawClient(port: server.boundPort)
        other.send(Self.getHello)
        #expect(other.receiveResponse().map(normalized) == Self.helloResponse)
        let (bytes, closed) = slow.receiveUntilClose()
        #expect(bytes.isEmpty && closed)   // silent close, like nginx
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed >= 0.3 && elapsed < 1.5)
    }

    @Test func idleKeepAliveConnectionIsClosedAfterItsTimeout() throws {
        let server = try startServer { $0.timeouts.keepAliveIdle = .milliseconds(200) }
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        client.send(Self.getHello)
        #expect(client.receiveResponse() != nil)
        let (bytes, closed) = client.receiveUntilClose()
        #expect(bytes.isEmpty && closed)
    }

    @Test func stalledBodyAndStalledReaderAreCutOff() throws {
        let server = try startServer {
            $0.timeouts.bodyGap = .milliseconds(300)
            $0.timeouts.writeStall = .milliseconds(300)
        }
        defer { server.stop() }
        let uploader = try RawClient(port: server.boundPort)
        uploader.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab")
        let (bytes, closed) = uploader.receiveUntilClose()
        #expect(bytes.isEmpty && closed)

        // A reader that never reads: the server's writes stop making progress and it gives up.
        let reader = try RawClient(port: server.boundPort)
        reader.send("GET /huge?n=30000000 HTTP/1.1\r\nHost: t\r\n\r\n")
        for _ in 0..<300 where server.connectionCount > 0 { usleep(10_000) }
        #expect(server.connectionCount == 0)
    }

    @Test func thousandIdleConnectionsDoNotBlockARequest() throws {
        let server = try startServer()
        defer { server.stop() }
        let idle = try (0..<1000).map { _ in try RawClient(port: server.boundPort) }
        for _ in 0..<100 where server.connectionCount < 1000 { usleep(10_000) }
        #expect(server.connectionCount == 1000)
        let start = Date()
        let client = try RawClient(port: server.boundPort)
        client.send(Self.getHello)
        #expect(client.receiveResponse().map(normalized) == Self.helloResponse)
        #expect(Date().timeIntervalSince(start) < 1)
        _ = idle
    }

    @Test func connectionsOverTheCapAreClosed() throws {
        let server = try startServer {
            $0.maxConnections = 2
            $0.workers = 1
        }
        defer { server.stop() }
        let a = try RawClient(port: server.boundPort)
        let b = try RawClient(port: server.boundPort)
        let c = try RawClient(port: server.boundPort)
        let (bytes, closed) = c.receiveUntilClose()
        #expect(bytes.isEmpty && closed)
        a.send(Self.getHello)
        #expect(a.receiveResponse().map(normalized) == Self.helloResponse)
        _ = b
    }

    @Test func gracefulShutdownFinishesInFlightRefusesNewAndIsBounded() throws {
        let server = try startServer()
        let busy = try RawClient(port: server.boundPort)
        let idle = try RawClient(port: server.boundPort)
        busy.send("GET /slow?ms=400 HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(100_000)
        let start = Date()
        server.shutdown(deadline: .now() + .seconds(3))
        // Idle connections are closed at once.
        let (idleBytes, idleClosed) = idle.receiveUntilClose()
        #expect(idleBytes.isEmpty && idleClosed)
        // New connections are refused once the listeners are closed.
        var refused = false
        for _ in 0..<50 {
            if (try? RawClient(port: server.boundPort)) == nil { refused = true; break }
            usleep(10_000)
        }
        #expect(refused)
        // The in-flight request completes, told that the connection closes.
        let (bytes, closed) = busy.receiveUntilClose()
        let text = normalized(String(decoding: bytes, as: UTF8.self))
        #expect(text == "HTTP/1.1 200 OK\r\nDate: <date>\r\nServer: tensord\r\nContent-Length: 8\r\nConnection: close\r\n\r\nslow 400")
        #expect(closed)
        server.wait()
        #expect(Date().timeIntervalSince(start) < 1.5)
    }

    @Test func sigintDrainsGracefullyAndRunReturns() throws {
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.workers = 1
        let server = try Server(configuration: configuration, handler: TestHandler())
        let returned = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? server.run(gracePeriod: .seconds(2))
            returned.signal()
        }
        for _ in 0..<200 where !server.handlesSignals { usleep(5_000) }
        #expect(server.handlesSignals)
        let busy = try RawClient(port: server.boundPort)
        busy.send("GET /slow?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(50_000)
        kill(getpid(), SIGINT)
        let (bytes, closed) = busy.receiveUntilClose()
        #expect(String(decoding: bytes, as: UTF8.self).hasSuffix("Connection: close\r\n\r\nslow 200"))
        #expect(closed)
        #expect(returned.wait(timeout: .now() + 3) == .success)
    }

    @Test func shutdownDeadlineCutsOffAStuckRequest() throws {
        let server = try startServer()
        let busy = try RawClient(port: server.boundPort)
        busy.send("GET /slow?ms=5000 HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(50_000)
        let start = Date()
        server.shutdown(deadline: .now() + .milliseconds(300))
        server.wait()
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed >= 0.25 && elapsed < 1.5)
    }

    @Test func gzipResponsesWhenAcceptedAndAboveThreshold() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        client.send("GET /big?n=20000 HTTP/1.1\r\nHost: t\r\nAccept-Encoding: br, gzip\r\n\r\n")
        let raw = client.receiveRawResponses(1).first ?? []
        let headEnd = (find(Array("\r\n\r\n".utf8), in: raw, from: 0) ?? 0) + 4
        let head = String(decoding: raw[0..<headEnd], as: UTF8.self)
        #expect(head.contains("\r\nContent-Encoding: gzip\r\n"))
        #expect(head.contains("\r\nVary: Accept-Encoding\r\n"))
        let body = Array(raw[headEnd...])
        #expect(body.count < 20000)
        #expect((try? Compression.gunzip(body, limit: 1 << 20)) == bigBody(20000))

        client.send("GET /big?n=20000 HTTP/1.1\r\nHost: t\r\n\r\n")
        let plain = client.receiveRawResponses(1).first ?? []
        #expect(Array(plain.suffix(20000)) == bigBody(20000))
        #expect(!String(decoding: plain.prefix(300), as: UTF8.self).contains("Content-Encoding"))
    }

    @Test func gzipRequestBodiesAreInflatedAndBombsGet413() throws {
        let server = try startServer { $0.limits.maxDecompressedBodyBytes = 100_000 }
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        let packed = Compression.gzip(Array("hello gzip".utf8))!
        client.send(Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nContent-Length: \(packed.count)\r\n\r\n".utf8) + packed)
        #expect(client.receiveResponse()?.hasSuffix("Content-Length: 10\r\n\r\nhello gzip") == true)

        let bomb = Compression.gzip([UInt8](repeating: 0, count: 5_000_000), level: 9)!
        #expect(bomb.count < 100_000)
        let victim = try RawClient(port: server.boundPort)
        victim.send(Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nContent-Length: \(bomb.count)\r\n\r\n".utf8) + bomb)
        let (bytes, closed) = victim.receiveUntilClose()
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 413 "))
        #expect(closed)
    }

    @Test func largeResponseIsWrittenWithBackpressureToASlowReader() throws {
        let server = try startServer()
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        let size = 8_000_000
        client.send("GET /big?n=\(size) HTTP/1.1\r\nHost: t\r\n\r\n" + Self.getHello)
        usleep(300_000)   // not reading: the server must park the write, not spin or drop it
        let responses = client.receiveRawResponses(2)
        #expect(responses.count == 2)
        #expect(Array(responses.first?.suffix(size) ?? []) == bigBody(size))
        #expect(responses.last.map { normalized(String(decoding: $0, as: UTF8.self)) } == Self.helloResponse)
    }

    @Test func ipv6Loopback() throws {
        let server = try startServer { $0.host = "::1" }
        defer { server.stop() }
        let client = try RawClient(host: "::1", port: server.boundPort)
        client.send("GET /echo HTTP/1.1\r\nHost: [::1]\r\n\r\n")
        #expect(client.receiveResponse().map(normalized) ==
                "HTTP/1.1 200 OK\r\nDate: <date>\r\nServer: tensord\r\nX-Method: GET\r\nContent-Length: 0\r\n\r\n")
    }

    @Test func invalidHostIsATypedError() {
        #expect(throws: SocketError.invalidAddress("not-an-ip")) {
            try startServer { $0.host = "not-an-ip" }
        }
    }
}
