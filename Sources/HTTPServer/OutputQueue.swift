import Glibc

/// Bytes waiting to be written, in order. Small pieces are coalesced into one buffer so that all
/// responses from one read batch leave in a single write; large bodies stay separate (no copy)
/// and go out through `writev`.
struct OutputQueue {
    private var chunks: [[UInt8]] = []
    /// Bytes of `chunks[0]` already written.
    private var offset = 0
    private(set) var byteCount = 0

    /// Pieces at most this large are copied into the tail buffer instead of queued alone.
    static let coalesceLimit = 16 * 1024

    var isEmpty: Bool { byteCount == 0 }

    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        byteCount += bytes.count
        if bytes.count <= Self.coalesceLimit, let last = chunks.indices.last,
           chunks[last].count < Self.coalesceLimit, !(last == 0 && offset > 0) {
            chunks[last].append(contentsOf: bytes)
        } else {
            chunks.append(bytes)
        }
    }

    /// Lets `write` append straight into the tail buffer (or a fresh one), avoiding a copy.
    mutating func appendInPlace(_ write: (inout [UInt8]) -> Void) {
        if let last = chunks.indices.last, chunks[last].count < Self.coalesceLimit, !(last == 0 && offset > 0) {
            let before = chunks[last].count
            write(&chunks[last])
            byteCount += chunks[last].count - before
        } else {
            var fresh: [UInt8] = []
            fresh.reserveCapacity(512)
            write(&fresh)
            byteCount += fresh.count
            if !fresh.isEmpty { chunks.append(fresh) }
        }
    }

    /// Drops `count` written bytes from the front.
    mutating func consume(_ count: Int) {
        var left = count
        byteCount -= count
        while left > 0 {
            let available = chunks[0].count - offset
            if left >= available {
                left -= available
                chunks.removeFirst()
                offset = 0
            } else {
                offset += left
                left = 0
            }
        }
        if chunks.isEmpty { offset = 0 }
    }

    /// Plain socket: one `write`/`writev` of up to 64 pieces.
    func write(fd: Int32) throws(SocketError) -> IOResult<Int> {
        try syscall("writev") { rawWrite(fd: fd) }
    }

    private func rawWrite(fd: Int32) -> Int {
        if chunks.count == 1 {
            return chunks[0].withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) }
        }
        let count = min(chunks.count, 64)
        return withUnsafeTemporaryAllocation(of: iovec.self, capacity: count) { iov in
            // The arrays are not mutated while the pointers are in use, so their storage stays put.
            for i in 0..<count {
                chunks[i].withUnsafeBytes { raw in
                    let start = i == 0 ? offset : 0
                    iov[i] = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + start),
                                   iov_len: raw.count - start)
                }
            }
            return writev(fd, iov.baseAddress, Int32(count))
        }
    }

    /// TLS: the first piece through `SSL_write` (partial writes are enabled).
    func write(tls: TLSSession) -> TransportResult {
        chunks[0].withUnsafeBytes { raw in
            tls.write(UnsafeRawBufferPointer(rebasing: raw[offset...]))
        }
    }
}
