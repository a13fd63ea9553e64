import Glibc

/// A bound, listening, non-blocking TCP socket (IPv4 or IPv6).
///
/// Every event loop gets its own listener on the same port (`SO_REUSEPORT`), so the kernel spreads
/// new connections across loops and no accepted socket ever hops between threads.
struct Listener {
    let fd: Int32
    /// The bound port (the real one when the configuration asked for port 0).
    let port: Int

    /// Binds and listens on `host:port`. `host` is an IPv4 or IPv6 literal, or "localhost".
    static func bind(host: String, port: Int, backlog: Int32) throws(SocketError) -> Listener {
        let literal = host == "localhost" ? "127.0.0.1" : host
        var v4 = in_addr()
        var v6 = in6_addr()
        let family: Int32
        if inet_pton(AF_INET, literal, &v4) == 1 {
            family = AF_INET
        } else if inet_pton(AF_INET6, literal, &v6) == 1 {
            family = AF_INET6
        } else {
            throw SocketError.invalidAddress(host)
        }
        guard (0...65535).contains(port) else { throw SocketError.invalidAddress("\(host):\(port)") }

        let fd = try syscallChecked("socket") {
            socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        do throws(SocketError) {
            try Socket.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            try Socket.setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1)
            if family == AF_INET6 { try Socket.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
            if family == AF_INET {
                var addr = sockaddr_in()
                addr.sin_family = sa_family_t(AF_INET)
                addr.sin_port = UInt16(port).bigEndian
                addr.sin_addr = v4
                try syscallChecked("bind") {
                    withUnsafePointer(to: &addr) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
            } else {
                var addr = sockaddr_in6()
                addr.sin6_family = sa_family_t(AF_INET6)
                addr.sin6_port = UInt16(port).bigEndian
                addr.sin6_addr = v6
                try syscallChecked("bind") {
                    withUnsafePointer(to: &addr) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                        }
                    }
                }
            }
            try syscallChecked("listen") { listen(fd, backlog) }
            return Listener(fd: fd, port: try boundPort(fd))
        } catch {
            Socket.close(fd)
            throw error
        }
    }

    private static func boundPort(_ fd: Int32) throws(SocketError) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        try syscallChecked("getsockname") {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
        }
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { raw in
            if family == AF_INET6 {
                return raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    /// Accepts one pending connection: a non-blocking, close-on-exec socket with `TCP_NODELAY`.
    func accept() throws(SocketError) -> IOResult<(fd: Int32, peer: sockaddr_storage)> {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = try syscall("accept4") {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.accept(fd, $0, &length)
                }
            }
        }
        guard case .done(let client) = result else { return .wouldBlock }
        // accept4 is hidden behind _GNU_SOURCE in the Glibc module, so set the flags by hand.
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        do throws(SocketError) { try Socket.setNonBlocking(client) } catch { Socket.close(client); throw error }
        // Small responses must leave at once; Nagle would add up to 40 ms with delayed ACKs.
        try? Socket.setOption(client, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        return .done((client, storage))
    }

    func close() { Socket.close(fd) }
}
