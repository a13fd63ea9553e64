/// A broken fuzz property: the input is a finding (the fuzz driver traps, tests fail).
struct PropertyFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Fails the current input with `message` unless `condition` holds.
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(PropertyFailure) {
    if !condition { throw PropertyFailure(message: message()) }
}

/// A harness takes one input; bad input must end in the decoder's typed error, and a broken
/// property throws ``PropertyFailure``.
typealias Harness = @Sendable (UnsafeRawBufferPointer) throws(PropertyFailure) -> Void

/// Every harness by name: `Fuzz <name>`, `Fuzz/Corpus/<name>`, `Fuzz/Regressions/<name>`.
/// (Here, not in main.swift, so the replay tests can use it: main.swift's globals only exist
/// once its top-level code has run.)
let harnesses: [String: Harness] = [
    "http": HTTPHarness.run,
    "json": JSONHarness.run,
    "npy": NPYHarness.run,
    "program": ProgramHarness.run,
]

/// Runs `harness` on `bytes`: nil when every property holds.
func failure(of harness: Harness, on bytes: [UInt8]) -> PropertyFailure? {
    bytes.withUnsafeBytes { raw -> PropertyFailure? in
        do throws(PropertyFailure) {
            try harness(raw)
            return nil
        } catch {
            return error
        }
    }
}
