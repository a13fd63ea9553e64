import HTTP

/// Fuzzes ``RequestParser``. Input format (shared with `Tests/HTTPTests` replay and `Fuzz/Corpus/http`):
/// byte 0 bit 7 selects tiny limits (to reach every limit path), bits 0-6 pick a split point;
/// the remaining bytes are the stream a client sent. Properties: no crash or hang, and the
/// events and error are the same whether the stream arrives whole, in two pieces or byte by byte.
enum HTTPHarness {
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

    static func run(_ data: UnsafeRawBufferPointer) throws(PropertyFailure) {
        guard let control = data.first else { return }
        let input = Array(data.dropFirst())
        let parser = RequestParser(limits: control & 0x80 != 0 ? tinyLimits : ParserLimits())
        let whole = try feed(input, pieces: [0..<input.count], parser: parser)
        let offset = Int(control & 0x7F) % (input.count + 1)
        let split = try feed(input, pieces: [0..<offset, offset..<input.count], parser: parser)
        try require(split == whole, "split at \(offset) gives \(split), whole gives \(whole)")
        if input.count <= 4096 {
            let single = try feed(input, pieces: input.indices.map { $0..<($0 + 1) }, parser: parser)
            try require(single == whole, "byte by byte gives \(single), whole gives \(whole)")
        }
    }

    static let router = Router<Int>([
        ("GET", "/v1/sessions/{sid}", 0), ("GET", "/v1/sessions/{sid}/arrays/{aid}", 1),
        ("POST", "/v1/sessions/{sid}/arrays/special", 2), ("GET", "/", 3),
    ])

    /// Routing a parsed request must never crash, whatever its path.
    static func route(_ request: HTTPRequest) -> String {
        switch router.match(method: request.method, path: request.rawPath) {
        case .found(let route, let parameters): "found \(route) \(parameters.sorted { $0.key < $1.key })"
        case .notFound: "404"
        case .methodNotAllowed(let allow): "405 \(allow)"
        case .invalidPath: "400"
        }
    }

    /// Feeds the pieces the way a server does (unconsumed bytes are passed again) and
    /// describes every event and the error.
    static func feed(_ input: [UInt8], pieces: [Range<Int>], parser: RequestParser) throws(PropertyFailure) -> [String] {
        var parser = parser
        var buffer: [UInt8] = []
        var events: [String] = []
        for piece in pieces {
            buffer += input[piece]
            while true {
                let event: ParserEvent
                do {
                    event = try buffer.withUnsafeBytes { try parser.parse($0) }
                } catch {
                    return events + ["error \(error)"]
                }
                switch event {
                case .needMoreData(let consumed):
                    try require(consumed <= buffer.count, "consumed more than given")
                    buffer.removeFirst(consumed)
                case .head(let head, let consumed):
                    events.append("head \(head.method) \(head.target) \(head.headers.count)")
                    buffer.removeFirst(consumed)
                    continue
                case .message(let request, let consumed):
                    let headers = request.headers.map { "\($0.name)=\($0.value)" }
                    events.append("message \(request.method) \(request.target) \(request.path) \(headers) \(request.body)"
                                  + " \(request.keepAlive) \(route(request)) \(Compression.acceptsGzip(request.headers["Accept-Encoding"]))")
                    buffer.removeFirst(consumed)
                    if !buffer.isEmpty { continue }
                }
                break
            }
        }
        return events
    }
}
