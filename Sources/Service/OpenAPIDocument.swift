import Foundation

/// Finds and reads the OpenAPI document served at `/openapi.yaml`.
///
/// Looked for, in order: the configured path (`--openapi`, `TENSORD_OPENAPI`); `openapi.yaml`
/// next to the executable and in up to four of its parent directories (so a binary under
/// `.build/<config>/` finds the repo's copy); `openapi.yaml` in the working directory.
enum OpenAPIDocument {
    static func load(path: String?) -> [UInt8]? {
        for candidate in candidates(configured: path) {
            if let data = FileManager.default.contents(atPath: candidate) { return [UInt8](data) }
        }
        return nil
    }

    static func candidates(configured: String?) -> [String] {
        if let configured { return [configured] }
        var paths: [String] = []
        var directory = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            paths.append(directory.appendingPathComponent("openapi.yaml").path)
            directory = directory.deletingLastPathComponent()
        }
        paths.append(FileManager.default.currentDirectoryPath + "/openapi.yaml")
        return paths
    }
}
