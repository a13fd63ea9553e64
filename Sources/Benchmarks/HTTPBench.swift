import Glibc
import HTTP
import HTTPServer

/// The server side of `scripts/bench-http.sh`: `Benchmarks http-serve [--port N] [--workers N] [--tls-cert PEM --tls-key PEM]`
/// serves `{"ok":true}` for every request until SIGTERM/SIGINT.
enum HTTPBench {
    struct OKHandler: HTTPHandler {
        static let body = Array(#"{"ok":true}"#.utf8)

        func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
            respond(HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: .bytes(Self.body)))
        }
    }

    /// Runs the benchmark server with `arguments` (the words after `http-serve`).
    static func serve(_ arguments: [String]) -> Never {
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 8081)
        var words = arguments.makeIterator()
        while let word = words.next() {
            let value = words.next()
            switch (word, value.flatMap { Int($0) }) {
            case ("--port", let port?): configuration.port = port
            case ("--workers", let workers?): configuration.workers = workers
            case ("--tls-cert", _): configuration.tlsCertificatePath = value
            case ("--tls-key", _): configuration.tlsPrivateKeyPath = value
            default:
                print("usage: Benchmarks http-serve [--port N] [--workers N] [--tls-cert PEM --tls-key PEM]")
                exit(2)
            }
        }
        do {
            let server = try Server(configuration: configuration, handler: OKHandler())
            try server.run(gracePeriod: .seconds(2))
            exit(0)
        } catch {
            print("http-serve: \(error)")
            exit(1)
        }
    }
}
