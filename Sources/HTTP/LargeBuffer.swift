import Glibc

/// Byte arrays for large bodies (request bodies, `.npy` downloads) that are written once front to
/// back. Allocated at their final size (no regrowth copies) and, from ``hugePageMinimum`` up,
/// advised to use transparent huge pages: a fresh 64 MiB buffer otherwise takes 16,384 page
/// faults when first written, which costs more than copying it. Untouched pages stay uncommitted,
/// so reserving what a client announces does not make the server hold it.
public enum LargeBuffer {
    /// Buffers at least this large get the huge-page advice.
    public static let hugePageMinimum = 4 << 20

    /// An array of `count` bytes whose values are unspecified until written: for a body that is
    /// received in place, front to back, and not read before it is complete. (Bytes need no
    /// initialisation to be valid values; writing them here would commit every page at once.)
    /// Not advised: a huge page commits 2 MiB at the first byte, so the receiver advises the
    /// rest (``adviseHugePages(_:)``) only once a client has sent ``hugePageMinimum`` bytes.
    public static func unfilled(count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// Advises the whole pages inside `region` to use transparent huge pages (a hint).
    public static func adviseHugePages(_ region: UnsafeMutableRawBufferPointer) {
        guard region.count >= hugePageMinimum, let base = region.baseAddress else { return }
        adviseHugePages(base, byteCount: region.count)
    }

    /// An array of exactly `count` bytes, all written by `fill` (which gets the whole buffer).
    public static func filled(count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count >= hugePageMinimum, let base = buffer.baseAddress { adviseHugePages(UnsafeMutableRawPointer(base), byteCount: count) }
            fill(UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[0..<count]))
            initialized = count
        }
    }

    /// Advises the whole pages inside `[start, start + byteCount)`; a hint, so failure is ignored.
    private static func adviseHugePages(_ start: UnsafeMutableRawPointer, byteCount: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) & ~(page - 1)
        let end = (Int(bitPattern: start) + byteCount) & ~(page - 1)
        guard end > first, let aligned = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(aligned, end - first, MADV_HUGEPAGE)
    }
}
