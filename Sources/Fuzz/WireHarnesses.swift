import Wire

// Fuzz harnesses for the Wire decoders. Bad input must only ever produce a WireError; the
// preconditions below check invariants of accepted input and trap (a fuzzer finding) on a bug.

/// JSON: parse under tight limits; accepted documents must re-encode to JSON that parses back
/// to the same value, and numeric arrays must be consistent with their shape.
func fuzzJSON(_ data: UnsafeRawBufferPointer) {
    guard let value = try? JSONParser.parse(data, options: JSONParser.Options(maxDepth: 64, maxInputBytes: 1 << 20)) else {
        return
    }
    checkNumericArrays(value)
    let encoded = JSONWriter.encode(value)
    guard let again = try? JSONParser.parse(encoded) else {
        preconditionFailure("re-encoded JSON does not parse: \(String(decoding: encoded, as: UTF8.self))")
    }
    precondition(again == value, "JSON round trip changed the value")
}

private func checkNumericArrays(_ value: JSONValue) {
    switch value {
    case .numbers(let n):
        precondition(n.shape.reduce(1, *) == n.values.count, "numeric array shape does not match its values")
        precondition(n.float32Corrections.allSatisfy { $0.index < n.values.count }, "correction out of range")
        _ = try? n.floats()
        _ = try? n.integers(Int64.self)
    case .array(let items):
        items.forEach(checkNumericArrays)
    case .object(let o):
        o.members.forEach { checkNumericArrays($0.value) }
    default:
        break
    }
}

/// npy (and npz, which wraps npy): decode with a small element limit; accepted arrays must
/// re-encode to a file that decodes to the same array.
func fuzzNPY(_ data: UnsafeRawBufferPointer) {
    let limit = 1 << 20
    if let header = try? NPY.readHeader(data, maxElements: limit) {
        precondition(header.dataRange.upperBound == data.count, "npy data range does not end the file")
        precondition(header.dataRange.count == header.elementCount * header.dtype.itemSize, "npy byte count mismatch")
        guard let array = try? NPY.decode(data, maxElements: limit) else { preconditionFailure("header accepted, decode failed") }
        let again = try? NPY.decode(NPY.encode(array), maxElements: limit)
        precondition(again == array, "npy round trip changed the array")
    }
    if let members = try? NPZ.decode(data, maxElements: limit), let encoded = try? NPZ.encode(members) {
        let again = try? NPZ.decode(encoded, maxElements: limit)
        precondition(again == members, "npz round trip changed the members")
    }
}
