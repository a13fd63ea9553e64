import Foundation
import Testing
@testable import Fuzz

/// Replays every file of `Fuzz/Corpus/<harness>` and `Fuzz/Regressions/<harness>` through the
/// same harness (same decode paths, same properties) the fuzzer runs, so a fixed crasher stays
/// fixed in every `swift test`, without the sanitizer build.
@Suite("Fuzz corpora and regressions")
struct FuzzReplayTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func entries(_ path: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fuzzDirectory.appendingPathComponent(path).path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    /// `<folder>/<harness>/<file>` for every input in `Fuzz/<folder>`.
    static func inputs(_ folder: String) -> [String] {
        entries(folder).flatMap { harness in entries("\(folder)/\(harness)").map { "\(folder)/\(harness)/\($0)" } }
    }

    @Test("every harness has seeds, and every folder names a harness")
    func layout() {
        for harness in harnesses.keys {
            #expect(Self.entries("Corpus/\(harness)").count >= 5, "Fuzz/Corpus/\(harness) needs seeds")
        }
        for folder in ["Corpus", "Regressions"] {
            for name in Self.entries(folder) {
                #expect(harnesses[name] != nil, "Fuzz/\(folder)/\(name) names no harness")
            }
        }
    }

    @Test("each input keeps its harness's properties", arguments: inputs("Regressions") + inputs("Corpus"))
    func replay(_ path: String) throws {
        let harnessName = String(path.split(separator: "/")[1])
        let harness = try #require(harnesses[harnessName])
        let bytes = [UInt8](try Data(contentsOf: Self.fuzzDirectory.appendingPathComponent(path)))
        let broken = failure(of: harness, on: bytes)
        #expect(broken == nil, "\(path): \(broken?.message ?? "")")
    }
}
