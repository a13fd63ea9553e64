import Glibc

/// Small helpers over raw socket descriptors. Descriptors are plain `Int32`s owned by exactly
/// one `Listener` or `Connection`, which closes each one exactly once.
enum Socket {
    static func setNonBlocking(_ fd: Int32) throws(SocketError) {
        let flags = try syscallChecked("fcntl(F_GETFL)") { fcntl(fd, F_GETFL) }
        try syscallChecked("fcntl(F_SETFL)") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) throws(SocketError) {
        var value = value
        try syscallChecked("setsockopt") {
            setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Closes `fd`. `close` is not retried on `EINTR` on Linux: the descriptor is gone either way.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Abortive close (RST) for connections that are cut off at the shutdown deadline.
    static func abort(_ fd: Int32) {
        var off = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, socklen_t(MemoryLayout<linger>.size))
        _ = Glibc.close(fd)
    }

    /// A NUL-terminated C character buffer as a `String`.
    static func string(_ chars: [CChar]) -> String {
        String(decoding: chars.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// "host:port" (IPv4) or "[host]:port" (IPv6) for a peer address, as `HTTPRequest.remoteAddress`.
    static func describe(_ storage: sockaddr_storage) -> String? {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { raw -> String? in
            switch family {
            case AF_INET:
                return raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin -> String? in
                    var addr = sin.pointee.sin_addr
                    guard inet_ntop(AF_INET, &addr, &text, socklen_t(text.count)) != nil else { return nil }
                    return "\(Socket.string(text)):\(UInt16(bigEndian: sin.pointee.sin_port))"
                }
            case AF_INET6:
                return raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 -> String? in
                    var addr = sin6.pointee.sin6_addr
                    guard inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count)) != nil else { return nil }
                    return "[\(Socket.string(text))]:\(UInt16(bigEndian: sin6.pointee.sin6_port))"
                }
            default:
                return nil
            }
        }
    }
}
