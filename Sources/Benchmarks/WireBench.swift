import Glibc
#if canImport(Wire)
import Wire
#endif

/// The `wire` suite: encode and decode 1M tensor values as JSON (issue 7.2), float32 (the target)
/// and float64.
///
/// Prints one line per measurement (best of several runs, milliseconds of thread CPU time, so
/// that other load on the machine distorts it less) and writes each encoded payload to
/// `<payloadPrefix>-f32.json` / `-f64.json` when given, so a peer (orjson) can be measured on the
/// same bytes.
func runWireBenchmark(payloadPrefix: String? = nil, count: Int = 1_000_000, repetitions: Int = 7) {
    var rng = WireBenchRandom(state: 42)
    let doubles: [Double] = (0..<count).map { _ in Double(rng.next() >> 11) * 0x1p-53 * 2 - 1 }
    let floats = doubles.map { Float($0) }
    measure("f32", floats, payloadPrefix: payloadPrefix, repetitions: repetitions,
            write: { w, v in v.withUnsafeBufferPointer { w.writeFloats($0) } },
            read: { (a) throws(WireError) in try a.floats() })
    measure("f64", doubles, payloadPrefix: payloadPrefix, repetitions: repetitions,
            write: { w, v in v.withUnsafeBufferPointer { w.writeDoubles($0) } },
            read: { $0.values })
}

private func measure<T: Equatable>(_ name: String, _ values: [T], payloadPrefix: String?, repetitions: Int,
                                   write: (inout JSONWriter, [T]) -> Void,
                                   read: (NumericArray) throws(WireError) -> [T]) {
    let dtype = name == "f32" ? "float32" : "float64"
    func encode() -> [UInt8] {
        var w = JSONWriter(capacity: values.count * 20 + 64)
        w.writeRaw("{\"shape\":[")
        w.write(.int(values.count))
        w.writeRaw("],\"dtype\":")
        w.writeString(dtype)
        w.writeRaw(",\"data\":")
        write(&w, values)
        w.writeRaw("}")
        return w.bytes
    }
    let payload = encode()
    func decode() -> [T] {
        do {
            guard case .numbers(let data)? = try JSONParser.parse(payload)["data"] else {
                fatalError("wire bench: data did not take the numeric fast path")
            }
            return try read(data)
        } catch {
            fatalError("wire bench: \(error)")
        }
    }
    guard decode() == values else { fatalError("wire bench: decoded \(name) values differ from the encoded ones") }
    let encodeMs = bestOf(repetitions) { _ = encode() }
    let decodeMs = bestOf(repetitions) { _ = decode() }
    print("wire.json.encode_\(name)_1M_ms \(format(encodeMs)) bytes=\(payload.count)")
    print("wire.json.decode_\(name)_1M_ms \(format(decodeMs))")
    if let payloadPrefix, let f = fopen("\(payloadPrefix)-\(name).json", "wb") {
        _ = payload.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }
}

private func bestOf(_ n: Int, _ body: () -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<n {
        var t0 = timespec(), t1 = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0)
        body()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1)
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
