import Foundation

/// Runs python3 with numpy for cross-checks against the reference implementation.
enum Python {
    /// Whether `python3` with numpy can be run here (tests that need it are skipped otherwise).
    static let hasNumpy: Bool = (try? run("import numpy", arguments: [])) != nil

    /// Runs `script` with `arguments` (as `sys.argv[1:]`); returns stdout, or throws with stderr on failure.
    static func run(_ script: String, arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonError(message: String(decoding: stderr, as: UTF8.self))
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    struct PythonError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("wiretests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
