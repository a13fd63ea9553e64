import Glibc

/// The outcome of a non-blocking system call: it either made progress or would block.
enum IOResult<T> {
    case done(T)
    case wouldBlock
}

/// THE errno policy for socket calls, in one place:
/// `EINTR` is retried, `EAGAIN`/`EWOULDBLOCK` become `.wouldBlock`, and every other
/// failure is thrown as `SocketError.failed` with the call's name and `errno`.
/// `EBADF`, `EFAULT` and `ENOTSOCK` mean the server passed a wrong argument: a programmer error.
@inline(__always)
func syscall<T: BinaryInteger>(_ call: StaticString, _ body: () -> T) throws(SocketError) -> IOResult<T> {
    while true {
        let result = body()
        if result >= 0 { return .done(result) }
        let code = errno
        switch code {
        case EINTR:
            continue
        case EAGAIN, EWOULDBLOCK:
            return .wouldBlock
        case EBADF, EFAULT, ENOTSOCK:
            preconditionFailure("\(call) with an invalid argument: errno \(code)")
        default:
            throw SocketError.failed(call: "\(call)", errno: code)
        }
    }
}

/// A blocking-style call (setup paths such as bind and listen) where `EAGAIN` cannot happen.
@inline(__always)
@discardableResult
func syscallChecked<T: BinaryInteger>(_ call: StaticString, _ body: () -> T) throws(SocketError) -> T {
    switch try syscall(call, body) {
    case .done(let value): return value
    case .wouldBlock: throw SocketError.failed(call: "\(call)", errno: EAGAIN)
    }
}
