import Dispatch
import Foundation
import HTTP
import Synchronization
import Testing
import Wire
@testable import Service

/// A response as the tests see it.
struct TestResponse: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    var json: JSONValue {
        (try? JSONParser.parse(body)) ?? .null
    }

    subscript(key: String) -> JSONValue? { json[key] }

    /// The problem `code` of an error response.
    var code: String? { json["code"]?.string }

    var contentType: String? { headers["Content-Type"] }
}

/// A manually advanced wall clock for the registry and rate limiter.
final class TestClock: Sendable {
    private let time = Mutex<Double>(1_800_000_000)
    func now() -> Double { time.withLock { $0 } }
    func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
}

/// Calls `Service.handle` in-process (no socket) and waits for the completion.
struct TestClient {
    let service: Service

    init(configure: (inout ServiceConfiguration) -> Void = { _ in }) {
        var configuration = ServiceConfiguration()
        configuration.openAPIPath = TestClient.repoRoot + "/openapi.yaml"
        configure(&configuration)
        service = Service(configuration: configuration)
    }

    /// The repository root (two levels above this file's directory).
    static let repoRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static func makeRequest(_ method: String, _ target: String, body: [UInt8] = [], headers: [(String, String)] = [],
                            remoteAddress: String = "127.0.0.1:40000") -> HTTPRequest {
        HTTPRequest(method: method, target: target, headers: HTTPHeaders(headers), body: body, remoteAddress: remoteAddress)
    }

    /// Sends a request without waiting; `done` gets the response.
    func send(_ method: String, _ target: String, body: [UInt8] = [], headers: [(String, String)] = [],
              done: @escaping @Sendable (TestResponse) -> Void) {
        service.handle(Self.makeRequest(method, target, body: body, headers: headers)) { response in
            guard case .bytes(let bytes) = response.body else {
                done(TestResponse(status: response.status, headers: response.headers, body: []))
                return
            }
            done(TestResponse(status: response.status, headers: response.headers, body: bytes))
        }
    }

    func request(_ method: String, _ target: String, body: [UInt8] = [], headers: [(String, String)] = []) -> TestResponse {
        let result = Mutex<TestResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        send(method, target, body: body, headers: headers) { response in
            result.withLock { $0 = response }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }

    /// A JSON request (`json` is the body text).
    func call(_ method: String, _ target: String, _ json: String? = nil, headers: [(String, String)] = []) -> TestResponse {
        request(method, target, body: json.map { Array($0.utf8) } ?? [],
                headers: (json == nil ? [] : [("Content-Type", "application/json")]) + headers)
    }

    /// Creates a session and returns its path prefix `/v1/sessions/<id>`.
    func newSession(_ json: String? = nil) -> String {
        let response = call("POST", "/v1/sessions", json)
        #expect(response.status == 201, "\(response.text)")
        return response.headers["Location"] ?? "/v1/sessions/missing"
    }

    /// Creates an array with the given id from a JSON body fragment such as `"data":[1,2]`.
    @discardableResult
    func array(_ session: String, _ id: String, _ fragment: String) -> TestResponse {
        let response = call("POST", "\(session)/arrays", "{\"id\":\"\(id)\",\(fragment)}")
        #expect(response.status == 201, "\(response.text)")
        return response
    }

    /// The values of an array (or `<id>/grad`) as doubles.
    func values(_ session: String, _ path: String) -> [Double] {
        let response = call("GET", "\(session)/arrays/\(path)")
        #expect(response.status == 200, "\(response.text)")
        return doubles(response["data"])
    }
}

/// Numbers (and the non-finite strings) of a flat JSON list.
func doubles(_ value: JSONValue?) -> [Double] {
    guard let items = value?.array else { return [] }
    return items.compactMap { item in
        if let number = item.number { return number.double }
        switch item.string {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return nil
        }
    }
}

func ints(_ value: JSONValue?) -> [Int] { doubles(value).map { Int($0) } }

func isClose(_ a: [Double], _ b: [Double], tolerance: Double = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}

/// `bytes` with the first occurrence of `old` replaced by `new` (same length keeps npy padding).
func replacing(_ bytes: [UInt8], _ old: String, _ new: String) -> [UInt8] {
    let needle = Array(old.utf8)
    guard let start = (0...(bytes.count - needle.count)).first(where: { Array(bytes[$0..<$0 + needle.count]) == needle }) else {
        return bytes
    }
    return Array(bytes[..<start]) + Array(new.utf8) + Array(bytes[(start + needle.count)...])
}
