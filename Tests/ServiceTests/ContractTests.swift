import Foundation
import Testing
@testable import Service

/// The route table and openapi.yaml describe the same API.
@Suite struct ContractTests {
    static let specPath = TestClient.repoRoot + "/openapi.yaml"

    /// `(METHOD, path)` pairs of the spec's `paths:` section, by a line scan (no YAML parser):
    /// paths are the keys indented by two spaces, operations the HTTP methods indented by four.
    static func specOperations(_ text: String) -> Set<String> {
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]
        var operations = Set<String>()
        var inPaths = false
        var currentPath: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if !line.hasPrefix(" "), !line.hasPrefix("#"), !line.isEmpty {
                inPaths = line.hasPrefix("paths:")
                currentPath = nil
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   "), let colon = line.lastIndex(of: ":") {
                currentPath = String(line[line.index(line.startIndex, offsetBy: 2)..<colon]).trimmingCharacters(in: .whitespaces)
            } else if let path = currentPath, line.hasPrefix("    "), !line.hasPrefix("     "),
                      let colon = line.firstIndex(of: ":") {
                let key = String(line[line.index(line.startIndex, offsetBy: 4)..<colon])
                if methods.contains(key) { operations.insert("\(key.uppercased()) \(path)") }
            }
        }
        return operations
    }

    @Test func scannerReadsPathsAndMethods() {
        let yaml = """
            openapi: 3.1.0
            paths:
              /a/{id}:
                parameters: []
                get:
                  summary: x
                delete: {}
              /b:
                post:
                  responses: {}
            components:
              schemas:
                get: {}
            """
        #expect(Self.specOperations(yaml) == ["GET /a/{id}", "DELETE /a/{id}", "POST /b"])
    }

    @Test func everyRouteIsSpecifiedAndEverySpecifiedPathIsServed() throws {
        guard let text = try? String(contentsOfFile: Self.specPath, encoding: .utf8) else {
            print("ContractTests: SKIPPED, \(Self.specPath) does not exist yet")
            return
        }
        let spec = Self.specOperations(text)
        let served = Set(Service.routeTable.map { "\($0.method) \($0.path)" })
        #expect(!spec.isEmpty)
        #expect(served.subtracting(spec).sorted() == [], "routes missing from openapi.yaml")
        #expect(spec.subtracting(served).sorted() == [], "operations in openapi.yaml the service does not serve")
    }
}
