import Testing
@testable import HTTP

@Suite("Large bodies")
struct LargeBodyTests {
    @Test("a body announced by Content-Length is received into one buffer of that size, intact")
    func bodyAllocatedOnce() throws {
        let size = 6 << 20   // above LargeBuffer.hugePageMinimum
        let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        var limits = ParserLimits()
        limits.maxBodyBytes = size
        var parser = RequestParser(limits: limits)
        let head = Array("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: \(size)\r\n\r\n".utf8)
        var request: HTTPRequest?
        var offset = 0
        // Fed in 64 KiB reads, as a socket delivers it.
        var pending = head
        while request == nil {
            let take = min(65_536, size - offset)
            pending += body[offset..<(offset + take)]
            offset += take
            let event = try pending.withUnsafeBytes { try parser.parse($0) }
            switch event {
            case .message(let parsed, let consumed):
                request = parsed
                pending.removeFirst(consumed)
            case .needMoreData(let consumed), .head(_, let consumed):
                pending.removeFirst(consumed)
            }
        }
        #expect(request?.body == body)
        // Allocated at the announced size up front: no regrowth (which would at least double it).
        #expect(request.map { $0.body.capacity >= size && $0.body.capacity < size + size / 2 } == true)
    }

    @Test("a body one byte over the limit is refused before any allocation")
    func overLimit() {
        var limits = ParserLimits()
        limits.maxBodyBytes = 1 << 20
        var parser = RequestParser(limits: limits)
        let head = Array("PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: \((1 << 20) + 1)\r\n\r\n".utf8)
        #expect(throws: HTTPParseError.bodyTooLarge) { try head.withUnsafeBytes { try parser.parse($0) } }
    }

    @Test("LargeBuffer arrays: unfilled of the size asked for; filled with exactly the bytes written")
    func largeBuffer() {
        for count in [0, 1, 4095, LargeBuffer.hugePageMinimum + 12_345] {
            #expect(LargeBuffer.unfilled(count: count).count == count)
            let filled = LargeBuffer.filled(count: count) { out in
                for i in 0..<out.count { out[i] = UInt8(truncatingIfNeeded: i * 7) }
            }
            #expect(filled.count == count)
            #expect(filled.enumerated().allSatisfy { $0.element == UInt8(truncatingIfNeeded: $0.offset * 7) })
        }
    }
}
