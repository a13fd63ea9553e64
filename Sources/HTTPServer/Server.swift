import Dispatch
import Glibc
public import HTTP
import Synchronization

/// State shared by all loops of one server: read-only configuration plus the connection count.
final class ServerContext: Sendable {
    let configuration: ServerConfiguration
    let handler: any HTTPHandler
    let tls: TLSContext?
    /// The response serialiser, with the configured `Server` name pre-encoded.
    let writer: ResponseWriter
    /// Bodies below this size are never compressed (checked before any header lookup).
    let compressionMinimum: Int
    private let openConnections = Atomic<Int>(0)

    init(configuration: ServerConfiguration, handler: any HTTPHandler, tls: TLSContext?) {
        self.configuration = configuration
        self.handler = handler
        self.tls = tls
        writer = ResponseWriter(serverName: configuration.serverName)
        compressionMinimum = configuration.compression?.minimumSize ?? Int.max
    }

    /// Counts a new connection; false when the cap is reached (the caller closes it).
    func connectionOpened() -> Bool {
        let after = openConnections.add(1, ordering: .relaxed).newValue
        if after > configuration.maxConnections {
            openConnections.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func connectionClosed() { openConnections.subtract(1, ordering: .relaxed) }

    var connectionCount: Int { openConnections.load(ordering: .relaxed) }
}

/// The HTTP/1.1 server: one epoll loop per worker, each on its own Dispatch queue.
///
/// ```swift
/// let server = try Server(configuration: config, handler: service)
/// try server.run()            // blocks; SIGTERM/SIGINT drain gracefully, then it returns
/// ```
/// Or `start()`, later `shutdown(deadline:)` and `wait()` (what the tests do).
public final class Server: Sendable {
    private let context: ServerContext
    private let state = Mutex<(loops: [EventLoop], port: Int?, signals: [any DispatchSourceSignal])>(([], nil, []))
    private let stopped = DispatchGroup()

    /// Validates the configuration and loads the TLS certificate (if configured). Nothing binds yet.
    public init(configuration: ServerConfiguration, handler: any HTTPHandler) throws(SocketError) {
        var tls: TLSContext?
        switch (configuration.tlsCertificatePath, configuration.tlsPrivateKeyPath) {
        case (let cert?, let key?): tls = try TLSContext(certificatePath: cert, privateKeyPath: key)
        case (nil, nil): tls = nil
        default: throw SocketError.tls("both a certificate and a private key path are needed")
        }
        context = ServerContext(configuration: configuration, handler: handler, tls: tls)
    }

    /// The bound port once started (the ephemeral one when the configuration said 0).
    public var port: Int? { state.withLock { $0.port } }

    /// Open connections right now, across all loops.
    public var connectionCount: Int { context.connectionCount }

    /// Binds the listeners and starts the loops; returns at once.
    public func start() throws(SocketError) {
        precondition(state.withLock { $0.loops.isEmpty }, "Server.start() called twice")
        // A peer that vanishes mid-write must give EPIPE, not kill the process (OpenSSL writes too).
        signal(SIGPIPE, SIG_IGN)
        let configuration = context.configuration
        var loops: [EventLoop] = []
        var port = configuration.port
        do throws(SocketError) {
            for _ in 0..<max(1, configuration.workers) {
                let listener = try Listener.bind(host: configuration.host, port: port, backlog: configuration.backlog)
                port = listener.port   // the other loops share the port the first one got
                do throws(SocketError) {
                    loops.append(try EventLoop(context: context, listener: listener))
                } catch {
                    listener.close()
                    throw error
                }
            }
        } catch {
            for loop in loops { loop.beginShutdown(deadline: 0) }
            throw error
        }
        state.withLock {
            $0.loops = loops
            $0.port = port
        }
        for (index, loop) in loops.enumerated() {
            stopped.enter()
            let group = stopped
            DispatchQueue(label: "tensord.http.loop\(index)", qos: .userInitiated).async {
                loop.run()
                group.leave()
            }
        }
    }

    /// Graceful shutdown: stop accepting (new connects are refused), close idle connections,
    /// let in-flight requests finish with `Connection: close`, and cut off whatever is still
    /// open at `deadline`. Returns at once; `wait()` returns when every loop is done.
    public func shutdown(deadline: DispatchTime) {
        let remaining = deadline > .now() ? Int64(deadline.uptimeNanoseconds - DispatchTime.now().uptimeNanoseconds) : 0
        let loops = state.withLock { $0.loops }
        for loop in loops {
            loop.execute { loop.beginShutdown(deadline: monotonicNow() &+ remaining) }
        }
    }

    /// True once `run()` has installed its SIGTERM/SIGINT handlers.
    var handlesSignals: Bool { state.withLock { !$0.signals.isEmpty } }

    /// Blocks until every loop has stopped.
    public func wait() { stopped.wait() }

    /// Starts, drains gracefully on SIGTERM or SIGINT (within `gracePeriod`), and returns once
    /// everything is closed.
    public func run(gracePeriod: Duration = .seconds(10)) throws(SocketError) {
        try start()
        let queue = DispatchQueue(label: "tensord.http.signals")
        var sources: [any DispatchSourceSignal] = []
        for signo in [SIGTERM, SIGINT] {
            signal(signo, SIG_IGN)   // the Dispatch source sees it; the default action must not kill us
            let source = DispatchSource.makeSignalSource(signal: signo, queue: queue)
            source.setEventHandler { [self] in
                shutdown(deadline: .now() + .nanoseconds(Int(gracePeriod.nanoseconds)))
            }
            source.resume()
            sources.append(source)
        }
        state.withLock { $0.signals = sources }
        wait()
        for source in sources { source.cancel() }
    }
}
