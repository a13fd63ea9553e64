import Synchronization

/// Process-wide count of live tensor storages, for leak tests.
public enum LiveStorage {
    static let counter = Atomic<Int>(0)
    /// Number of storages currently alive (arrays, gradient buffers, saved tensors).
    public static var count: Int { counter.load(ordering: .relaxed) }
}

/// Byte accounting shared by a context and the storages it allocated. Confined to the
/// context's thread like the context itself.
final class Accounting {
    var allocatedBytes = 0
    /// Bytes of storages that no array handle refers to any more (held only by recorded graphs).
    var graphBytes = 0
    /// Live storages allocated by this context (LiveStorage.count per context).
    var liveStorages = 0
}

/// A contiguous, untyped, row-major buffer. Several handles may share one storage
/// (`detach`, gradient buffers), so it is a reference type.
final class Storage {
    let data: UnsafeMutableRawPointer
    let byteCount: Int
    let accounting: Accounting
    /// Number of `NDArray` handles referring to this storage; 0 means only graphs hold it.
    var handles = 0

    init(byteCount: Int, accounting: Accounting) {
        self.byteCount = byteCount
        // Always allocate at least one byte so zero-size arrays still own a valid pointer.
        // Cache-line alignment for large buffers (BLAS); plain malloc alignment keeps small ones cheap.
        data = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: byteCount >= 4096 ? 64 : 16)
        self.accounting = accounting
        accounting.allocatedBytes += byteCount
        accounting.liveStorages += 1
        LiveStorage.counter.add(1, ordering: .relaxed)
    }

    deinit {
        accounting.allocatedBytes -= byteCount
        accounting.liveStorages -= 1
        if handles == 0 && didLoseHandles { accounting.graphBytes -= byteCount }
        data.deallocate()
        LiveStorage.counter.subtract(1, ordering: .relaxed)
    }

    func retainHandle() {
        if handles == 0 && didLoseHandles { accounting.graphBytes -= byteCount; didLoseHandles = false }
        handles += 1
    }

    func releaseHandle() {
        handles -= 1
        if handles == 0 { accounting.graphBytes += byteCount; didLoseHandles = true }
    }

    /// Set once the last handle went away, so graphBytes counts this storage.
    private var didLoseHandles = false

    @inline(__always) func typed<T>(_: T.Type, count: Int) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: data.assumingMemoryBound(to: T.self), count: count)
    }
}
