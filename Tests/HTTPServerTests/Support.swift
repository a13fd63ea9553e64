import Dispatch
import Foundation
import Glibc
import HTTP
@testable import HTTPServer

/// A blocking raw TCP client for loopback tests: bytes in, bytes out, with a receive timeout so a
/// broken server fails a test instead of hanging it.
final class RawClient {
    let fd: Int32

    /// Connects to `host:port` (IPv4 or IPv6 literal); throws when refused.
    init(host: String = "127.0.0.1", port: Int, timeout: Double = 5) throws {
        var v4 = in_addr()
        var v6 = in6_addr()
        let isV6 = inet_pton(AF_INET, host, &v4) != 1
        if isV6 { guard inet_pton(AF_INET6, host, &v6) == 1 else { throw TestError("bad host \(host)") } }
        fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestError("socket: errno \(errno)") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, 4)
        let rc: Int32
        if isV6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = UInt16(port).bigEndian
            addr.sin6_addr = v6
            rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(port).bigEndian
            addr.sin_addr = v4
            rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        if rc != 0 {
            let code = errno
            Glibc.close(fd)
            throw TestError("connect: errno \(code)")
        }
    }

    deinit { Glibc.close(fd) }

    /// Changes the receive timeout (seconds).
    func setTimeout(_ timeout: Double) {
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// One `recv`: nil on timeout, empty when the peer closed (EOF or reset).
    func receiveSome() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { return errno == ECONNRESET ? [] : nil }
        return Array(buffer[0..<n])
    }

    /// Reads until EOF (or timeout); returns everything and whether EOF was seen.
    func receiveUntilClose() -> (bytes: [UInt8], closed: Bool) {
        var all: [UInt8] = []
        while true {
            guard let chunk = receiveSome() else { return (all, false) }
            if chunk.isEmpty { return (all, true) }
            all += chunk
        }
    }

    /// Reads exactly `count` complete responses (Content-Length or chunked framing) as raw bytes.
    func receiveRawResponses(_ count: Int, headOnly: Bool = false) -> [[UInt8]] {
        var buffer: [UInt8] = []
        var responses: [[UInt8]] = []
        while responses.count < count {
            if let length = Self.completeResponse(in: buffer, headOnly: headOnly) {
                responses.append(Array(buffer[0..<length]))
                buffer.removeFirst(length)
                continue
            }
            guard let chunk = receiveSome(), !chunk.isEmpty else { break }
            buffer += chunk
        }
        return responses
    }

    func receiveResponses(_ count: Int, headOnly: Bool = false) -> [String] {
        receiveRawResponses(count, headOnly: headOnly).map { String(decoding: $0, as: UTF8.self) }
    }

    func receiveResponse(headOnly: Bool = false) -> String? { receiveResponses(1, headOnly: headOnly).first }

    /// The length of the first complete response in `buffer`, if there is one.
    static func completeResponse(in buffer: [UInt8], headOnly: Bool) -> Int? {
        guard let headEnd = find(Array("\r\n\r\n".utf8), in: buffer, from: 0) else { return nil }
        let headLength = headEnd + 4
        let head = String(decoding: buffer[0..<headEnd], as: UTF8.self).lowercased()
        if headOnly || head.hasPrefix("http/1.1 1") || head.hasPrefix("http/1.1 204") { return headLength }
        if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
           let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
            return buffer.count >= headLength + length ? headLength + length : nil
        }
        if head.contains("transfer-encoding: chunked") {
            guard let end = find(Array("\r\n0\r\n\r\n".utf8), in: buffer, from: headEnd) else { return nil }
            return end + 7
        }
        return nil
    }
}

/// The first index of `needle` in `haystack` at or after `from`.
func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
    guard haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
    for i in from...(haystack.count - needle.count) where haystack[i] == needle[0] {
        if Array(haystack[i..<(i + needle.count)]) == needle { return i }
    }
    return nil
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Replaces the one varying header (Date) so raw responses can be compared byte for byte.
func normalized(_ response: String) -> String {
    response.replacingOccurrences(of: #"Date: [A-Za-z]{3}, \d\d [A-Za-z]{3} \d{4} \d\d:\d\d:\d\d GMT"#,
                                  with: "Date: <date>", options: .regularExpression)
}

/// The handler the live tests serve.
struct TestHandler: HTTPHandler {
    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        switch request.path {
        case "/hello":
            respond(HTTPResponse(status: 200, headers: ["Content-Type": "text/plain"], body: .bytes(Array("hello".utf8))))
        case "/echo":
            respond(HTTPResponse(status: 200, headers: ["X-Method": request.method], body: .bytes(request.body)))
        case "/slow":
            // Answers from another queue after a delay: the cross-thread path of a real session queue.
            let ms = Int(request.queryValue("ms") ?? "") ?? 300
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms)) {
                respond(HTTPResponse(status: 200, body: .bytes(Array("slow \(ms)".utf8))))
            }
        case "/big":
            let size = Int(request.queryValue("n") ?? "") ?? 1_000_000
            respond(HTTPResponse(status: 200, headers: ["Content-Type": "text/plain"], body: .bytes(bigBody(size))))
        case "/twice":
            // A buggy handler: the second call must be ignored, not sent as an extra response.
            respond(HTTPResponse(status: 200, body: .bytes(Array("first".utf8))))
            respond(HTTPResponse(status: 500, body: .bytes(Array("second".utf8))))
        case "/huge":
            let size = Int(request.queryValue("n") ?? "") ?? 30_000_000
            respond(HTTPResponse(status: 200, body: .bytes([UInt8](repeating: 120, count: size))))
        case "/stream":
            respond(HTTPResponse(status: 200, body: .stream(PiecesStream(pieces: ["alpha", "", "beta", "gamma"]))))
        default:
            respond(HTTPResponse(status: 404, body: .bytes(Array("not found".utf8))))
        }
    }
}

/// Deterministic compressible-but-not-trivial bytes.
func bigBody(_ size: Int) -> [UInt8] {
    (0..<size).map { UInt8(truncatingIfNeeded: ($0 * 7) % 251 / 3) }
}

struct PiecesStream: HTTPBodyStream {
    var pieces: [String]
    mutating func next() -> [UInt8]? {
        guard !pieces.isEmpty else { return nil }
        return Array(pieces.removeFirst().utf8)
    }
}

/// Starts a server on an ephemeral loopback port with test-friendly settings.
func startServer(_ adjust: (inout ServerConfiguration) -> Void = { _ in }) throws -> Server {
    var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
    configuration.workers = 2
    adjust(&configuration)
    let server = try Server(configuration: configuration, handler: TestHandler())
    try server.start()
    return server
}

extension Server {
    /// Shuts down within a second and waits (every test ends with this).
    func stop() {
        shutdown(deadline: .now() + .seconds(1))
        wait()
    }

    var boundPort: Int { port ?? 0 }
}
