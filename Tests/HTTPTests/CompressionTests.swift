import Testing
@testable import HTTP

@Suite("Compression")
struct CompressionTests {
    @Test("gzip round trip at levels 1 and 6, including empty input")
    func roundTrip() throws {
        let text = Array(String(repeating: "tensor data 1.25, 2.5, ", count: 500))
        for level in [1, 6] {
            let packed = try #require(Compression.gzip(text, level: level))
            #expect(packed.count < text.count / 5)
            #expect(packed.prefix(2) == [0x1F, 0x8B], "gzip magic")
            #expect(try Compression.gunzip(packed, limit: text.count) == text)
        }
        let empty = try #require(Compression.gzip([]))
        #expect(try Compression.gunzip(empty, limit: 0) == [])
    }

    @Test("concatenated gzip members decode as one body (RFC 1952 §2.2)")
    func members() throws {
        let a = try #require(Compression.gzip(Array("hello ")))
        let b = try #require(Compression.gzip(Array("world")))
        #expect(try Compression.gunzip(a + b, limit: 100) == Array("hello world"))
    }

    @Test("output over the limit is refused: limit exactly fits, one less throws")
    func limit() throws {
        let data = [UInt8](repeating: 9, count: 200_000)
        let packed = try #require(Compression.gzip(data))
        #expect(try Compression.gunzip(packed, limit: 200_000).count == 200_000)
        #expect(throws: Compression.Error.limitExceeded) { try Compression.gunzip(packed, limit: 199_999) }
    }

    @Test("a 1 GiB zip bomb is stopped at the limit quickly")
    func bomb() throws {
        // 1 GiB of zeros as gzip, built from one compressed 16 MiB member repeated 64 times.
        let member = try #require(Compression.gzip([UInt8](repeating: 0, count: 16 << 20), level: 9))
        let bomb = Array([[UInt8]](repeating: member, count: 64).joined())
        #expect(bomb.count < 2 << 20)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(throws: Compression.Error.limitExceeded) { try Compression.gunzip(bomb, limit: 8 << 20) }
        }
        #expect(elapsed < .seconds(5))
    }

    @Test("truncated or foreign data is invalid")
    func invalid() throws {
        let packed = try #require(Compression.gzip(Array("some body text")))
        #expect(throws: Compression.Error.invalidData) { try Compression.gunzip(Array(packed.dropLast(4)), limit: 100) }
        #expect(throws: Compression.Error.invalidData) { try Compression.gunzip(Array("plain"), limit: 100) }
        #expect(throws: Compression.Error.invalidData) { try Compression.gunzip([], limit: 100) }
    }

    @Test("Accept-Encoding with q-values", arguments: [
        ("gzip", true), ("deflate, gzip;q=0.5", true), ("GZIP", true), ("x-gzip", true), ("br", false),
        ("gzip;q=0", false), ("gzip;q=0.000", false), ("gzip; q=0.001", true), ("*", true), ("*;q=0", false),
        ("gzip;q=0, *", false), ("br, *;q=0.1", true), ("gzip;q=2", false), ("", false), ("identity", false),
    ])
    func acceptEncoding(value: String, expected: Bool) {
        #expect(Compression.acceptsGzip(value) == expected)
    }

    @Test("compressIfAccepted: only compressible types above the threshold, with Vary")
    func compressIfAccepted() throws {
        let json = Array("[" + String(repeating: "1.0,", count: 1000) + "1.0]")
        var response = HTTPResponse(status: 200, headers: ["Content-Type": "application/json; charset=utf-8"], body: .bytes(json))
        Compression.compressIfAccepted(&response, acceptEncoding: "gzip, br")
        #expect(response.headers["Content-Encoding"] == "gzip" && response.headers["Vary"] == "Accept-Encoding")
        guard case .bytes(let packed) = response.body else { Issue.record("expected bytes"); return }
        #expect(try Compression.gunzip(packed, limit: json.count) == json)

        var refused = HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: .bytes(json))
        Compression.compressIfAccepted(&refused, acceptEncoding: "br")
        #expect(refused.headers["Content-Encoding"] == nil && refused.headers["Vary"] == "Accept-Encoding")

        var small = HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: .bytes(Array("{}")))
        Compression.compressIfAccepted(&small, acceptEncoding: "gzip")
        #expect(small.headers["Content-Encoding"] == nil)

        var binary = HTTPResponse(status: 200, headers: ["Content-Type": "application/octet-stream"], body: .bytes(json))
        Compression.compressIfAccepted(&binary, acceptEncoding: "gzip")
        #expect(binary.headers["Content-Encoding"] == nil && binary.headers["Vary"] == nil)

        #expect(Compression.isCompressible(contentType: "text/plain", size: 5000))
        #expect(Compression.isCompressible(contentType: "image/svg+xml", size: 5000))
    }
}
