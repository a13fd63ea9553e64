/// Size limits the ``RequestParser`` enforces, with the status each one produces.
/// Defaults follow `http-server.md` §2 (nginx's limits, scaled for a JSON microservice).
public struct ParserLimits: Sendable, Equatable {
    /// Longest request line, CRLF included; longer gives 414 (RFC 9112 §3 asks for at least 8000). Default 8 KiB.
    public var maxRequestLineLength: Int = 8 * 1024
    /// Largest header block (request line, fields and the empty line); larger gives 431. Default 32 KiB.
    /// Trailers of a chunked body get the same budget of their own.
    public var maxHeaderBytes: Int = 32 * 1024
    /// Most header fields (and, separately, trailer fields); more gives 431. Default 100.
    public var maxHeaderCount: Int = 100
    /// Largest body on the wire (Content-Length or de-chunked total); larger gives 413. Default 1 MiB.
    public var maxBodyBytes: Int = 1024 * 1024
    /// Longest extension part of one chunk-size line; longer gives 400. Default 256 bytes.
    public var maxChunkExtensionLength: Int = 256
    /// Largest body after `Content-Encoding: gzip` is undone; larger gives 413. Default 8 MiB.
    public var maxDecompressedBodyBytes: Int = 8 * 1024 * 1024

    /// The defaults above.
    public init() {}
}
