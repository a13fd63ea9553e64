import Foundation
import Testing
@testable import Wire

/// An npy file with a hand-written header dict (padded to 64 bytes like numpy), then `data`.
private func npy(_ dict: String, data: [UInt8] = [], version: UInt8 = 1) -> [UInt8] {
    var header = Array(dict.utf8)
    let prefix = version == 1 ? 10 : 12
    header += repeatElement(0x20, count: (64 - (prefix + header.count + 1) % 64) % 64)
    header.append(0x0A)
    var out = NPY.magic + [version, 0]
    let n = header.count
    out += version == 1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)]
    return out + header + data
}

private func decodeError(_ bytes: [UInt8], maxElements: Int = 1 << 28) -> WireError? {
    do {
        _ = try NPY.decode(bytes, maxElements: maxElements)
        return nil
    } catch {
        return error
    }
}

/// Little-endian bytes of `values`.
private func bytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] { values.flatMap { v in (0..<T.bitWidth / 8).map { UInt8(truncatingIfNeeded: v.littleEndian >> ($0 * 8)) } } }
private func bytes(_ values: [Float]) -> [UInt8] { bytes(values.map(\.bitPattern)) }
private func bytes(_ values: [Double]) -> [UInt8] { bytes(values.map(\.bitPattern)) }

@Test func writesNumpyCompatibleHeader() {
    let h = NPY.header(dtype: .float32, shape: [3])
    #expect(h.count == 128 && h.count % 64 == 0)
    #expect(String(decoding: h[10...], as: UTF8.self)
        == "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" + String(repeating: " ", count: 60) + "\n")
    #expect(String(decoding: NPY.header(dtype: .uint8, shape: [])[10...], as: UTF8.self).hasPrefix("{'descr': '|u1', 'fortran_order': False, 'shape': (), }"))
    #expect(String(decoding: NPY.header(dtype: .int64, shape: [2, 3, 4])[10...], as: UTF8.self).contains("'shape': (2, 3, 4), }"))
}

@Test(arguments: NPYDType.allCases)
func roundTripsEveryDtypeAndShape(_ dtype: NPYDType) throws {
    for shape in [[], [0], [5], [2, 3], [2, 0, 4], [1, 1, 1, 7]] {
        let n = shape.reduce(1, *)
        let data = (0..<(n * dtype.itemSize)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let array = NPYArray(dtype: dtype, shape: shape, data: data)
        let file = NPY.encode(array)
        #expect((file.count - data.count) % 64 == 0)
        #expect(try NPY.decode(file, maxElements: 100) == array)
        let header = try file.withUnsafeBytes { try NPY.readHeader($0, maxElements: 100) }
        #expect(header.dataRange == (file.count - data.count)..<file.count && header.elementCount == n)
    }
}

@Test func readsVersions2And3() throws {
    let data = bytes([Float(1), 2, 3])
    for version: UInt8 in [2, 3] {
        let a = try NPY.decode(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data: data, version: version), maxElements: 10)
        #expect(a.shape == [3] && a.data == data && a.dtype == .float32)
    }
    // Other spellings numpy's literal_eval accepts: double quotes, no trailing comma, spaces.
    let b = try NPY.decode(npy("{\"shape\": ( 2 , 1 ), \"fortran_order\": False, \"descr\": \"<i8\"}", data: bytes([Int64(-1), 5])), maxElements: 10)
    #expect(b.shape == [2, 1] && b.dtype == .int64)
    // fortran_order True is the same layout for 0-d and 1-d arrays.
    #expect(try NPY.decode(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }", data: data), maxElements: 10).shape == [3])
}

private let hint = "convert with np.ascontiguousarray(a, dtype='<f4') (or '<f8', '<i4', '<i8', '|u1') before np.save"

@Test func rejectsUnsupportedLayoutsAndDtypes() {
    let f4 = bytes([Float(1), 2, 3, 4])
    #expect(decodeError(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", data: f4))
        == WireError(.unsupportedLayout, "unsupported .npy layout: big-endian dtype '>f4'; \(hint)"))
    #expect(decodeError(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", data: f4))
        == WireError(.unsupportedLayout, "unsupported .npy layout: fortran_order is True; \(hint)"))
    for (descr, name) in [("|b1", " (bool)"), ("|i1", " (int8)"), ("<f2", " (float16)"), ("|O", " (object)"), ("<U3", "")] {
        #expect(decodeError(npy("{'descr': '\(descr)', 'fortran_order': False, 'shape': (4,), }", data: f4))
            == WireError(.unsupportedDtype, "unsupported .npy dtype '\(descr)'\(name): supported are '<f4', '<f8', '<i4', '<i8', '|u1'; \(hint)"))
    }
    #expect(decodeError(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", data: f4))
        == WireError(.unsupportedDtype, "unsupported .npy dtype: structured dtypes are not supported; \(hint)"))
}

@Test func rejectsMalformedFilesWithMessages() {
    let good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
    let data = bytes([Float(1), 2])
    let cases: [([UInt8], String)] = [
        ([], "invalid .npy: 0 bytes is too short for a header"),
        (Array("NUMPY\u{1}\u{0}ab{}".utf8), "invalid .npy: missing the \\x93NUMPY magic"),
        (NPY.magic + [4, 0, 0, 0], "invalid .npy: unsupported format version 4.0 (1.0, 2.0 and 3.0 are supported)"),
        (NPY.magic + [1, 1, 0, 0], "invalid .npy: unsupported format version 1.1 (1.0, 2.0 and 3.0 are supported)"),
        (NPY.magic + [1, 0, 0xFF, 0x00, 0x7B], "invalid .npy: truncated header: 255 bytes announced, 1 present"),
        (NPY.magic + [2, 0, 0xFF, 0xFF, 0xFF, 0xFF], "invalid .npy: truncated header: 4294967295 bytes announced, 0 present"),
        (npy(good, data: [0, 0, 128]), "invalid .npy: truncated data: shape (2,) of <f4 needs 8 bytes, 3 present"),
        (npy(good, data: data + [0]), "invalid .npy: 1 unexpected bytes after the data of shape (2,) (8 bytes)"),
        (npy("{'descr': '<f4', 'shape': (2,), }", data: data), "invalid .npy header at byte 43: missing key 'fortran_order'"),
        (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", data: data),
         "invalid .npy header at byte 66: unexpected key 'x' (expected 'descr', 'fortran_order', 'shape')"),
        (npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", data: data),
         "invalid .npy header at byte 27: duplicate key 'descr'"),
        (npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", data: data), "invalid .npy header at byte 44: expected True or False"),
        (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", data: data),
         "invalid .npy header at byte 62: a 1-d shape needs a trailing comma, as in (3,)"),
        (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", data: data),
         "invalid .npy header at byte 61: expected a non-negative integer dimension"),
        (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }x", data: data),
         "invalid .npy header at byte 67: expected space padding and a final newline"),
        (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", data: data), "invalid .npy header at byte 127: expected a quoted string"),
    ]
    for (file, message) in cases {
        #expect(decodeError(file)?.message == message)
        #expect(decodeError(file)?.kind == .invalidNPY)
    }
}

@Test func checksElementCountsBeforeAllocating() {
    // 2^62 elements: refused from the header alone, no allocation, no data needed.
    #expect(decodeError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }"))
        == WireError(.tooLarge, "array too large: shape (4611686018427387904,) has 4611686018427387904 elements, the limit is 268435456"))
    #expect(decodeError(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }"), maxElements: .max)
        == WireError(.tooLarge, "array too large: shape (4611686018427387904,) overflows the byte count"))
    #expect(decodeError(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"))
        == WireError(.tooLarge, "array too large: shape (4294967296, 4294967296) overflows the element count"))
    #expect(decodeError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }"))
        == WireError(.tooLarge, "array too large: a dimension in the .npy shape overflows a 64-bit integer"))
    #expect(decodeError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", data: [UInt8](repeating: 0, count: 48)), maxElements: 11)
        == WireError(.tooLarge, "array too large: shape (3, 4) has 12 elements, the limit is 11"))
    // A zero-sized dimension makes the whole array empty even with a huge other dimension.
    #expect(decodeError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4611686018427387904), }")) == nil)
}

@Test(.enabled(if: Python.hasNumpy, "python3 with numpy is not available"))
func readsFilesWrittenByNumpy() throws {
    let dir = try Python.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    _ = try Python.run("""
        import numpy as np, sys, os
        d = sys.argv[1]
        np.save(os.path.join(d, 'f4.npy'), np.arange(24, dtype='<f4').reshape(2, 3, 4) / 8)
        np.save(os.path.join(d, 'f8.npy'), np.array([0.1, -2.5, np.nan, np.inf]))
        np.save(os.path.join(d, 'i4.npy'), np.array([[-1, 2], [3, -2147483648]], dtype='<i4'))
        np.save(os.path.join(d, 'i8.npy'), np.array(-7, dtype='<i8'))
        np.save(os.path.join(d, 'u1.npy'), np.array([0, 255, 7], dtype='u1'))
        with open(os.path.join(d, 'v2.npy'), 'wb') as f:
            np.lib.format.write_array(f, np.arange(3, dtype='<f4'), version=(2, 0))
        np.save(os.path.join(d, 'fortran.npy'), np.asfortranarray(np.ones((2, 3), dtype='<f4')))
        np.save(os.path.join(d, 'big.npy'), np.ones(3, dtype='>f4'))
        np.save(os.path.join(d, 'bool.npy'), np.ones(3, dtype=bool))
        np.save(os.path.join(d, 'obj.npy'), np.array([1, 'a'], dtype=object), allow_pickle=True)
        """, arguments: [dir.path])
    func load(_ name: String) throws(WireError) -> NPYArray {
        let data = [UInt8](FileManager.default.contents(atPath: dir.appendingPathComponent(name).path) ?? Data())
        return try NPY.decode(data, maxElements: 1000)
    }
    #expect(try load("f4.npy") == NPYArray(dtype: .float32, shape: [2, 3, 4], data: bytes((0..<24).map { Float($0) / 8 })))
    #expect(try load("f8.npy") == NPYArray(dtype: .float64, shape: [4], data: bytes([0.1, -2.5, Double.nan, .infinity])))
    #expect(try load("i4.npy") == NPYArray(dtype: .int32, shape: [2, 2], data: bytes([Int32(-1), 2, 3, Int32.min])))
    #expect(try load("i8.npy") == NPYArray(dtype: .int64, shape: [], data: bytes([Int64(-7)])))
    #expect(try load("u1.npy") == NPYArray(dtype: .uint8, shape: [3], data: [0, 255, 7]))
    #expect(try load("v2.npy") == NPYArray(dtype: .float32, shape: [3], data: bytes([Float(0), 1, 2])))
    #expect(throws: WireError(.unsupportedLayout, "unsupported .npy layout: fortran_order is True; \(hint)")) { try load("fortran.npy") }
    #expect(throws: WireError(.unsupportedLayout, "unsupported .npy layout: big-endian dtype '>f4'; \(hint)")) { try load("big.npy") }
    #expect((try? load("bool.npy")) == nil)
    #expect(throws: WireError(.unsupportedDtype, "unsupported .npy dtype '|O' (object): supported are '<f4', '<f8', '<i4', '<i8', '|u1'; \(hint)")) {
        try load("obj.npy")
    }
}

@Test(.enabled(if: Python.hasNumpy, "python3 with numpy is not available"))
func numpyReadsFilesWeWrite() throws {
    let dir = try Python.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let arrays = [
        NPZMember(name: "w", array: NPYArray(dtype: .float32, shape: [2, 3], data: bytes([Float(0.5), -1, 2, .nan, 1e-45, 3.25]))),
        NPZMember(name: "b", array: NPYArray(dtype: .float64, shape: [], data: bytes([0.1]))),
        NPZMember(name: "i", array: NPYArray(dtype: .int32, shape: [0, 2], data: [])),
        NPZMember(name: "l", array: NPYArray(dtype: .int64, shape: [2], data: bytes([Int64.max, -3]))),
        NPZMember(name: "u", array: NPYArray(dtype: .uint8, shape: [3], data: [1, 2, 255])),
    ]
    for m in arrays {
        FileManager.default.createFile(atPath: dir.appendingPathComponent(m.name + ".npy").path, contents: Data(NPY.encode(m.array)))
    }
    FileManager.default.createFile(atPath: dir.appendingPathComponent("all.npz").path, contents: Data(try NPZ.encode(arrays)))
    let out = try Python.run("""
        import numpy as np, sys, os
        d = sys.argv[1]
        def show(name, a):
            print(name, a.dtype.str, a.shape, a.flags['C_CONTIGUOUS'], repr(a.tolist()))
        for n in ['w', 'b', 'i', 'l', 'u']:
            show(n, np.load(os.path.join(d, n + '.npy')))
        with np.load(os.path.join(d, 'all.npz')) as z:
            print(sorted(z.files))
            for n in ['w', 'b', 'i', 'l', 'u']:
                show(n, z[n])
        """, arguments: [dir.path])
    let single = """
        w <f4 (2, 3) True [[0.5, -1.0, 2.0], [nan, 1.401298464324817e-45, 3.25]]
        b <f8 () True 0.1
        i <i4 (0, 2) True []
        l <i8 (2,) True [9223372036854775807, -3]
        u |u1 (3,) True [1, 2, 255]

        """
    #expect(out == single + "['b', 'i', 'l', 'u', 'w']\n" + single)
}
