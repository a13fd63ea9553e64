import HTTP

/// Content negotiation: what a request body is (`Content-Type`, npy magic) and what the client
/// accepts (`Accept`).
enum Negotiation {
    enum BodyKind: Equatable {
        case json
        case npy
        case unsupported(String)
    }

    enum TensorFormat { case json, npy }

    enum GraphFormat { case json, svg, dot }

    /// The media type without parameters, lower-cased.
    static func mediaType(_ value: String) -> String {
        let base = value.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        return base.trimmingSpaces().lowercased()
    }

    /// Classifies a request body. A missing `Content-Type` means JSON (what curl users expect).
    static func bodyKind(_ request: HTTPRequest) -> BodyKind {
        guard let header = request.headers["Content-Type"] else { return .json }
        let type = mediaType(header)
        switch type {
        case "application/json", "text/json": return .json
        // octet-stream is read as .npy: a body without the npy magic is a malformed body (400).
        case "application/x-npy", "application/octet-stream": return .npy
        default:
            return type.hasSuffix("+json") ? .json : .unsupported(type)
        }
    }

    static func unsupportedMediaType(_ type: String, accepted: String) -> APIError {
        APIError(.unsupportedMediaType, "Content-Type '\(type)' is not accepted here; send \(accepted).",
                 ["actual": .string(type), "expected": .string(accepted)])
    }

    /// The media ranges of `Accept`, lower-cased and without parameters: those accepted in order,
    /// and those refused with `q=0`.
    static func acceptedRanges(_ request: HTTPRequest) -> (accepted: [String], refused: Set<String>)? {
        let values = request.headers.values("Accept")
        guard !values.isEmpty else { return nil }
        var ranges: [String] = []
        var refusedRanges = Set<String>()
        for value in values {
            for item in value.split(separator: ",") {
                let parts = item.split(separator: ";").map { String($0).trimmingSpaces().lowercased() }
                guard let range = parts.first, !range.isEmpty else { continue }
                let refused = parts.dropFirst().contains { parameter in
                    let compact = parameter.replacingSpaces()
                    return compact.hasPrefix("q=") && Double(compact.dropFirst(2)) == 0
                }
                if refused { refusedRanges.insert(range) } else { ranges.append(range) }
            }
        }
        return (ranges, refusedRanges)
    }

    /// The first of `offered` media types the client accepts (in the client's order of ranges);
    /// the first offered one when there is no `Accept`; nil when nothing matches.
    static func choose(_ request: HTTPRequest, offered: [String]) -> String? {
        // The usual `Accept` of a client, one offered type or `*/*`, without parsing (per request).
        if let only = request.headers["Accept"], request.headers.values("Accept").count == 1 {
            if only == "*/*" { return offered.first }
            if offered.contains(only) { return only }
        }
        guard let (ranges, refused) = acceptedRanges(request) else { return offered.first }
        let candidates = offered.filter { !refused.contains($0) }
        for range in ranges {
            if range == "*/*" { return candidates.first }
            if range.hasSuffix("/*") {
                let prefix = range.dropLast(1)
                if let match = candidates.first(where: { $0.hasPrefix(prefix) }) { return match }
            } else if let match = candidates.first(where: { $0 == range }) {
                return match
            }
        }
        return nil
    }

    static func notAcceptable(_ offered: [String]) -> APIError {
        APIError(.notAcceptable, "This resource is available as \(offered.joined(separator: ", ")); the Accept header allows none of them.",
                 ["expected": .strings(offered)])
    }

    /// Checks that a JSON-only resource is acceptable.
    static func requireJSON(_ request: HTTPRequest) throws(APIError) {
        let offered = ["application/json", "application/problem+json"]
        guard choose(request, offered: offered) != nil else { throw notAcceptable(["application/json"]) }
    }

    static func tensorFormat(_ request: HTTPRequest) throws(APIError) -> TensorFormat {
        let offered = ["application/json", "application/x-npy", "application/octet-stream"]
        guard let type = choose(request, offered: offered) else { throw notAcceptable(offered) }
        return type == "application/json" ? .json : .npy
    }

    /// `?format=svg|dot|json` wins over `Accept`.
    static func graphFormat(_ request: HTTPRequest, format: String?) throws(APIError) -> GraphFormat {
        if let format {
            switch format {
            case "json": return .json
            case "svg": return .svg
            case "dot": return .dot
            default: throw APIError(.invalidArgument, "Query parameter 'format' must be json, svg or dot.")
            }
        }
        let offered = ["application/json", "image/svg+xml", "text/vnd.graphviz"]
        guard let type = choose(request, offered: offered) else { throw notAcceptable(offered) }
        return switch type {
        case "image/svg+xml": .svg
        case "text/vnd.graphviz": .dot
        default: .json
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while scalars.first == " " || scalars.first == "\t" { scalars.removeFirst() }
        while scalars.last == " " || scalars.last == "\t" { scalars.removeLast() }
        return String(scalars)
    }

    func replacingSpaces() -> String { filter { $0 != " " && $0 != "\t" } }
}
