import Foundation
import Testing
@testable import HTTP

/// One strict `request` vector from llhttp's test suite (`Tests/vectors/llhttp-vectors.jsonl`,
/// MIT, see `Tests/vectors/LICENSE-llhttp`).
struct Vector: CustomTestStringConvertible, Sendable {
    let file: String, line: Int, name: String, outcome: String, messages: Int
    let raw: [UInt8]
    var testDescription: String { "\(file):\(line) \(name)" }
    var key: String { "\(file):\(line)" }

    static let all: [Vector] = {
        // Kept in the repository so that a clone anywhere runs them.
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../vectors/llhttp-vectors.jsonl").standardized
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["type"] as? String == "request",
                  let outcome = object["outcome"] as? String, outcome == "ok" || outcome == "reject",
                  let raw = (object["raw_b64"] as? String).flatMap({ Data(base64Encoded: $0) })
            else { return nil }
            return Vector(file: object["file"] as! String, line: object["line"] as! Int, name: object["name"] as! String,
                          outcome: outcome, messages: object["messages_complete"] as? Int ?? 0, raw: Array(raw))
        }
    }()
}

/// Vectors where we deliberately differ from llhttp (with `requireHost: false`), and why.
/// `nil` error = we accept; `messages` = our count of complete messages.
let deviations: [String: (error: HTTPParseError?, messages: Int, why: String)] = [
    // We serve HTTP only; llhttp also parses RTSP and ICE (http-server.md §1.5: 400 for a malformed version).
    "request/method.md:375": (.invalidRequestLine, 0, "ICE/1.0 is not HTTP"),
    "request/method.md:405": (.invalidRequestLine, 0, "RTSP/1.0 is not HTTP"),
    "request/method.md:433": (.invalidRequestLine, 0, "RTSP/1.0 is not HTTP"),
    // HTTP/0.9 (no version) is not served.
    "request/sample.md:317": (.invalidRequestLine, 0, "HTTP/0.9 request line"),
    // http-server.md §1.5: a transfer coding we do not implement gets 501 (RFC 9112 §6.1 SHOULD).
    "request/transfer-encoding.md:754": (.unsupportedTransferEncoding, 0, "deflate is not implemented"),
    "request/transfer-encoding.md:796": (.unsupportedTransferEncoding, 0, "deflate is not implemented"),
    // A method is any token (RFC 9110 §9.1); the router answers 405/501 for ones it does not know
    // (http-server.md §1.5: "the router decides"). llhttp rejects methods outside its list.
    "request/invalid.md:69": (nil, 1, "ANNOUNCE is a valid token; the router rejects it"),
    "request/invalid.md:359": (nil, 1, "MKCOLA is a valid token; the router rejects it"),
    // llhttp's harness skips the body of the first message; we wait for its 123 announced bytes.
    "request/content-length.md:447": (nil, 0, "Content-Length: 123 makes the next request its body"),
]

@Suite("llhttp request vectors")
struct LLHTTPVectorTests {
    @Test("the vector file is found and holds the strict request vectors")
    func vectorsLoad() {
        #expect(Vector.all.count == 121)
    }

    @Test("each strict request vector gives llhttp's outcome (or a documented deviation), whole, byte by byte and split anywhere",
          arguments: Vector.all)
    func vector(_ vector: Vector) {
        let lenient = RequestParser(requireHost: false)
        let result = SplitFeed.consistent(vector.raw, parser: lenient)
        if let deviation = deviations[vector.key] {
            #expect(result.error == deviation.error, "\(deviation.why)")
            #expect(result.messages == deviation.messages, "\(deviation.why)")
        } else if vector.outcome == "ok" {
            #expect(result.error == nil)
            #expect(result.messages == vector.messages)
        } else {
            #expect(result.error != nil)
        }
        // With the default (strict) parser the only difference is a missing Host on HTTP/1.1 (RFC 9112 §3.2).
        let strict = SplitFeed.whole(vector.raw)
        if strict.error != result.error {
            #expect(strict.error == .missingHost)
            #expect(!String(decoding: vector.raw, as: UTF8.self).lowercased().contains("\nhost:"))
        }
    }
}
