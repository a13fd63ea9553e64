/// Connection timeouts, enforced by one coarse sweep per event loop (never a timer per connection).
/// Defaults follow `http-server.md` §2 (nginx's keep-alive idle, h2o-like header deadline).
public struct ServerTimeouts: Sendable, Equatable {
    /// From the first byte of a request head to its end (slow-loris guard). Silent close.
    public var header: Duration = .seconds(10)
    /// Longest gap between two reads while a request body arrives.
    public var bodyGap: Duration = .seconds(30)
    /// Longest time a pending response may make no write progress.
    public var writeStall: Duration = .seconds(30)
    /// How long an idle keep-alive connection is kept open.
    public var keepAliveIdle: Duration = .seconds(75)
    /// After an error response: how long to read and discard before closing (RFC 9112 §9.6).
    public var linger: Duration = .seconds(2)

    public init(header: Duration = .seconds(10), bodyGap: Duration = .seconds(30),
                writeStall: Duration = .seconds(30), keepAliveIdle: Duration = .seconds(75),
                linger: Duration = .seconds(2)) {
        self.header = header
        self.bodyGap = bodyGap
        self.writeStall = writeStall
        self.keepAliveIdle = keepAliveIdle
        self.linger = linger
    }

    /// How often the sweep runs: a quarter of the shortest timeout, between 10 ms and 1 s,
    /// so a deadline is enforced at most 25 % late.
    var sweepInterval: Int64 {
        let shortest = [header, bodyGap, writeStall, keepAliveIdle, linger].map(\.nanoseconds).min() ?? 1_000_000_000
        return min(max(shortest / 4, 10_000_000), 1_000_000_000)
    }
}

extension Duration {
    /// Whole nanoseconds, saturating (the monotonic clock of the loops counts in `Int64` ns).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : ns &+ attoseconds / 1_000_000_000
    }
}
