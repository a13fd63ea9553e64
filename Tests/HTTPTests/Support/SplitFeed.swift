@testable import HTTP

/// What a feed produced, in a form that compares equal across ways of splitting the input.
enum FeedEvent: Equatable, CustomStringConvertible {
    case head(String)
    case message(String)

    var description: String {
        switch self {
        case .head(let text): "head(\(text))"
        case .message(let text): "message(\(text))"
        }
    }
}

struct FeedResult: Equatable {
    var events: [FeedEvent] = []
    var error: HTTPParseError?
    /// Bytes left unconsumed in the caller's buffer at the end.
    var leftover = 0

    var messages: Int { events.filter { if case .message = $0 { true } else { false } }.count }
}

/// Feeds `bytes` to a fresh parser in pieces, keeping unconsumed bytes the way a server would,
/// and records every event (NIO's split-feed idea).
enum SplitFeed {
    static func summary(_ request: HTTPRequest) -> String {
        let headers = request.headers.map { "\($0.name)=\($0.value)" }.joined(separator: "|")
        return "\(request.method) \(request.target) \(request.version) [\(headers)] body=\(request.body)"
    }

    static func feed(_ bytes: [UInt8], pieces: [Range<Int>], parser: RequestParser = RequestParser()) -> FeedResult {
        var parser = parser
        var buffer: [UInt8] = []
        var result = FeedResult()
        for piece in pieces {
            buffer.append(contentsOf: bytes[piece])
            while true {
                do {
                    let event = try buffer.withUnsafeBytes { try parser.parse($0) }
                    switch event {
                    case .needMoreData(let consumed):
                        buffer.removeFirst(consumed)
                    case .head(let head, let consumed):
                        result.events.append(.head("\(head.method) \(head.target) expect=\(head.expectsContinue)"))
                        buffer.removeFirst(consumed)
                        continue
                    case .message(let request, let consumed):
                        result.events.append(.message(summary(request)))
                        buffer.removeFirst(consumed)
                        if !buffer.isEmpty { continue }
                    }
                } catch let error as HTTPParseError {
                    result.error = error
                    return result
                } catch {
                    Issue.record("unexpected error \(error)")
                    return result
                }
                break
            }
        }
        result.leftover = buffer.count
        return result
    }

    static func whole(_ bytes: [UInt8], parser: RequestParser = RequestParser()) -> FeedResult {
        feed(bytes, pieces: [0..<bytes.count], parser: parser)
    }

    static func byteByByte(_ bytes: [UInt8], parser: RequestParser = RequestParser()) -> FeedResult {
        feed(bytes, pieces: bytes.indices.map { $0..<($0 + 1) }, parser: parser)
    }

    static func split(_ bytes: [UInt8], at offset: Int, parser: RequestParser = RequestParser()) -> FeedResult {
        feed(bytes, pieces: [0..<offset, offset..<bytes.count], parser: parser)
    }

    /// The result of feeding whole, after checking that byte-by-byte and every two-piece split agree.
    static func consistent(_ bytes: [UInt8], parser: RequestParser = RequestParser(),
                           sourceLocation: SourceLocation = #_sourceLocation) -> FeedResult {
        let whole = whole(bytes, parser: parser)
        let single = byteByByte(bytes, parser: parser)
        #expect(single.events == whole.events && single.error == whole.error,
                "byte-by-byte differs: \(single) vs \(whole)", sourceLocation: sourceLocation)
        // Every offset for small inputs; about 200 spread-out offsets for large ones (quadratic otherwise).
        let stride = max(1, bytes.count / 200)
        for offset in Swift.stride(from: 0, through: bytes.count, by: stride) {
            let split = split(bytes, at: offset, parser: parser)
            if split.events != whole.events || split.error != whole.error {
                Issue.record("split at \(offset) differs: \(split) vs \(whole)", sourceLocation: sourceLocation)
                break
            }
        }
        return whole
    }
}

import Testing

extension Array where Element == UInt8 {
    init(_ text: String) { self = Array(text.utf8) }
}
