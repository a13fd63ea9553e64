import Foundation
import Synchronization
import Testing
import Wire

/// Starts the built `tensord` binary on an ephemeral loopback port, runs the README's curl
/// walkthrough against it with real curl, then stops it with SIGTERM (exit code 0 expected).
@Suite(.serialized) struct LiveTests {
    static let binaryCandidates = [".build/debug/tensord", ".build/x86_64-unknown-linux-gnu/debug/tensord"]
        .map { TestClient.repoRoot + "/" + $0 }

    /// Runs the built tensord with `arguments` until it exits: its status and its stdout+stderr
    /// text; nil (and a recorded issue) when it is not built or cannot start.
    static func runToExit(_ arguments: [String]) -> (status: Int32, output: String)? {
        guard let binary = binaryCandidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            Issue.record("tensord is not built")
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        guard (try? process.run()) != nil else {
            Issue.record("tensord did not start")
            return nil
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Collected stderr text.
    final class LogBuffer: Sendable {
        let text = Mutex<String>("")
        func withLock<R>(_ body: (inout String) -> R) -> R { text.withLock { body(&$0) } }
    }

    /// A running tensord with its stderr collected.
    final class Daemon: @unchecked Sendable {
        // @unchecked: `process` is only used from the test's thread after start.
        let process: Process
        let log = LogBuffer()
        let port: Int

        init?(arguments: [String]) {
            guard let binary = LiveTests.binaryCandidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                return nil
            }
            process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["--port", "0", "--log-format", "json", "--workers", "1"] + arguments
            let stderr = Pipe()
            process.standardError = stderr
            process.standardOutput = FileHandle.nullDevice
            let log = self.log
            stderr.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                log.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
            do { try process.run() } catch { return nil }
            // The first log line says where it listens.
            var found: Int?
            for _ in 0..<200 where found == nil {
                usleep(25_000)
                found = log.withLock { text in
                    text.split(separator: "\n").compactMap { line -> Int? in
                        guard let json = try? JSONParser.parse(String(line)), json["msg"]?.string == "listening" else { return nil }
                        return json["port"]?.number?.int
                    }.first
                }
            }
            guard let found else {
                process.terminate()
                return nil
            }
            port = found
        }

        /// Sends SIGTERM and returns the exit code.
        func stop() -> Int32 {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// Runs curl; returns (status, body).
    static func curl(_ arguments: [String]) -> (Int, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-sS", "--max-time", "10", "-w", "\n%{http_code}"] + arguments
        let output = Pipe()
        process.standardOutput = output
        do { try process.run() } catch { return (0, "curl could not run: \(error)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard let newline = text.lastIndex(of: "\n") else { return (0, text) }
        return (Int(text[text.index(after: newline)...]) ?? 0, String(text[..<newline]))
    }

    static func json(_ text: String) -> JSONValue { (try? JSONParser.parse(text)) ?? .null }

    @Test func curlWalkthroughAgainstTheBinary() throws {
        guard let daemon = Daemon(arguments: ["--max-body-bytes", "65536"]) else {
            Issue.record("tensord did not start: build it first (swift build); looked at \(Self.binaryCandidates)")
            return
        }
        let base = "http://127.0.0.1:\(daemon.port)"
        let json = ["-H", "Content-Type: application/json"]

        let (createStatus, createBody) = Self.curl(["-X", "POST", "\(base)/v1/sessions"])
        #expect(createStatus == 201, "\(createBody)")
        let sid = Self.json(createBody)["id"]?.string ?? ""
        let s = "\(base)/v1/sessions/\(sid)"

        #expect(Self.curl(["-X", "POST", "\(s)/arrays"] + json + ["-d", #"{"id":"x","data":[1,2,3,4]}"#]).0 == 201)
        #expect(Self.curl(["-X", "PUT", "\(s)/arrays/x/grad"] + json + ["-d", #"{"grad_req":"write"}"#]).0 == 200)
        let (scopeStatus, scopeBody) = Self.curl(["-X", "POST", "\(s)/scopes"] + json + ["-d", #"{"kind":"record"}"#])
        #expect(scopeStatus == 201)
        let scope = Self.json(scopeBody)["id"]?.string ?? ""
        #expect(Self.curl(["-X", "POST", "\(s)/ops/broadcast_mul"] + json + ["-d", #"{"inputs":["x","x"],"ids":["y"]}"#]).0 == 201)
        #expect(Self.curl(["-X", "DELETE", "\(s)/scopes/\(scope)"]).0 == 200)
        #expect(Self.curl(["-X", "POST", "\(s)/backward"] + json + ["-d", #"{"heads":["y"]}"#]).0 == 200)
        let (gradStatus, gradBody) = Self.curl(["\(s)/arrays/x/grad"])
        #expect(gradStatus == 200)
        #expect(doubles(Self.json(gradBody)["data"]) == [2, 4, 6, 8], "\(gradBody)")

        // The same as one run request, in a fresh session.
        let sid2 = Self.json(Self.curl(["-X", "POST", "\(base)/v1/sessions"]).1)["id"]?.string ?? ""
        let (runStatus, runBody) = Self.curl(["-X", "POST", "\(base)/v1/sessions/\(sid2)/run"] + json + ["-d", """
            {"steps":[{"create":{"data":[1,2,3,4]},"id":"x"},{"attach_grad":"x"},
                      {"scope":"record","steps":[{"op":"broadcast_mul","inputs":["x","x"],"id":"y"}]},
                      {"backward":["y"]}],
             "fetch":["x.grad"]}
            """])
        #expect(runStatus == 200, "\(runBody)")
        #expect(doubles(Self.json(runBody)["fetched"]?["x.grad"]?["data"]) == [2, 4, 6, 8])

        // npy over the wire, gzip'd responses, the error format, and the body limit.
        let (npyStatus, _) = Self.curl(["-o", "/dev/null", "-H", "Accept: application/x-npy", "\(s)/arrays/x/grad"])
        #expect(npyStatus == 200)
        let (errorStatus, errorBody) = Self.curl(["-X", "POST", "\(s)/backward"] + json + ["-d", #"{"heads":["y"]}"#])
        #expect(errorStatus == 409)
        #expect(Self.json(errorBody)["code"]?.string == "graph-freed")
        let big = "{\"data\":[" + Array(repeating: "1", count: 40_000).joined(separator: ",") + "]}"
        let bigFile = FileManager.default.temporaryDirectory.appendingPathComponent("tensord-live-\(daemon.port).json")
        try Data(big.utf8).write(to: bigFile)
        defer { try? FileManager.default.removeItem(at: bigFile) }
        let (tooLarge, _) = Self.curl(["-X", "POST", "\(s)/arrays"] + json + ["--data-binary", "@\(bigFile.path)"])
        #expect(tooLarge == 413)
        #expect(Self.curl(["\(base)/livez"]).0 == 200)

        #expect(daemon.stop() == 0)
        let log = daemon.log.withLock { $0 }
        // One structured line per request, with the route template and the session.
        let requestLines = log.split(separator: "\n").map { Self.json(String($0)) }.filter { $0["msg"]?.string == "request" }
        #expect(requestLines.count >= 12)
        #expect(requestLines.contains { $0["route"]?.string == "/v1/sessions/{sid}/ops/{op}" && $0["session"]?.string == sid
                    && $0["status"] == .int(201) && $0["duration_us"]?.number != nil && $0["method"]?.string == "POST" })
        #expect(log.contains("\"msg\":\"stopped\""))
    }

    @Test func servesHTTPSWithTheTLSFlags() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tensord-tls-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                             "-days", "1", "-subj", "/CN=127.0.0.1"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        #expect(openssl.terminationStatus == 0)
        guard let daemon = Daemon(arguments: ["--tls-cert", cert, "--tls-key", key]) else {
            Issue.record("tensord did not start with TLS")
            return
        }
        let (status, body) = Self.curl(["-k", "-X", "POST", "https://127.0.0.1:\(daemon.port)/v1/sessions"])
        #expect(status == 201, "\(body)")
        #expect(Self.curl(["http://127.0.0.1:\(daemon.port)/livez"]).0 != 200)   // plain HTTP is not served
        #expect(daemon.stop() == 0)
        #expect(daemon.log.withLock { $0 }.contains("\"scheme\":\"https\""))
    }

    @Test func helpAndBadFlags() {
        func run(_ arguments: [String]) -> (Int32, String) { Self.runToExit(arguments) ?? (-1, "") }
        let help = run(["--help"])
        #expect(help.0 == 0)
        #expect(help.1.contains("--port") && help.1.contains("TENSORD_PORT"))
        #expect(run(["--port", "x"]).0 == 2)
        #expect(run(["--bogus"]).0 == 2)
    }
}
