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
        /// The path cannot be decoded: bad percent-encoding, NUL, invalid UTF-8 or a `.`/`..` segment (400).
        case invalidPath
    }

    @usableFromInline let tree: RouteTree
    @usableFromInline let routes: [Route]

    /// Builds the router. Patterns start with `/`; a segment `{name}` captures one path segment.
    /// A duplicate (method, pattern) or two parameter names at one position is a programmer error.
    public init(_ routes: [(method: String, pattern: String, route: Route)]) {
        var tree = RouteTree()
        for (index, route) in routes.enumerated() {
            tree.insert(method: route.method, pattern: route.pattern, route: index)
        }
        self.tree = tree
        self.routes = routes.map(\.route)
    }

    /// Finds the route for `method` and a raw, still percent-encoded `path` (``HTTPRequest/rawPath``).
    /// Each segment is percent-decoded after splitting, so `%2F` stays inside its segment.
    @inlinable
    public func match(method: String, path: Substring) -> Match {
        switch tree.lookup(method: method, path: path) {
        case .found(let index, let parameters): .found(routes[index], parameters)
        case .notFound: .notFound
        case .methodNotAllowed(let allow): .methodNotAllowed(allow: allow)
        case .invalidPath: .invalidPath
        }
    }

    /// Convenience for a `String` path.
    @inlinable
    public func match(method: String, path: String) -> Match {
        match(method: method, path: path[...])
    }
}

/// The non-generic matching core of ``Router``: a segment tree over route indices, so matching
/// runs specialised code whatever the `Route` type is.
@usableFromInline
struct RouteTree: Sendable {
    @usableFromInline
    enum Lookup {
        case found(Int, [String: String])
        case notFound
        case methodNotAllowed([String])
        case invalidPath
    }

    private struct Node: Sendable {
        var statics: [(segment: [UInt8], node: Int)] = []
        var parameter: (name: String, node: Int)?
        var methods: [(method: String, route: Int)] = []
    }

    private var nodes = [Node()]

    init() {}

    mutating func insert(method: String, pattern: String, route: Int) {
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
            } else if let next = nodes[node].statics.first(where: { $0.segment.elementsEqual(segment.utf8) })?.node {
                node = next
            } else {
                nodes.append(Node())
                nodes[node].statics.append((Array(segment.utf8), nodes.count - 1))
                node = nodes.count - 1
            }
        }
        precondition(!nodes[node].methods.contains { $0.method == method }, "duplicate route \(method) \(pattern)")
        nodes[node].methods.append((method, route))
    }

    @usableFromInline
    func lookup(method: String, path: Substring) -> Lookup {
        if let result = path.utf8.withContiguousStorageIfAvailable({ lookup(method: method, raw: $0) }) {
            return result
        }
        return Array(path.utf8).withUnsafeBufferPointer { lookup(method: method, raw: $0) }
    }

    private func lookup(method: String, raw: UnsafeBufferPointer<UInt8>) -> Lookup {
        guard raw.first == UInt8(ascii: "/") else { return .invalidPath }
        if raw.contains(UInt8(ascii: "%")) {
            // Decode segment by segment, so that %2F stays inside its segment. Segments are joined
            // with 0xFF, a byte that valid UTF-8 (checked per segment) never contains.
            var decoded: [UInt8] = [UInt8(ascii: "/")]
            decoded.reserveCapacity(raw.count)
            for (index, segment) in raw.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).enumerated() {
                guard let bytes = RequestTarget.percentDecode(segment, plusAsSpace: false),
                      String(validating: bytes, as: UTF8.self) != nil else { return .invalidPath }
                if index > 0 { decoded.append(0xFF) }
                decoded += bytes
            }
            return decoded.withUnsafeBufferPointer { lookup(method: method, segmentsIn: $0, separator: 0xFF) }
        }
        return lookup(method: method, segmentsIn: raw, separator: UInt8(ascii: "/"))
    }

    /// `bytes` is `/` followed by segments split by `separator`.
    private func lookup(method: String, segmentsIn bytes: UnsafeBufferPointer<UInt8>, separator: UInt8) -> Lookup {
        var segments: [Range<Int>] = []
        segments.reserveCapacity(8)
        var start = 1
        for index in 1...bytes.count where index == bytes.count || bytes[index] == separator {
            let segment = start..<index
            // RFC 3986 §3.3: dot segments would let a path escape its prefix; NUL is never a name.
            let length = segment.count
            if (length == 1 || length == 2) && bytes[segment].allSatisfy({ $0 == UInt8(ascii: ".") }) { return .invalidPath }
            if bytes[segment].contains(0) { return .invalidPath }
            segments.append(segment)
            start = index + 1
        }
        var captured: [(name: String, range: Range<Int>)] = []
        if let route = find(method, node: 0, bytes, segments, 0, &captured) {
            var parameters: [String: String] = [:]
            for (name, range) in captured {
                parameters[name] = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            }
            return .found(route, parameters)
        }
        var allow: Set<String> = []
        collectMethods(node: 0, bytes, segments, 0, &allow)
        guard !allow.isEmpty else { return .notFound }
        if allow.contains("GET") { allow.insert("HEAD") }
        return .methodNotAllowed(allow.sorted())
    }

    /// Depth-first with static children before the parameter child, so the most specific
    /// pattern that has `method` (or GET for HEAD) wins.
    private func find(_ method: String, node: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ segments: [Range<Int>],
                      _ index: Int, _ captured: inout [(name: String, range: Range<Int>)]) -> Int? {
        guard index < segments.count else {
            let methods = nodes[node].methods
            if let route = methods.first(where: { $0.method == method })?.route { return route }
            return method == "HEAD" ? methods.first(where: { $0.method == "GET" })?.route : nil
        }
        let segment = UnsafeBufferPointer(rebasing: bytes[segments[index]])
        if let next = nodes[node].statics.first(where: { $0.segment.elementsEqual(segment) })?.node,
           let route = find(method, node: next, bytes, segments, index + 1, &captured) {
            return route
        }
        if let parameter = nodes[node].parameter, !segment.isEmpty {
            captured.append((parameter.name, segments[index]))
            if let route = find(method, node: parameter.node, bytes, segments, index + 1, &captured) { return route }
            captured.removeLast()
        }
        return nil
    }

    /// The methods of every pattern matching the path (for 404 versus 405 and `Allow`).
    private func collectMethods(node: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ segments: [Range<Int>],
                                _ index: Int, _ allow: inout Set<String>) {
        guard index < segments.count else {
            allow.formUnion(nodes[node].methods.map(\.method))
            return
        }
        let segment = UnsafeBufferPointer(rebasing: bytes[segments[index]])
        if let next = nodes[node].statics.first(where: { $0.segment.elementsEqual(segment) })?.node {
            collectMethods(node: next, bytes, segments, index + 1, &allow)
        }
        if let parameter = nodes[node].parameter, !segment.isEmpty {
            collectMethods(node: parameter.node, bytes, segments, index + 1, &allow)
        }
    }
}
