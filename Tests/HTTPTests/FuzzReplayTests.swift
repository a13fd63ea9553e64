import Foundation
import Testing
@testable import HTTP

/// Replays `Fuzz/Corpus/http` and `Fuzz/Regressions/http` with the fuzz property: no crash, and the
/// same events and error whether fed whole, byte by byte or split anywhere (format: Fuzz/README.md).
@Suite("Fuzz corpus and regressions")
struct FuzzReplayTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func inputs(_ folder: String) -> [String] {
        let directory = repository.appendingPathComponent("Fuzz/\(folder)/http")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(folder)/http/\($0)" }
    }

    static let tinyLimits: ParserLimits = {
        var limits = ParserLimits()
        limits.maxRequestLineLength = 64
        limits.maxHeaderBytes = 160
        limits.maxHeaderCount = 4
        limits.maxBodyBytes = 64
        limits.maxChunkExtensionLength = 8
        limits.maxDecompressedBodyBytes = 128
        return limits
    }()

    @Test("the corpus has seeds")
    func corpusExists() {
        #expect(Self.inputs("Corpus").count >= 10)
    }

    @Test("each input keeps the fuzz property", arguments: inputs("Corpus") + inputs("Regressions"))
    func replay(_ name: String) throws {
        let data = try Data(contentsOf: Self.repository.appendingPathComponent("Fuzz/\(name)"))
        guard let control = data.first else { return }
        let parser = RequestParser(limits: control & 0x80 != 0 ? Self.tinyLimits : ParserLimits())
        _ = SplitFeed.consistent(Array(data.dropFirst()), parser: parser)
    }
}
