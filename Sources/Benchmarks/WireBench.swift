import Glibc
#if canImport(Wire)
import Wire
#endif

/// The `wire` suite: encode and decode 1M float32 tensor values as JSON (issue 7.2).
///
/// Prints one line per measurement (best of several runs, milliseconds) and writes the encoded
/// payload to `payloadPath` when given, so a peer (orjson) can be measured on the same bytes.
func runWireBenchmark(payloadPath: String? = nil, count: Int = 1_000_000, repetitions: Int = 7) {
    var rng = WireBenchRandom(state: 42)
    let values: [Float] = (0..<count).map { _ in Float(Double(rng.next() >> 11) * 0x1p-53 * 2 - 1) }

    func encode() -> [UInt8] {
        var w = JSONWriter(capacity: count * 12 + 64)
        w.writeRaw("{\"shape\":[")
        w.write(.int(count))
        w.writeRaw("],\"dtype\":\"float32\",\"data\":")
        values.withUnsafeBufferPointer { w.writeFloats($0) }
        w.writeRaw("}")
        return w.bytes
    }
    let payload = encode()

    func decode() -> [Float] {
        do {
            let v = try JSONParser.parse(payload)
            guard case .numbers(let data)? = v["data"] else { fatalError("wire bench: data did not take the numeric fast path") }
            return try data.floats()
        } catch {
            fatalError("wire bench: \(error)")
        }
    }
    let decoded = decode()
    guard decoded == values else { fatalError("wire bench: decoded values differ from the encoded ones") }

    let encodeMs = bestOf(repetitions) { _ = encode() }
    let decodeMs = bestOf(repetitions) { _ = decode() }
    print("wire.json.encode_f32_1M_ms \(format(encodeMs)) bytes=\(payload.count)")
    print("wire.json.decode_f32_1M_ms \(format(decodeMs))")
    if let payloadPath, let f = fopen(payloadPath, "wb") {
        _ = payload.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
}

private func bestOf(_ n: Int, _ body: () -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<n {
        var t0 = timespec(), t1 = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t0)
        body()
        clock_gettime(CLOCK_MONOTONIC, &t1)
        best = min(best, Double(t1.tv_sec - t0.tv_sec) * 1e3 + Double(t1.tv_nsec - t0.tv_nsec) * 1e-6)
    }
    return best
}

private func format(_ ms: Double) -> String { String(Double(Int(ms * 100)) / 100) }

private struct WireBenchRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
