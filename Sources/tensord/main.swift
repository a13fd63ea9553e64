// tensord: the tensor-session REST API server. `tensord --help` lists the flags.
import Dispatch
import Autograd
import Foundation
import HTTPServer
import Service
import Wire

/// One command-line flag with its environment variable.
struct Flag {
    let name: String
    let env: String
    let help: String
    let takesValue: Bool
}

let flags: [Flag] = [
    Flag(name: "host", env: "TENSORD_HOST", help: "address to listen on (default 127.0.0.1)", takesValue: true),
    Flag(name: "port", env: "TENSORD_PORT", help: "TCP port, 0 = pick a free one (default 8080)", takesValue: true),
    Flag(name: "max-body-bytes", env: "TENSORD_MAX_BODY_BYTES", help: "largest request body (default 67108864)", takesValue: true),
    Flag(name: "session-max-bytes", env: "TENSORD_SESSION_MAX_BYTES", help: "memory budget per session (default 1073741824)", takesValue: true),
    Flag(name: "max-array-elements", env: "TENSORD_MAX_ARRAY_ELEMENTS", help: "elements per array (default 268435456)", takesValue: true),
    Flag(name: "max-arrays", env: "TENSORD_MAX_ARRAYS", help: "arrays per session (default 100000)", takesValue: true),
    Flag(name: "max-sessions", env: "TENSORD_MAX_SESSIONS", help: "live sessions per process (default 1000)", takesValue: true),
    Flag(name: "idle-timeout", env: "TENSORD_IDLE_TIMEOUT", help: "default session idle timeout in seconds (default 900)", takesValue: true),
    Flag(name: "session-ttl", env: "TENSORD_SESSION_TTL", help: "absolute session lifetime in seconds when a session asks for none; 0 = none (default 0)", takesValue: true),
    Flag(name: "max-session-ttl", env: "TENSORD_MAX_SESSION_TTL", help: "largest ttl_s a session may ask for; 0 = no cap (default 0)", takesValue: true),
    Flag(name: "replica-id", env: "TENSORD_REPLICA_ID", help: "replica ordinal encoded in session ids, or 'hostname' for a StatefulSet pod's ordinal (default 0)", takesValue: true),
    Flag(name: "allow-open", env: "TENSORD_ALLOW_OPEN", help: "allow a non-loopback address without API keys (default: refuse)", takesValue: false),
    Flag(name: "header-timeout", env: "TENSORD_HEADER_TIMEOUT", help: "seconds to receive a request's headers (default 10)", takesValue: true),
    Flag(name: "keepalive-timeout", env: "TENSORD_KEEPALIVE_TIMEOUT", help: "seconds an idle keep-alive connection stays open (default 75)", takesValue: true),
    Flag(name: "tls-cert", env: "TENSORD_TLS_CERT", help: "PEM certificate chain; with --tls-key serves HTTPS", takesValue: true),
    Flag(name: "tls-key", env: "TENSORD_TLS_KEY", help: "PEM private key", takesValue: true),
    Flag(name: "api-key", env: "TENSORD_API_KEYS", help: "require this API key on /v1 (comma-separated list)", takesValue: true),
    Flag(name: "api-keys-file", env: "TENSORD_API_KEYS_FILE", help: "file of API keys, one per line: KEY [admin] [name=NAME] [max_sessions=N]", takesValue: true),
    Flag(name: "max-sessions-per-key", env: "TENSORD_MAX_SESSIONS_PER_KEY", help: "live sessions one API key may hold (default 100)", takesValue: true),
    Flag(name: "rate-limit", env: "TENSORD_RATE_LIMIT", help: "requests per second per client on /v1 (default: unlimited)", takesValue: true),
    Flag(name: "rate-limit-burst", env: "TENSORD_RATE_LIMIT_BURST", help: "burst size of the rate limit (default 100)", takesValue: true),
    Flag(name: "openapi", env: "TENSORD_OPENAPI", help: "path of openapi.yaml to serve (default: found next to the binary or in the working directory)", takesValue: true),
    Flag(name: "data-dir", env: "TENSORD_DATA_DIR", help: "directory for session snapshots; sessions survive restarts (default: memory only)", takesValue: true),
    Flag(name: "snapshot-interval", env: "TENSORD_SNAPSHOT_INTERVAL", help: "seconds between snapshots of changed sessions, 0 = only at shutdown (default 30)", takesValue: true),
    Flag(name: "workers", env: "TENSORD_WORKERS", help: "event-loop threads (default: one per core)", takesValue: true),
    Flag(name: "log-format", env: "TENSORD_LOG_FORMAT", help: "json or text (default json)", takesValue: true),
    Flag(name: "help", env: "", help: "print this help", takesValue: false),
]

func usage() -> String {
    var text = "usage: tensord [flags]\n\nEvery flag can also be set by its environment variable; the flag wins.\n\n"
    for flag in flags {
        let name = "--\(flag.name)\(flag.takesValue ? " VALUE" : "")"
        let env = flag.env.isEmpty ? "" : " [\(flag.env)]"
        text += "  \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(flag.help)\(env)\n"
    }
    return text
}

/// A log field value.
enum LogValue {
    case string(String)
    case int(Int)
    case bool(Bool)

    var text: String {
        switch self {
        case .string(let text): text
        case .int(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        }
    }
}

/// One structured log line per event on stderr, as JSON or `key=value` text. Each line is one
/// write(2), so lines from different threads do not interleave. Built by hand: it runs once per
/// request.
struct Logger: Sendable {
    let json: Bool

    func line(_ message: String, _ fields: [(String, LogValue?)] = []) {
        // Bytes appended directly (no String(format:), no interpolation): this runs per request.
        var w = JSONWriter(capacity: 256)
        if json {
            w.writeRaw(#"{"ts":""#)
            Self.appendTimestamp(&w.bytes)
            w.writeRaw(#"","msg":"#)
            w.writeString(message)
            for case let (key, value?) in fields {
                w.writeRaw(",")
                w.writeKey(key)
                switch value {
                case .string(let text): w.writeString(text)
                case .int(let number): w.bytes += String(number).utf8
                case .bool(let flag): w.writeRaw(flag ? "true" : "false")
                }
            }
            w.writeRaw("}\n")
        } else {
            Self.appendTimestamp(&w.bytes)
            w.bytes.append(UInt8(ascii: " "))
            w.bytes += message.utf8
            for case let (key, value?) in fields {
                w.bytes.append(UInt8(ascii: " "))
                w.bytes += key.utf8
                w.bytes.append(UInt8(ascii: "="))
                w.bytes += value.text.utf8
            }
            w.bytes.append(UInt8(ascii: "\n"))
        }
        w.bytes.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// Appends the current UTC time with milliseconds, RFC 3339 (`2026-01-02T03:04:05.678Z`).
    static func appendTimestamp(_ out: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4); out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2); out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2); out.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2); out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2); out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2); out.append(UInt8(ascii: "."))
        digits(Int(now.tv_nsec / 1_000_000), 3); out.append(UInt8(ascii: "Z"))
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tensord: \(message)\n\(usage())".utf8))
    exit(2)
}

/// Flag values: environment first, then `--name value` / `--name=value` arguments.
func parseArguments(_ arguments: [String], environment: [String: String]) -> [String: String] {
    var values: [String: String] = [:]
    for flag in flags where !flag.env.isEmpty {
        if let value = environment[flag.env], !value.isEmpty { values[flag.name] = value }
    }
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        guard argument.hasPrefix("--") else { fail("unexpected argument '\(argument)'") }
        var name = String(argument.dropFirst(2))
        var inline: String?
        if let equals = name.firstIndex(of: "=") {
            inline = String(name[name.index(after: equals)...])
            name = String(name[..<equals])
        }
        guard let flag = flags.first(where: { $0.name == name }) else { fail("unknown flag '--\(name)'") }
        if flag.takesValue {
            if let inline {
                values[name] = inline
            } else {
                index += 1
                guard index < arguments.count else { fail("--\(name) needs a value") }
                values[name] = arguments[index]
            }
        } else {
            values[name] = "true"
        }
        index += 1
    }
    return values
}

func integer(_ values: [String: String], _ name: String, default value: Int, minimum: Int = 0) -> Int {
    guard let text = values[name] else { return value }
    guard let number = Int(text), number >= minimum else { fail("--\(name) must be an integer >= \(minimum), not '\(text)'") }
    return number
}

/// The replica id: a number, or `hostname` for the ordinal of a StatefulSet pod (`tensord-2` is 2).
func replicaID(_ value: String?) -> Int {
    guard let value else { return 0 }
    if value == "hostname" {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        guard let dash = host.lastIndex(of: "-"), let ordinal = Int(host[host.index(after: dash)...]), ordinal >= 0 else {
            fail("--replica-id hostname: '\(host)' does not end in -<ordinal>")
        }
        return ordinal
    }
    guard let number = Int(value), number >= 0 else { fail("--replica-id must be an integer >= 0 or 'hostname', not '\(value)'") }
    return number
}

/// Whether `host` only accepts connections from this machine.
func isLoopback(_ host: String) -> Bool {
    host == "localhost" || host == "::1" || host.hasPrefix("127.")
}

/// Parses the flags, serves until SIGTERM/SIGINT, and exits (0 after a graceful shutdown).
/// A function, not top-level code, so that nothing here is main-actor isolated: the signal and
/// log callbacks run on Dispatch queues.
func runTensord() -> Never {
    let values = parseArguments(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
    if values["help"] != nil {
        print(usage(), terminator: "")
        exit(0)
    }

    let logger: Logger
    switch values["log-format"] ?? "json" {
    case "json": logger = Logger(json: true)
    case "text": logger = Logger(json: false)
    case let other: fail("--log-format must be json or text, not '\(other)'")
    }

    var serviceConfiguration = ServiceConfiguration()
    serviceConfiguration.sessionMaxBytes = integer(values, "session-max-bytes", default: 1 << 30, minimum: 1)
    serviceConfiguration.maxArrayElements = integer(values, "max-array-elements", default: 1 << 28, minimum: 1)
    serviceConfiguration.maxArraysPerSession = integer(values, "max-arrays", default: 100_000, minimum: 1)
    serviceConfiguration.maxSessions = integer(values, "max-sessions", default: 1_000, minimum: 1)
    serviceConfiguration.idleTimeout = Double(integer(values, "idle-timeout", default: 900, minimum: 1))
    serviceConfiguration.maxIdleTimeout = max(serviceConfiguration.maxIdleTimeout, serviceConfiguration.idleTimeout)
    serviceConfiguration.replicaID = replicaID(values["replica-id"])
    serviceConfiguration.openAPIPath = values["openapi"]
    if values["rate-limit"] != nil {
        serviceConfiguration.rateLimit = Double(integer(values, "rate-limit", default: 0, minimum: 1))
        serviceConfiguration.rateLimitBurst = integer(values, "rate-limit-burst", default: 100, minimum: 1)
    }
    serviceConfiguration.dataDirectory = values["data-dir"]
    serviceConfiguration.snapshotInterval = Double(integer(values, "snapshot-interval", default: 30))
    serviceConfiguration.sessionTTL = Double(integer(values, "session-ttl", default: 0))
    serviceConfiguration.maxSessionTTL = Double(integer(values, "max-session-ttl", default: 0))
    if serviceConfiguration.maxSessionTTL > 0 && serviceConfiguration.sessionTTL > serviceConfiguration.maxSessionTTL {
        fail("--session-ttl must not exceed --max-session-ttl")
    }
    serviceConfiguration.maxSessionsPerKey = integer(values, "max-sessions-per-key", default: 100, minimum: 1)
    do throws(APIKeysError) {
        let fromFile = try values["api-keys-file"].map(APIKeys.load) ?? []
        let fromList = try values["api-key"].map(APIKeys.parseList) ?? []
        serviceConfiguration.apiKeys = try APIKeys.merge(fromFile, fromList)
    } catch {
        fail(error.description)
    }

    // Loads OpenBLAS with the right core and checks it before the first request needs it.
    logger.line("blas", [("core", .string(BLAS.coreName)), ("status", .string(BLAS.status))])

    let service = Service(configuration: serviceConfiguration) { @Sendable entry in
        logger.line("request", [("method", .string(entry.method)), ("route", entry.route.map(LogValue.string)),
                                ("status", .int(entry.status)), ("duration_us", .int(entry.durationMicroseconds)),
                                ("session", entry.sessionID.map(LogValue.string)), ("request_id", .string(entry.requestID))])
    }

    // Restored before listening, so no request can race a session coming back.
    do {
        if let report = try service.restoreSessions() {
            for (path, reason) in report.setAside {
                logger.line("snapshot set aside", [("path", .string(path)), ("reason", .string(reason))])
            }
            if !report.foreign.isEmpty {
                logger.line("snapshots of other replicas left in place", [("count", .int(report.foreign.count)),
                                                                          ("replica_id", .int(serviceConfiguration.replicaID))])
            }
            logger.line("sessions restored", [("data_dir", .string(serviceConfiguration.dataDirectory ?? "")),
                                              ("restored", .int(report.restored.count)), ("set_aside", .int(report.setAside.count)),
                                              ("temp_files_removed", .int(report.leftoversRemoved))])
        }
    } catch {
        logger.line("could not open the data directory", [("error", .string("\(error)"))])
        exit(1)
    }
    let logSnapshots: @Sendable (SnapshotReport) -> Void = { report in
        for (id, error) in report.failures {
            logger.line("snapshot failed", [("session", .string(id)), ("error", .string(error))])
        }
        if report.written > 0 || report.removed > 0 {
            logger.line("snapshot", [("written", .int(report.written)), ("removed", .int(report.removed))])
        }
    }

    var serverConfiguration = ServerConfiguration(host: values["host"] ?? "127.0.0.1", port: integer(values, "port", default: 8080))
    guard (0...65_535).contains(serverConfiguration.port) else { fail("--port must be in 0...65535") }
    let maxBody = integer(values, "max-body-bytes", default: 64 << 20, minimum: 1)
    serverConfiguration.limits.maxBodyBytes = maxBody
    serverConfiguration.limits.maxDecompressedBodyBytes = max(serverConfiguration.limits.maxDecompressedBodyBytes, maxBody)
    serverConfiguration.tlsCertificatePath = values["tls-cert"]
    serverConfiguration.tlsPrivateKeyPath = values["tls-key"]
    if values["workers"] != nil { serverConfiguration.workers = integer(values, "workers", default: 1, minimum: 1) }
    serverConfiguration.timeouts.header = .seconds(integer(values, "header-timeout", default: 10, minimum: 1))
    serverConfiguration.timeouts.keepAliveIdle = .seconds(integer(values, "keepalive-timeout", default: 75, minimum: 1))
    // Without API keys anyone who can reach the port can use every session: only loopback, unless asked.
    let allowOpen = values["allow-open"].map { !["0", "false", "no", ""].contains($0.lowercased()) } ?? false
    if serviceConfiguration.apiKeys.isEmpty && !isLoopback(serverConfiguration.host) && !allowOpen {
        fail("refusing to listen on \(serverConfiguration.host) without API keys; set --api-key/TENSORD_API_KEYS or --api-keys-file, or pass --allow-open (TENSORD_ALLOW_OPEN=1) to run open")
    }

    let server: Server
    do {
        server = try Server(configuration: serverConfiguration, handler: service)
        try server.start()
    } catch {
        logger.line("could not start", [("error", .string("\(error)"))])
        exit(1)
    }

    service.reportConnections { server.connectionCount }

    let scheme = serverConfiguration.tlsCertificatePath == nil ? "http" : "https"
    logger.line("listening", [("host", .string(serverConfiguration.host)), ("port", server.port.map(LogValue.int)),
                              ("scheme", .string(scheme)), ("replica", .int(serviceConfiguration.replicaID)),
                              ("epoch", .string(serviceConfiguration.bootEpoch)), ("openapi", .bool(service.servesOpenAPI))])

    // Expire idle sessions at a tenth of the idle timeout, at least every 30 s.
    service.startSweeping(every: min(30, max(1, serviceConfiguration.idleTimeout / 10)))
    service.startSnapshotting(report: logSnapshots)

    // SIGTERM/SIGINT: stop taking new sessions, drain connections for up to 10 s, snapshot, then exit 0.
    let signalQueue = DispatchQueue(label: "tensord.signals")
    let signalSources = [SIGTERM, SIGINT].map { signo in
        signal(signo, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signo, queue: signalQueue)
        source.setEventHandler { @Sendable in
            logger.line("shutting down", [("signal", .int(Int(signo)))])
            service.beginDraining()
            server.shutdown(deadline: .now() + .seconds(10))
        }
        source.resume()
        return source
    }

    server.wait()
    service.stopSweeping()
    service.stopSnapshotting()
    // After draining: every acknowledged change is in this last pass.
    if let report = service.writeSnapshots() { logSnapshots(report) }
    signalSources.forEach { $0.cancel() }
    logger.line("stopped")
    exit(0)
}

runTensord()
