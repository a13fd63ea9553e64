import CZlib

/// gzip for response and request bodies (RFC 9110 §8.4.1.3, RFC 1952), the only user of zlib.
public enum Compression {
    /// Why a gzip body could not be decompressed.
    public enum Error: Swift.Error, Sendable, Equatable {
        /// The decompressed size would exceed the limit (a zip bomb); maps to 413.
        case limitExceeded
        /// The bytes are not a complete gzip stream; maps to 400.
        case invalidData
    }

    /// When and how ``compressIfAccepted(_:acceptEncoding:policy:)`` compresses.
    public struct Policy: Sendable {
        /// Bodies smaller than this are sent as they are. Default 1 KiB.
        public var minimumSize = 1024
        /// zlib level, 1 (fast, the default) to 9.
        public var level = 1
        /// Media types worth compressing; an entry ending in `/` matches a whole top-level type.
        public var compressibleTypes = ["application/json", "application/problem+json", "text/",
                                        "image/svg+xml", "application/xml", "application/javascript"]
        /// The defaults above.
        public init() {}
    }

    /// Compresses `input` into one gzip member; `nil` only if zlib cannot initialise.
    public static func gzip(_ input: [UInt8], level: Int = 1) -> [UInt8]? {
        var stream = z_stream()
        let windowBitsGzip: Int32 = 15 + 16
        guard deflateInit2_(&stream, Int32(max(1, min(9, level))), Z_DEFLATED, windowBitsGzip, 8,
                            Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { return nil }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let status: Int32 = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = destination.baseAddress
                stream.avail_out = uInt(destination.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeLast(bound - Int(stream.total_out))
        return output
    }

    /// Decompresses gzip data (one or more members), never holding more than `limit` output bytes.
    /// - Throws: ``Error/limitExceeded`` as soon as the output would pass `limit`;
    ///   ``Error/invalidData`` for anything that is not complete gzip.
    public static func gunzip(_ input: [UInt8], limit: Int) throws(Compression.Error) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .invalidData
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, max(4096, input.count * 4)))
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        let result: Compression.Error? = input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = uInt(source.count)
            while true {
                let (status, produced) = scratch.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, buffer.count - Int(stream.avail_out))
                }
                guard status == Z_OK || status == Z_STREAM_END else { return .invalidData }
                guard produced <= limit - output.count else { return .limitExceeded }
                if output.capacity - output.count < produced {
                    // Grow explicitly so that capacity, not just count, stays within the limit.
                    output.reserveCapacity(min(limit, max(output.count * 2, output.count + produced)))
                }
                output.append(contentsOf: scratch[0..<produced])
                if status == Z_STREAM_END {
                    // gzip allows several members back to back (RFC 1952 §2.2).
                    guard stream.avail_in > 0 else { return nil }
                    guard inflateReset(&stream) == Z_OK else { return .invalidData }
                } else if produced == 0 && stream.avail_in == 0 {
                    return .invalidData  // truncated stream
                }
            }
        }
        if let result { throw result }
        return output
    }

    /// Whether an `Accept-Encoding` value (RFC 9110 §12.5.3) accepts gzip: `gzip`/`x-gzip`
    /// or `*` with a non-zero q-value; an explicit `gzip;q=0` refuses it.
    public static func acceptsGzip(_ acceptEncoding: String?) -> Bool {
        guard let acceptEncoding else { return false }
        var gzip: Bool?
        var wildcard: Bool?
        for element in acceptEncoding.utf8.split(separator: UInt8(ascii: ",")) {
            let parts = element.split(separator: UInt8(ascii: ";"))
            guard let coding = parts.first?.trimmingOWS() else { continue }
            var acceptable = true
            for parameter in parts.dropFirst() {
                let pair = parameter.trimmingOWS()
                guard pair.count >= 2, HTTPHeaders.asciiLower(pair[pair.startIndex]) == UInt8(ascii: "q"),
                      pair[pair.index(after: pair.startIndex)] == UInt8(ascii: "=") else { continue }
                acceptable = isNonZeroQValue(pair.dropFirst(2))
            }
            if coding.asciiEquals("gzip") || coding.asciiEquals("x-gzip") {
                gzip = (gzip ?? false) || acceptable
            } else if coding.asciiEquals("*") {
                wildcard = acceptable
            }
        }
        return gzip ?? wildcard ?? false
    }

    /// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 9110 §12.4.2); malformed counts as 0.
    private static func isNonZeroQValue(_ value: Substring.UTF8View.SubSequence) -> Bool {
        guard let first = value.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return false }
        let rest = value.dropFirst()
        if rest.isEmpty { return first == UInt8(ascii: "1") }
        guard rest.first == UInt8(ascii: "."), rest.count <= 4,
              rest.dropFirst().allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) else { return false }
        return first == UInt8(ascii: "1") || rest.dropFirst().contains { $0 != UInt8(ascii: "0") }
    }

    /// Whether a body of this type and size is worth compressing under `policy`.
    public static func isCompressible(contentType: String?, size: Int, policy: Policy = .init()) -> Bool {
        guard size >= policy.minimumSize, let contentType else { return false }
        let mediaType = contentType.utf8.split(separator: UInt8(ascii: ";")).first?.trimmingOWS() ?? Substring("").utf8[...]
        let lowered = String(decoding: mediaType.map(HTTPHeaders.asciiLower), as: UTF8.self)
        return policy.compressibleTypes.contains { $0.hasSuffix("/") ? lowered.hasPrefix($0) : lowered == $0 }
    }

    /// Gzips a `.bytes` body in place when the client accepts gzip and ``isCompressible(contentType:size:policy:)``
    /// says so, setting `Content-Encoding: gzip` and `Vary: Accept-Encoding`. Streams and bodies that
    /// already carry a Content-Encoding are left alone.
    public static func compressIfAccepted(_ response: inout HTTPResponse, acceptEncoding: String?, policy: Policy = .init()) {
        guard case .bytes(let bytes) = response.body, !response.headers.contains("Content-Encoding"),
              isCompressible(contentType: response.headers["Content-Type"], size: bytes.count, policy: policy)
        else { return }
        // RFC 9110 §12.5.5: the representation depends on Accept-Encoding whether or not we compress now.
        response.headers.add("Vary", "Accept-Encoding")
        guard acceptsGzip(acceptEncoding), let compressed = gzip(bytes, level: policy.level),
              compressed.count < bytes.count else { return }
        response.body = .bytes(compressed)
        response.headers.add("Content-Encoding", "gzip")
    }
}
