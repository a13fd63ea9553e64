import Foundation
import Testing
@testable import Wire

private let members = [
    NPZMember(name: "x", array: NPYArray(dtype: .float32, shape: [2], data: [0, 0, 128, 63, 0, 0, 0, 64])),
    NPZMember(name: "grad/x", array: NPYArray(dtype: .uint8, shape: [0], data: [])),
]

private func decodeError(_ bytes: [UInt8]) -> WireError? {
    do {
        _ = try NPZ.decode(bytes, maxElements: 100)
        return nil
    } catch {
        return error
    }
}

@Test func npzRoundTrips() throws {
    let archive = try NPZ.encode(members)
    #expect(try NPZ.decode(archive, maxElements: 100) == members)
    #expect(try NPZ.decode(try NPZ.encode([]), maxElements: 1) == [])
}

@Test func crcMatchesTheZipPolynomial() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum([]) == 0)
    let long = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
    // Slicing-by-8 agrees with the bytewise loop used for the tail.
    var c: UInt32 = 0xFFFF_FFFF
    for b in long { c = CRC32.tables[0][Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    #expect(CRC32.checksum(long) == c ^ 0xFFFF_FFFF)
}

@Test func npzRejectsDamage() throws {
    let archive = try NPZ.encode(members)
    var corrupted = archive
    corrupted[100] ^= 1
    #expect(decodeError(corrupted) == WireError(.invalidNPY, "invalid .npz: CRC mismatch in member 'x.npy'"))
    var compressed = archive
    compressed[8] = 8
    let cd = archive.count - 22 - (46 + 5) - (46 + 10)
    compressed[cd + 10] = 8
    #expect(decodeError(compressed) == WireError(.unsupportedLayout,
        "unsupported .npz layout: member 'x.npy' is compressed (method 8); save with np.savez, not np.savez_compressed"))
    #expect(decodeError(Array(archive.dropLast())) == WireError(.invalidNPY, "invalid .npz: no zip end-of-central-directory record"))
    #expect(decodeError(Array(archive.dropFirst(10))) == WireError(.invalidNPY, "invalid .npz: central directory out of bounds"))
    #expect(decodeError([1, 2, 3]) == WireError(.invalidNPY, "invalid .npz: 3 bytes is too short for a zip archive"))
    #expect(throws: WireError(.tooLarge, "member 'x.npy': array too large: shape (2,) has 2 elements, the limit is 1")) {
        try NPZ.decode(archive, maxElements: 1)
    }
}

@Test(.enabled(if: Python.hasNumpy, "python3 with numpy is not available"))
func readsNpzWrittenByNumpy() throws {
    let dir = try Python.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    _ = try Python.run("""
        import numpy as np, sys, os
        d = sys.argv[1]
        np.savez(os.path.join(d, 'a.npz'), w=np.array([[1, 2], [3, 4]], dtype='<f4'), n=np.array([5, 6], dtype='<i8'))
        np.savez_compressed(os.path.join(d, 'c.npz'), w=np.zeros(3, dtype='<f4'))
        """, arguments: [dir.path])
    let a = [UInt8](FileManager.default.contents(atPath: dir.appendingPathComponent("a.npz").path) ?? Data())
    let decoded = try NPZ.decode(a, maxElements: 100)
    #expect(decoded.map(\.name) == ["w", "n"])
    #expect(decoded.first?.array == NPYArray(dtype: .float32, shape: [2, 2], data: [0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64]))
    #expect(decoded.last?.array == NPYArray(dtype: .int64, shape: [2], data: [5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]))
    let c = [UInt8](FileManager.default.contents(atPath: dir.appendingPathComponent("c.npz").path) ?? Data())
    #expect(throws: WireError(.unsupportedLayout,
        "unsupported .npz layout: member 'w.npy' is compressed (method 8); save with np.savez, not np.savez_compressed")) {
        try NPZ.decode(c, maxElements: 100)
    }
}
