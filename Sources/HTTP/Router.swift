/// Maps (method, path) to a route value, built once from patterns such as
/// `/v1/sessions/{sid}/arrays/{aid}` and immutable afterwards.
///
/// Static segments win over `{param}` segments at the same position. HEAD falls back to GET
/// (RFC 9110 §9.3.2). A path that exists under other methods gives ``Match/methodNotAllowed(allow:)``
/// with the `Allow` list (RFC 9110 §15.5.6).
///
/// ```swift
/// let router = Router<String>([("GET", "/v1/sessions/{sid}", "getSession")])
/// router.match(method: "GET", path: "/v1/sessions/s1")   // .found("getSession", ["sid": "s1"])
/// ```
public struct Router<Route: Sendable>: Sendable {
    /// The result of ``match(method:path:)``.
    public enum Match {
        /// A route and its decoded `{param}` values.
        case found(Route, [String: String])
        /// No pattern matches the path (404).
        case notFound
        /// The path matches, but not for this method (405); `allow` lists the methods that do.
        case methodNotAllowed(allow: [String])
        /// The path cannot be decoded: bad percent-encoding, NUL, invalid UTF-8, or a `.`/`..` segment (400).
        case invalidPath
    }

    private struct Node: Sendable {
        var statics: [String: Int] = [:]
        var parameter: (name: String, node: Int)?
        var routes: [String: Route] = [:]
    }

    private var nodes = [Node()]

    /// Builds the router. Patterns start with `/`; a segment `{name}` captures one path segment.
    /// A duplicate (method, pattern) or two parameter names at one position is a programmer error.
    public init(_ routes: [(method: String, pattern: String, route: Route)]) {
        for (method, pattern, route) in routes {
            precondition(pattern.hasPrefix("/"), "route pattern must start with /: \(pattern)")
            var node = 0
            for segment in pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
                if segment.hasPrefix("{") && segment.hasSuffix("}") && segment.count > 2 {
                    let name = String(segment.dropFirst().dropLast())
                    if let existing = nodes[node].parameter {
                        precondition(existing.name == name, "conflicting parameter names {\(existing.name)} and {\(name)} in \(pattern)")
                        node = existing.node
                    } else {
                        nodes.append(Node())
                        nodes[node].parameter = (name, nodes.count - 1)
                        node = nodes.count - 1
                    }
                } else if let next = nodes[node].statics[String(segment)] {
                    node = next
                } else {
                    nodes.append(Node())
                    nodes[node].statics[String(segment)] = nodes.count - 1
                    node = nodes.count - 1
                }
            }
            precondition(nodes[node].routes[method] == nil, "duplicate route \(method) \(pattern)")
            nodes[node].routes[method] = route
        }
    }

    /// Finds the route for `method` and a raw, still percent-encoded `path` (``HTTPRequest/rawPath``).
    /// Each segment is percent-decoded after splitting, so `%2F` stays inside its segment.
    public func match(method: String, path: Substring) -> Match {
        guard path.hasPrefix("/") else { return .invalidPath }
        var segments: [String] = []
        for raw in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst() {
            guard let bytes = RequestTarget.percentDecode(raw, plusAsSpace: false), !bytes.contains(0),
                  let segment = String(validating: bytes, as: UTF8.self),
                  segment != ".", segment != ".."
            else { return .invalidPath }
            segments.append(segment)
        }
        var terminals: [(node: Int, parameters: [(String, String)])] = []
        collect(node: 0, segments: segments[...], parameters: [], into: &terminals)
        guard !terminals.isEmpty else { return .notFound }
        for terminal in terminals {
            let routes = nodes[terminal.node].routes
            if let route = routes[method] ?? (method == "HEAD" ? routes["GET"] : nil) {
                return .found(route, Dictionary(terminal.parameters, uniquingKeysWith: { first, _ in first }))
            }
        }
        var allow = Set<String>()
        for terminal in terminals {
            allow.formUnion(nodes[terminal.node].routes.keys)
        }
        if allow.contains("GET") { allow.insert("HEAD") }
        return .methodNotAllowed(allow: allow.sorted())
    }

    /// Convenience for a `String` path.
    public func match(method: String, path: String) -> Match {
        match(method: method, path: path[...])
    }

    /// Depth-first, static children before the parameter child, so the first terminal is the most specific.
    private func collect(node: Int, segments: ArraySlice<String>, parameters: [(String, String)],
                         into terminals: inout [(node: Int, parameters: [(String, String)])]) {
        guard let segment = segments.first else {
            if !nodes[node].routes.isEmpty { terminals.append((node, parameters)) }
            return
        }
        let rest = segments.dropFirst()
        if let next = nodes[node].statics[segment] {
            collect(node: next, segments: rest, parameters: parameters, into: &terminals)
        }
        if let parameter = nodes[node].parameter, !segment.isEmpty {
            collect(node: parameter.node, segments: rest, parameters: parameters + [(parameter.name, segment)], into: &terminals)
        }
    }
}
