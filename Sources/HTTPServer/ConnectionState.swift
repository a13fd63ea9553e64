/// The pure lifecycle of one connection: events in, decisions out. No sockets, no clocks
/// (times are passed in as monotonic nanoseconds), so keep-alive, pipelining back-pressure,
/// error-then-close and every timeout rule are unit-tested without a socket.
/// `Connection` is the only place that performs what it decides.
struct ConnectionState: Sendable {
    /// Where the parser stands after the bytes read so far.
    enum ParsePosition: Sendable, Equatable {
        /// Between requests: nothing of the next request has arrived.
        case boundary
        /// Part of a request head is buffered.
        case head
        /// The head is complete and the body is arriving.
        case body
    }

    /// Which deadline the sweep enforces.
    enum Deadline: Sendable, Equatable {
        case header, bodyGap, writeStall, keepAliveIdle, linger
    }

    /// What to do once everything queued so far has been written.
    enum AfterWrite: Sendable, Equatable {
        /// Keep the connection (read more, or wait for handlers).
        case keepOpen
        /// Close now.
        case close
        /// Half-close, then read and discard until the linger deadline (after an error response).
        case linger
    }

    /// The most requests that may wait for their responses at once; beyond it reading pauses.
    static let maxPipelined = 32
    /// Requests served on one connection before it answers with `Connection: close` (nginx: 1000).
    static let maxRequestsPerConnection = 10_000

    private(set) var position: ParsePosition = .boundary
    /// Requests handed to the handler whose responses are not yet queued for writing.
    private(set) var pendingResponses = 0
    /// Bytes are queued but the socket is not writable.
    private(set) var writeBlocked = false
    /// No further requests are read (close requested, framing error, peer closed, shutdown).
    private(set) var stoppedReading = false
    /// The connection is half-closed and only discarding input until it closes.
    private(set) var lingering = false
    /// Responses must carry `Connection: close`.
    private(set) var closing = false
    private var lingerAfterWrites = false
    private var servedRequests = 0
    private var since: Int64

    init(now: Int64) { since = now }

    /// True when nothing is in progress: an idle keep-alive connection that shutdown may close at once.
    var isIdle: Bool { position == .boundary && pendingResponses == 0 && !writeBlocked && !lingering }

    /// Whether the loop should watch for input: not while the output is stuck or too many
    /// responses are outstanding (a pipelining client that never reads cannot grow our buffers).
    var wantsRead: Bool {
        lingering || (!stoppedReading && !writeBlocked && pendingResponses < Self.maxPipelined)
    }

    /// The parser consumed a read batch and now stands at `position`.
    mutating func parsed(to newPosition: ParsePosition, now: Int64) {
        switch newPosition {
        case .head where position != .head: since = now   // header deadline counts from the first byte
        case .body, .boundary: since = now                // body gap and idle count from the last read
        case .head: break
        }
        position = newPosition
    }

    /// A complete request goes to the handler. Returns whether its response keeps the connection
    /// open (`false`: it must carry `Connection: close`, and no further request is read).
    mutating func requestDispatched(clientKeepAlive: Bool) -> Bool {
        pendingResponses += 1
        servedRequests += 1
        if !clientKeepAlive || servedRequests >= Self.maxRequestsPerConnection {
            closing = true
            stoppedReading = true
            // At our own limit a pipelining client may already have sent more requests; closing
            // with them unread would reset the connection and can destroy responses in flight
            // (RFC 9112 §9.6). Half-close and drain instead, as after a framing error. A client
            // that asked for the close itself sends nothing more, so it is closed at once.
            if clientKeepAlive { lingerAfterWrites = true }
        }
        return !closing
    }

    /// A response turned out to need the connection closed after it (an HTTP/1.0 body without a
    /// length is delimited by the close).
    mutating func closeAfterResponses() {
        closing = true
        stoppedReading = true
    }

    /// A response was queued for writing.
    mutating func responseQueued() {
        precondition(pendingResponses > 0, "response without a request")
        pendingResponses -= 1
    }

    /// The request bytes were malformed: an error response goes out, then half-close and linger.
    mutating func framingError() {
        closing = true
        stoppedReading = true
        lingerAfterWrites = true
    }

    /// A write made progress (or not) at `now`; `drained` is true when nothing is left queued.
    mutating func wrote(drained: Bool, progressed: Bool, now: Int64) {
        // The stall deadline counts from the last progress, or from when output first got stuck.
        // A flush with nothing to write must leave the header/body/idle deadlines alone, or a
        // client trickling a head one byte at a time would restart its header clock forever.
        if progressed || (!drained && !writeBlocked) { since = now }
        writeBlocked = !drained
    }

    /// The peer sent EOF. Requests already received are still answered (a half-closed client
    /// may read them), but nothing more is read.
    mutating func peerClosed() {
        stoppedReading = true
        closing = true
        if lingering { lingerAfterWrites = false }
    }

    /// Graceful shutdown: finish what is in flight, read no new requests, close afterwards.
    /// A half-received body is in flight; a half-received head is not.
    mutating func shutdownRequested() {
        closing = true
        if position != .body { stoppedReading = true }
    }

    /// What to do when the output is fully written and no handler is outstanding.
    mutating func afterWrites(now: Int64) -> AfterWrite {
        guard pendingResponses == 0, !writeBlocked else { return .keepOpen }
        if lingering { return .keepOpen }
        if lingerAfterWrites {
            lingering = true
            since = now
            return .linger
        }
        if closing && (stoppedReading || position == .boundary) { return .close }
        return .keepOpen
    }

    /// The deadline in force, if any, as (kind, monotonic ns).
    func deadline(_ timeouts: ServerTimeouts) -> (Deadline, Int64)? {
        if lingering { return (.linger, since &+ timeouts.linger.nanoseconds) }
        if writeBlocked { return (.writeStall, since &+ timeouts.writeStall.nanoseconds) }
        if pendingResponses > 0 { return nil }   // the handler is working; its time is its own
        switch position {
        case .head: return (.header, since &+ timeouts.header.nanoseconds)
        case .body: return (.bodyGap, since &+ timeouts.bodyGap.nanoseconds)
        case .boundary: return (.keepAliveIdle, since &+ timeouts.keepAliveIdle.nanoseconds)
        }
    }
}
