import COpenSSL
import Glibc

/// The outcome of one read or write on a connection's transport.
enum TransportResult: Equatable {
    /// `n` bytes moved (for a read, `n > 0`).
    case bytes(Int)
    /// Nothing can move until the socket is ready again.
    case wouldBlock
    /// The peer closed its side (reads only).
    case eof
    /// The connection is broken; close it.
    case failed
}

/// A server-side OpenSSL context (TLS 1.2 or newer) loaded from PEM certificate and key files.
/// The ONLY file that imports COpenSSL. After `init` the context is only read, so sessions
/// may be created from every loop at once.
final class TLSContext: @unchecked Sendable {
    private let context: OpaquePointer

    init(certificatePath: String, privateKeyPath: String) throws(SocketError) {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw SocketError.tls(Self.lastError()) }
        self.context = context
        guard SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil) == 1 else {
            throw SocketError.tls(Self.lastError())
        }
        // Partial writes let one SSL_write per iovec report progress like write(2) does; the moving
        // buffer mode lets a retry come from a different address after the output queue changed.
        _ = SSL_CTX_ctrl(context, SSL_CTRL_MODE,
                         Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS), nil)
        guard SSL_CTX_use_certificate_chain_file(context, certificatePath) == 1 else {
            throw SocketError.tls("certificate \(certificatePath): \(Self.lastError())")
        }
        guard SSL_CTX_use_PrivateKey_file(context, privateKeyPath, SSL_FILETYPE_PEM) == 1 else {
            throw SocketError.tls("private key \(privateKeyPath): \(Self.lastError())")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw SocketError.tls("private key \(privateKeyPath) does not match certificate \(certificatePath)")
        }
    }

    deinit { SSL_CTX_free(context) }

    /// A session for an accepted socket; the handshake runs inside the first reads.
    func makeSession(fd: Int32) -> TLSSession? {
        guard let ssl = SSL_new(context) else { return nil }
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            return nil
        }
        SSL_set_accept_state(ssl)
        return TLSSession(ssl: ssl)
    }

    private static func lastError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "unknown OpenSSL error" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        ERR_clear_error()
        return Socket.string(buffer)
    }
}

/// One connection's TLS state, confined to the connection's loop thread. Non-blocking: a
/// read or write that needs the socket returns `.wouldBlock`, and the loop retries it when the
/// socket is ready (a renegotiation-style "read wants write" is retried on the next readiness).
final class TLSSession {
    private let ssl: OpaquePointer

    fileprivate init(ssl: OpaquePointer) { self.ssl = ssl }

    deinit { SSL_free(ssl) }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        ERR_clear_error()
        let n = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        if n > 0 { return .bytes(Int(n)) }
        switch SSL_get_error(ssl, n) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .wouldBlock
        case SSL_ERROR_ZERO_RETURN: return .eof
        default: return .failed
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult {
        guard bytes.count > 0 else { return .bytes(0) }
        ERR_clear_error()
        let n = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        if n > 0 { return .bytes(Int(n)) }
        switch SSL_get_error(ssl, n) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .wouldBlock
        default: return .failed
        }
    }

    /// Sends close_notify (best effort; the socket is closed right after).
    func close() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
    }
}
