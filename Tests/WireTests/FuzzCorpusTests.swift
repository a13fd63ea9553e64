import Foundation
import Testing
@testable import Wire

/// Files of a fuzz corpus or regression directory (Fuzz/<kind>/<format>), relative to this source file.
private func fuzzFiles(_ kind: String, _ format: String) -> [(String, [UInt8])] {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/\(kind)/\(format)")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return names.filter { !$0.hasPrefix(".") }.sorted().map { name in
        (name, [UInt8](FileManager.default.contents(atPath: dir.appendingPathComponent(name).path) ?? Data()))
    }
}

@Test func jsonCorpusAndRegressionsDecodeOrFailCleanly() throws {
    let corpus = fuzzFiles("Corpus", "json")
    #expect(corpus.count >= 8)
    for (name, bytes) in corpus + fuzzFiles("Regressions", "json") {
        // Every seed is valid JSON and round-trips; regressions only need to not crash.
        guard let value = try? JSONParser.parse(bytes) else {
            #expect(!corpus.contains { $0.0 == name }, "seed \(name) does not parse")
            continue
        }
        #expect(try JSONParser.parse(JSONWriter.encode(value)) == value, "\(name)")
    }
}

@Test func npyCorpusAndRegressionsDecodeOrFailCleanly() throws {
    let corpus = fuzzFiles("Corpus", "npy")
    #expect(corpus.count >= 8)
    var decoded = 0
    for (name, bytes) in corpus + fuzzFiles("Regressions", "npy") {
        if let a = try? NPY.decode(bytes, maxElements: 1 << 20) {
            #expect(try NPY.decode(NPY.encode(a), maxElements: 1 << 20) == a, "\(name)")
            decoded += 1
        }
        if let members = try? NPZ.decode(bytes, maxElements: 1 << 20) {
            #expect(try NPZ.decode(try NPZ.encode(members), maxElements: 1 << 20) == members, "\(name)")
            decoded += 1
        }
    }
    // The bool and big-endian seeds are rejections; all others decode.
    #expect(decoded == corpus.count - 2)
}
