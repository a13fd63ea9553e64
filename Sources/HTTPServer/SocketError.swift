import Glibc

/// An error from the socket layer: the failing call and its `errno`.
public enum SocketError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed.
    case failed(call: String, errno: Int32)
    /// A host string that is neither an IPv4 nor an IPv6 literal nor "localhost".
    case invalidAddress(String)
    /// TLS could not be set up (certificate, key or context); the message comes from OpenSSL.
    case tls(String)

    public var description: String {
        switch self {
        case .failed(let call, let code):
            return "\(call) failed: \(String(cString: strerror(code)!)) (errno \(code))"
        case .invalidAddress(let host):
            return "invalid listen address \"\(host)\" (expected an IPv4 or IPv6 literal)"
        case .tls(let message):
            return "TLS setup failed: \(message)"
        }
    }
}
