import Foundation
import HTTP
@testable import HTTPServer
import Testing

/// HTTPS with a self-signed certificate the test makes with the `openssl` CLI; `curl` is the client.
@Suite(.timeLimit(.minutes(1)))
struct TLSTests {
    /// Runs a tool and returns (exit status, stdout, stderr).
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }

    /// A fresh directory with `cert.pem` and `key.pem` (P-256, CN and SAN localhost).
    static func makeCertificate() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tensord-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (status, _, _) = try run("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
            "-keyout", directory.appendingPathComponent("key.pem").path,
            "-out", directory.appendingPathComponent("cert.pem").path,
        ])
        guard status == 0 else { throw TestError("openssl req failed: \(status)") }
        return directory
    }

    @Test func httpsRoundTripWithKeepAliveAndGzip() throws {
        let directory = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try startServer {
            $0.tlsCertificatePath = directory.appendingPathComponent("cert.pem").path
            $0.tlsPrivateKeyPath = directory.appendingPathComponent("key.pem").path
        }
        defer { server.stop() }
        let base = "https://localhost:\(server.boundPort)"
        // Two URLs in one curl run share the TLS connection (keep-alive through SSL_read/SSL_write).
        let (status, output, _) = try Self.run("curl", [
            "-sS", "-i", "--http1.1", "--tlsv1.2", "--cacert", directory.appendingPathComponent("cert.pem").path,
            "--resolve", "localhost:\(server.boundPort):127.0.0.1", "\(base)/hello", "\(base)/big?n=300000", "--compressed",
        ])
        #expect(status == 0)
        #expect(normalized(output).hasPrefix(LoopbackTests.helloResponse))
        #expect(output.contains("Content-Encoding: gzip"))
        #expect(output.hasSuffix(String(decoding: bigBody(300_000), as: UTF8.self)))

        // 8 MB through SSL_write: partial writes and WANT_WRITE back-pressure on the loop.
        let (hugeStatus, size, _) = try Self.run("curl", [
            "-sS", "-o", "/dev/null", "-w", "%{size_download}", "--cacert", directory.appendingPathComponent("cert.pem").path,
            "--resolve", "localhost:\(server.boundPort):127.0.0.1", "\(base)/huge?n=8000000",
        ])
        #expect(hugeStatus == 0)
        #expect(size == "8000000")
    }

    @Test func tls11IsRefused() throws {
        let directory = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try startServer {
            $0.tlsCertificatePath = directory.appendingPathComponent("cert.pem").path
            $0.tlsPrivateKeyPath = directory.appendingPathComponent("key.pem").path
        }
        defer { server.stop() }
        // SECLEVEL=0 lets this client offer TLS 1.1 (checked by hand against `openssl s_server -tls1_1`),
        // so the failure is the server's refusal: a protocol_version alert.
        let (status, _, errors) = try Self.run("curl", [
            "-sS", "--tlsv1.1", "--tls-max", "1.1", "--ciphers", "DEFAULT:@SECLEVEL=0", "-k",
            "https://127.0.0.1:\(server.boundPort)/hello",
        ])
        #expect(status != 0)
        #expect(errors.contains("alert protocol version"))
    }

    @Test func plainHTTPOnTheTLSPortIsClosedWithoutAnHTTPAnswer() throws {
        let directory = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try startServer {
            $0.tlsCertificatePath = directory.appendingPathComponent("cert.pem").path
            $0.tlsPrivateKeyPath = directory.appendingPathComponent("key.pem").path
        }
        defer { server.stop() }
        let client = try RawClient(port: server.boundPort)
        client.send(LoopbackTests.getHello)
        let (bytes, closed) = client.receiveUntilClose()
        #expect(closed)
        #expect(!String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/"))
    }

    @Test func missingKeyFileIsATypedError() throws {
        let directory = try Self.makeCertificate()
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.tlsCertificatePath = directory.appendingPathComponent("cert.pem").path
        configuration.tlsPrivateKeyPath = directory.appendingPathComponent("missing.pem").path
        #expect(throws: SocketError.self) { try Server(configuration: configuration, handler: TestHandler()) }
    }
}
