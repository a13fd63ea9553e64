import Autograd
import Dispatch
import Glibc
import HTTP
import Service
import Synchronization
import Wire

/// Fuzzes the `run` program decoder and interpreter through the service's own request path.
///
/// Input format (shared with `Tests/FuzzTests/FuzzReplayTests.swift` and `Fuzz/Corpus/program`):
/// the whole input is a JSON request body. On a fresh session with tight limits it is posted
/// first to `.../functions` (so an input with `forward`/`backward` defines custom function `f0`
/// for its own `call` steps) and then to `.../run`. Properties: no crash or hang; every answer is
/// 2xx or a problem+json whose `code` is a known, non-`internal` ``APIError/Code`` with that
/// code's status; a successful run stayed within the step and nesting limits and did all its
/// top-level steps; a failed one reports at most
/// that many completed; afterwards the session still answers, holds no scope the program opened,
/// and stays within its array count, byte budget and per-array element limit; once it is
/// deleted, its tensor storages are freed.
enum ProgramHarness {
    /// Small enough that no program can allocate much or run long, large enough for real programs.
    static let configuration: ServiceConfiguration = {
        var configuration = ServiceConfiguration()
        configuration.maxSessions = 4
        configuration.maxTombstones = 4
        configuration.sessionMaxBytes = 1 << 16
        configuration.maxArraysPerSession = 64
        configuration.maxArrayElements = 4096
        configuration.maxProgramSteps = 64
        configuration.maxProgramDepth = 8
        configuration.openAPIPath = "/nonexistent"
        return configuration
    }()

    static let service = Service(configuration: configuration)

    static func run(_ data: UnsafeRawBufferPointer) throws(PropertyFailure) {
        let body = [UInt8](data)
        let storagesBefore = LiveStorage.count
        let created = call("POST", "/v1/sessions", Array(#"{"seed": 7}"#.utf8))
        guard created.status == 201, let sid = created.json?["id"]?.string else {
            throw PropertyFailure(message: "cannot create a session: \(created.status) \(created.text)")
        }
        let base = "/v1/sessions/\(sid)"
        let defined = call("POST", base + "/functions", body)
        try check(defined, "functions", success: 201)

        let ran = call("POST", base + "/run", body)
        try check(ran, "run", success: 200)
        let steps = (try? JSONParser.parse(body))?["steps"]
        let topLevel = steps?.array?.count
        if ran.status == 200 {
            let (count, depth) = size(of: steps, depth: 0)
            try require(count <= configuration.maxProgramSteps && depth <= configuration.maxProgramDepth,
                        "a program of \(count) steps nested \(depth) deep ran")
            try require(ran.json?["steps"]?.number?.int == topLevel, "run succeeded but did not report all \(topLevel ?? -1) steps: \(ran.text)")
            for member in ran.json?["fetched"]?.object?.members ?? [] {
                let dims: [Int] = member.value["shape"]?.array?.map { $0.number?.int ?? 0 } ?? []
                try require(dims.reduce(1, *) <= configuration.maxArrayElements, "fetched a tensor over the element limit")
            }
        } else if let completed = ran.json?["completed"]?.number?.int {
            try require(completed >= 0 && completed <= topLevel ?? 0, "completed \(completed) of \(topLevel ?? -1) steps")
        }

        let info = call("GET", base)
        try require(info.status == 200, "the session does not answer after the program: \(info.status) \(info.text)")
        let usage = info.json?["usage"]
        try require((usage?["arrays"]?.number?.int ?? .max) <= configuration.maxArraysPerSession, "array count over the limit: \(info.text)")
        try require((usage?["bytes"]?.number?.int ?? .max) <= configuration.sessionMaxBytes, "bytes over the budget: \(info.text)")
        try require(info.json?["state"]?["scopes"]?.array?.isEmpty == true, "the program left scopes open: \(info.text)")

        let arrays = call("GET", base + "/arrays")
        try require(arrays.status == 200, "cannot list arrays: \(arrays.text)")
        for array in arrays.json?["arrays"]?.array ?? [] {
            try require((array["size"]?.number?.int ?? .max) <= configuration.maxArrayElements, "array over the element limit: \(array)")
        }
        try require(call("DELETE", base).status == 204, "cannot delete the session")
        try awaitStoragesFreed(baseline: storagesBefore)
    }

    /// Under the fuzzer: waits until the deleted session's tensor storages are gone, and fails
    /// if they never are (a leak). The session is freed on its queue's thread after the last
    /// response, so an input must not end (nor libFuzzer count its mallocs and frees) before.
    /// Not in `swift test`, where other suites allocate tensors alongside.
    static func awaitStoragesFreed(baseline: Int) throws(PropertyFailure) {
        #if FUZZING
        for _ in 0..<2_000 where LiveStorage.count > baseline { usleep(1_000) }
        try require(LiveStorage.count <= baseline, "\(LiveStorage.count - baseline) tensor storages outlive their deleted session")
        #endif
    }

    /// The number of steps of a `steps` list at all levels, and its deepest scope nesting.
    static func size(of steps: JSONValue?, depth: Int) -> (count: Int, depth: Int) {
        var count = 0, deepest = depth
        for step in steps?.array ?? [] {
            count += 1
            if step["scope"] != nil, step["steps"] != nil {
                let nested = size(of: step["steps"], depth: depth + 1)
                count += nested.count
                deepest = max(deepest, nested.depth)
            }
        }
        return (count, deepest)
    }

    /// Checks that a response is `success` or a well-formed, typed, non-internal problem.
    static func check(_ response: Response, _ route: String, success: Int) throws(PropertyFailure) {
        if response.status == success { return }
        let codeText = response.json?["code"]?.string ?? ""
        guard let code = APIError.Code(rawValue: codeText) else {
            throw PropertyFailure(message: "\(route): \(response.status) without a known problem code: \(response.text)")
        }
        try require(code != .internal && response.status < 500, "\(route): server error \(response.status): \(response.text)")
        try require(code.status == response.status, "\(route): code \(codeText) answered with status \(response.status)")
        try require(response.contentType == "application/problem+json", "\(route): error without problem+json")
    }

    struct Response: Sendable {
        let status: Int
        let contentType: String?
        let body: [UInt8]
        var text: String { String(decoding: body.prefix(2000), as: UTF8.self) }
        var json: JSONValue? { try? JSONParser.parse(body) }
    }

    /// Sends one request through `Service.handle` and waits for its answer.
    static func call(_ method: String, _ target: String, _ body: [UInt8] = []) -> Response {
        let headers: HTTPHeaders = body.isEmpty ? HTTPHeaders() : HTTPHeaders([("Content-Type", "application/json")])
        let request = HTTPRequest(method: method, target: target, headers: headers, body: body, remoteAddress: "127.0.0.1:1")
        let result = Mutex<Response?>(nil)
        let done = DispatchSemaphore(value: 0)
        service.handle(request) { response in
            let bytes: [UInt8] = if case .bytes(let b) = response.body { b } else { [] }
            result.withLock { $0 = Response(status: response.status, contentType: response.headers["Content-Type"], body: bytes) }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }
}
