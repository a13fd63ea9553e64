// libFuzzer entry for every harness, selected by name: `Fuzz <harness> [libFuzzer options] [corpus dirs]`
// or the FUZZ_HARNESS environment variable (default "http").
//
// Built with `-Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING` this runs libFuzzer. SwiftPM links
// executables with its own `main`, so libFuzzer's `main` never runs: top-level code calls
// `LLVMFuzzerRunDriver` instead, and `LLVMFuzzerTestOneInput` is still exported because libFuzzer's
// archive references it (docs: architecture.md §4.8). A plain build replays files through a harness,
// which is how a crasher is debugged without the sanitizers.
#if canImport(Glibc)
import Glibc
#endif

var arguments = CommandLine.arguments
var harnessName = getenv("FUZZ_HARNESS").map { String(cString: $0) } ?? "http"
if arguments.count > 1, harnesses[arguments[1]] != nil {
    harnessName = arguments.remove(at: 1)
}
guard let harness = harnesses[harnessName] else {
    print("Fuzz: unknown harness \(harnessName); known: \(harnesses.keys.sorted().joined(separator: ", "))")
    exit(2)
}

#if FUZZING
nonisolated(unsafe) var selectedHarness: Harness = harness

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    do {
        try selectedHarness(UnsafeRawBufferPointer(start: data, count: size))
    } catch {
        fatalError("fuzz property broken: \(error)")
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
var argc = Int32(arguments.count)
let status = cArguments.withUnsafeMutableBufferPointer { buffer in
    var argv = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzTestOneInput)
}
exit(status)
#else
// Replay mode: run the harness on each file given (a crasher or a corpus entry).
let files = arguments.dropFirst()
if files.isEmpty {
    print("usage: Fuzz [\(harnesses.keys.sorted().joined(separator: "|"))] FILE...   (replays inputs)")
    print("fuzzing needs: swift build --product Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --build-path .build-fuzz")
    exit(0)
}
for path in files {
    guard let file = fopen(path, "rb") else {
        print("cannot open \(path)")
        exit(1)
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    fclose(file)
    if let failure = failure(of: harness, on: bytes) {
        print("FAILED \(path): \(failure)")
        exit(1)
    }
    print("ok \(path)")
}
#endif
