import Glibc
import HTTP

/// One accepted socket. Confined to its loop's thread: every method runs there, and handler
/// responses produced on other threads are brought back with `EventLoop.execute`.
/// Decisions (keep-alive, back-pressure, timeouts, close/linger) come from `ConnectionState`;
/// this class performs them on the socket.
final class Connection: @unchecked Sendable {
    static let readEvents = EventLoop.readable
    static let writeEvents = EventLoop.writable

    let fd: Int32
    private let peer: String?
    private let tls: TLSSession?
    /// The loop owns its connections and outlives them.
    private unowned(unsafe) let loop: EventLoop
    private var state: ConnectionState
    private var parser: RequestParser
    /// Input that arrived but was not parsed yet (parsing paused at the pipelining limit).
    private var unparsed: [UInt8] = []
    /// Responses in request order; the front is written first.
    private var outgoing: [Outgoing] = []
    private var firstSequence = 0
    private var nextSequence = 0
    private var output = OutputQueue()
    private var stream: ActiveStream?
    private var registeredEvents = Connection.readEvents
    private var inReadBatch = false
    private var draining = false
    private var closed = false

    private struct RequestInfo {
        var isHead: Bool
        var version: HTTPVersion
        var keepAlive: Bool
        var acceptEncoding: String?
    }

    private enum Outgoing {
        case pending(RequestInfo)
        case ready(RequestInfo, HTTPResponse)
        /// Bytes that go out in order but answer no request slot (`100 Continue`).
        case interim([UInt8])
    }

    /// A streamed body being pulled as the socket drains (a class: checking for one is a pointer test).
    private final class ActiveStream {
        var body: any HTTPBodyStream
        let chunked: Bool

        init(body: any HTTPBodyStream, chunked: Bool) {
            self.body = body
            self.chunked = chunked
        }
    }

    private let crlf: [UInt8] = [13, 10]
    /// Bodies with at least this much left to receive are read straight into the request.
    private static let directBodyMinimum = 64 * 1024
    /// Pull more stream pieces only while less than this is queued (back-pressure).
    private static let streamLowWater = 64 * 1024

    init(fd: Int32, peer: String?, tls: TLSSession?, loop: EventLoop) {
        self.fd = fd
        self.peer = peer
        self.tls = tls
        self.loop = loop
        state = ConnectionState(now: loop.now)
        parser = RequestParser(limits: loop.context.configuration.limits)
    }

    // MARK: - Events from the loop

    func handle(events: UInt32) {
        if events & EventLoop.failed != 0 && events & EventLoop.readable == 0 {
            close()
            return
        }
        if events & Self.writeEvents != 0 { flush() }
        if !closed, events & EventLoop.readable != 0 { readable() }
    }

    func sweep(now: Int64, timeouts: ServerTimeouts) {
        guard !closed, let (_, at) = state.deadline(timeouts), now >= at else { return }
        // Every deadline ends in a silent close, as nginx does (a 408 would race a slow client).
        close()
    }

    func beginShutdown() {
        guard !closed, !draining else { return }
        draining = true
        state.shutdownRequested()
        finishWrites()
    }

    /// Cut off at the shutdown deadline: reset, no lingering.
    func abort() {
        guard !closed else { return }
        closed = true
        loop.remove(self)
        Socket.abort(fd)
    }

    // MARK: - Reading

    private func readable() {
        let buffer = loop.readBuffer
        var reads = 0
        inReadBatch = true
        defer { inReadBatch = false }
        // Bounded per wake-up so one fast client cannot monopolise the loop.
        while !closed, state.wantsRead, reads < 16 {
            reads += 1
            if tls == nil, unparsed.isEmpty, !state.lingering, parser.identityBodyRemaining >= Self.directBodyMinimum {
                guard receiveBodyDirectly() else { break }
                continue
            }
            let result: TransportResult
            if let tls {
                result = tls.read(into: buffer)
            } else {
                do {
                    switch try syscall("read", { Glibc.read(fd, buffer.baseAddress, buffer.count) }) {
                    case .done(0): result = .eof
                    case .done(let n): result = .bytes(n)
                    case .wouldBlock: result = .wouldBlock
                    }
                } catch {
                    result = .failed
                }
            }
            switch result {
            case .bytes(let n):
                if state.lingering { continue }   // discard: we only wait for the client to stop
                process(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                // A short read drained a plain socket; TLS may hold decrypted bytes, so read on.
                if tls == nil && n < buffer.count { break }
                continue
            case .wouldBlock:
                break
            case .eof:
                if state.lingering {
                    close()
                    return
                }
                state.peerClosed()
            case .failed:
                close()
                return
            }
            break
        }
        if closed { return }
        inReadBatch = false
        writeResponses()
    }

    /// Reads a large `Content-Length` body straight into the request's buffer (no copy through
    /// the loop's read buffer); returns whether to read on.
    private func receiveBodyDirectly() -> Bool {
        var wanted = 0
        var readError: Int32 = 0
        let received: (count: Int, request: HTTPRequest?)
        do {
            received = try parser.readBody { space in
                wanted = space.count
                let n = Glibc.read(fd, space.baseAddress, space.count)
                if n < 0 { readError = errno }
                return n
            }
        } catch {
            rejected(error)
            return false
        }
        switch received.count {
        case let n where n > 0:
            if let request = received.request {
                state.parsed(to: .boundary, now: loop.now)
                dispatch(request)
            } else {
                state.parsed(to: .body, now: loop.now)
            }
            return n == wanted   // a short read drained the socket
        case 0:
            state.peerClosed()
            return false
        default:
            if readError == EINTR { return true }
            if readError != EAGAIN && readError != EWOULDBLOCK { close() }
            return false
        }
    }

    /// Parses `bytes` (and anything held back earlier), dispatching each complete request.
    private func process(_ bytes: UnsafeRawBufferPointer) {
        if unparsed.isEmpty {
            let used = parse(bytes)
            if used < bytes.count { unparsed.append(contentsOf: bytes[used...]) }
        } else {
            unparsed.append(contentsOf: bytes)
            resumeParsing()
        }
    }

    private func resumeParsing() {
        guard !unparsed.isEmpty else { return }
        // Parse from a second reference so that `unparsed` is not borrowed while handlers run.
        let used: Int = {
            let held = unparsed
            return held.withUnsafeBytes { parse($0) }
        }()
        if used > 0 { unparsed.removeFirst(used) }
    }

    /// Feeds the parser until it needs more input or the pipelining limit pauses it; returns the
    /// number of bytes used.
    private func parse(_ bytes: UnsafeRawBufferPointer) -> Int {
        var used = 0
        while state.wantsRead && !state.stoppedReading {
            let event: ParserEvent
            do {
                event = try parser.parse(UnsafeRawBufferPointer(rebasing: bytes[used...]))
            } catch {
                rejected(error)
                return bytes.count
            }
            switch consume event {
            case .needMoreData(let consumed):
                used += consumed
                // Ask the parser where it stands: it may consume completed header lines, so the
                // bytes left over do not tell a slow head (header deadline) from a body (read gap).
                let position: ConnectionState.ParsePosition =
                    parser.isIdle ? .boundary : (parser.isInHead ? .head : .body)
                state.parsed(to: position, now: loop.now)
                return used
            case .head(let head, let consumed):
                used += consumed
                // 100 only to HTTP/1.1 (RFC 9110 §15.2), in order behind earlier responses.
                if head.expectsContinue && head.version == .http1_1 {
                    outgoing.append(.interim(ResponseWriter.continueResponse))
                }
                state.parsed(to: .body, now: loop.now)
            case .message(let request, let consumed):
                used += consumed
                state.parsed(to: .boundary, now: loop.now)
                dispatch(request)
                // The common case: the read ended with this request, so skip the empty parse call.
                if used == bytes.count { return used }
            }
        }
        return used
    }

    private func rejected(_ error: HTTPParseError) {
        state.framingError()
        let info = RequestInfo(isHead: false, version: .http1_1, keepAlive: false, acceptEncoding: nil)
        outgoing.append(.ready(info, error.response))
        nextSequence += 1
    }

    private func dispatch(_ request: consuming HTTPRequest) {
        request.remoteAddress = peer
        let keepAlive = state.requestDispatched(clientKeepAlive: request.keepAlive)
        let info = RequestInfo(isHead: request.method == "HEAD", version: request.version, keepAlive: keepAlive,
                               acceptEncoding: request.headers["Accept-Encoding"])
        let sequence = nextSequence
        nextSequence += 1
        outgoing.append(.pending(info))
        let loop = self.loop
        loop.context.handler.handle(request) { [self] response in
            if loop.inLoop {
                responded(sequence, response)
            } else {
                loop.execute { self.responded(sequence, response) }
            }
        }
    }

    private func responded(_ sequence: Int, _ response: consuming HTTPResponse) {
        guard !closed else { return }
        // Fast path: the only outstanding request answered inline; no slot bookkeeping.
        if sequence == firstSequence, outgoing.count == 1, stream == nil, case .pending(let info) = outgoing[0] {
            outgoing.removeAll(keepingCapacity: true)
            firstSequence += 1
            state.responseQueued()
            serialize(response, info)
            if !inReadBatch { flush() }
            return
        }
        // Count interim entries between the front and this slot: sequences number requests only.
        var index = 0
        var seen = firstSequence
        while index < outgoing.count {
            if case .interim = outgoing[index] {
                index += 1
                continue
            }
            if seen == sequence { break }
            seen += 1
            index += 1
        }
        guard index < outgoing.count, case .pending(let info) = outgoing[index] else { return }   // a second respond call
        outgoing[index] = .ready(info, response)
        state.responseQueued()
        if !inReadBatch { writeResponses() }
    }

    // MARK: - Writing

    /// Moves ready responses (in order) into the output, then writes.
    private func writeResponses() {
        serializeReady()
        flush()
    }

    private func serializeReady() {
        while stream == nil, let first = outgoing.first {
            switch first {
            case .pending:
                return
            case .interim(let bytes):
                output.append(bytes)
            case .ready(let info, let response):
                serialize(response, info)
                firstSequence += 1
            }
            outgoing.removeFirst()
        }
    }

    private func serialize(_ response: consuming HTTPResponse, _ info: RequestInfo) {
        let context = loop.context
        if case .bytes(let body) = response.body, body.count >= context.compressionMinimum,
           let policy = context.configuration.compression {
            Compression.compressIfAccepted(&response, acceptEncoding: info.acceptEncoding, policy: policy)
        }
        let keepAlive = info.keepAlive && !draining
        var framing: ResponseWriter.Framing?
        let date = loop.date.value
        if case .bytes(let body) = response.body, body.count > OutputQueue.coalesceLimit {
            // A large body is queued as its own piece (no copy) behind the head.
            output.appendInPlace { framing = context.writer.writeHead(response, version: info.version, isHead: info.isHead,
                                                                       keepAlive: keepAlive, date: date, into: &$0) }
            if case .contentLength = framing?.body { output.append(body) }
        } else {
            output.appendInPlace { framing = context.writer.write(response, version: info.version, isHead: info.isHead,
                                                                   keepAlive: keepAlive, date: date, into: &$0) }
        }
        guard let framing else { return }
        if !framing.keepAlive && keepAlive { state.closeAfterResponses() }   // HTTP/1.0 stream: close-delimited
        switch (framing.body, response.body) {
        case (.chunked, .stream(let body)): stream = ActiveStream(body: body, chunked: true)
        case (.untilClose, .stream(let body)): stream = ActiveStream(body: body, chunked: false)
        default: break
        }
    }

    /// Pulls stream pieces while the output is short; at the end, resumes the queued responses.
    private func pumpStream() {
        while let active = stream, output.byteCount < Self.streamLowWater {
            if let piece = active.body.next() {
                guard !piece.isEmpty else { continue }
                if active.chunked {
                    output.append(ResponseWriter.chunkHeader(size: piece.count))
                    output.append(piece)
                    output.append(crlf)
                } else {
                    output.append(piece)
                }
            } else {
                stream = nil
                if active.chunked { output.append(ResponseWriter.lastChunk) }
                serializeReady()
            }
        }
    }

    private func flush() {
        guard !closed else { return }
        var progressed = false
        while true {
            pumpStream()
            if output.isEmpty { break }
            let result: TransportResult
            if let tls {
                result = output.write(tls: tls)
            } else {
                do {
                    switch try output.write(fd: fd) {
                    case .done(let n): result = .bytes(n)
                    case .wouldBlock: result = .wouldBlock
                    }
                } catch {
                    result = .failed
                }
            }
            switch result {
            case .bytes(let n):
                output.consume(n)
                progressed = true
                continue
            case .wouldBlock, .eof:
                break
            case .failed:
                close()
                return
            }
            break
        }
        state.wrote(drained: output.isEmpty && stream == nil, progressed: progressed, now: loop.now)
        finishWrites()
    }

    /// After a write: close, linger, or adjust which readiness events the loop watches.
    private func finishWrites() {
        guard !closed else { return }
        switch state.afterWrites(now: loop.now) {
        case .close:
            close()
            return
        case .linger:
            tls?.close()
            _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        case .keepOpen:
            break
        }
        let wanted = (state.wantsRead ? Self.readEvents : 0) | (state.writeBlocked ? Self.writeEvents : 0)
        if wanted != registeredEvents {
            let resumed = wanted & Self.readEvents != 0 && registeredEvents & Self.readEvents == 0
            registeredEvents = wanted
            loop.modify(fd: fd, events: wanted)
            // Reading resumed: parse what was held back, and pick up bytes TLS may have buffered.
            if resumed && !state.lingering {
                inReadBatch = true
                resumeParsing()
                inReadBatch = false
                if tls != nil { readable() } else { writeResponses() }
            }
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        loop.remove(self)
        tls?.close()
        Socket.close(fd)
    }
}
