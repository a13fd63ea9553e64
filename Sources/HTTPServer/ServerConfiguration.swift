import Glibc
public import HTTP

/// Everything the server needs to know, as one value. Defaults suit a JSON microservice behind
/// or in front of a proxy (`http-server.md` §2).
public struct ServerConfiguration: Sendable {
    /// IPv4 or IPv6 literal to listen on ("localhost" means 127.0.0.1).
    public var host: String = "127.0.0.1"
    /// TCP port; 0 picks an ephemeral port (see ``Server/port``).
    public var port: Int = 8080
    /// The listen(2) backlog of each loop's listener.
    public var backlog: Int32 = 1024
    /// Connections beyond this are accepted and closed at once.
    public var maxConnections: Int = 10_000
    /// Request parsing limits (line, headers, body, decompressed body).
    public var limits: ParserLimits = ParserLimits()
    /// Header, body-gap, write-stall, keep-alive and linger timeouts.
    public var timeouts: ServerTimeouts = ServerTimeouts()
    /// Response gzip policy (threshold `minimumSize`, level, compressible media types), applied
    /// when the client accepts gzip; `nil` disables response compression.
    public var compression: Compression.Policy? = Compression.Policy()
    /// PEM certificate chain and private key; both set means HTTPS (TLS 1.2+).
    public var tlsCertificatePath: String?
    public var tlsPrivateKeyPath: String?
    /// Event loops (threads), each with its own `SO_REUSEPORT` listener. Default: one per core.
    public var workers: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// The `Server` header value.
    public var serverName: String = "tensord"

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}
