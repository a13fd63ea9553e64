@testable import HTTPServer
import Testing

/// The connection lifecycle without a socket: times are plain nanosecond numbers.
struct ConnectionStateTests {
    let timeouts = ServerTimeouts(header: .seconds(10), bodyGap: .seconds(30), writeStall: .seconds(20),
                                  keepAliveIdle: .seconds(75), linger: .seconds(2))
    let second: Int64 = 1_000_000_000

    @Test func idleConnectionHasKeepAliveDeadlineFromLastActivity() {
        let state = ConnectionState(now: 5 * second)
        #expect(state.isIdle)
        #expect(state.wantsRead)
        #expect(state.deadline(timeouts)! == (.keepAliveIdle, 80 * second))
    }

    @Test func headerDeadlineCountsFromFirstByteNotLastByte() {
        var state = ConnectionState(now: 0)
        state.parsed(to: .head, now: 1 * second)
        state.parsed(to: .head, now: 9 * second)   // a slow client dribbling bytes gains nothing
        #expect(state.deadline(timeouts)! == (.header, 11 * second))
        #expect(!state.isIdle)
    }

    @Test func flushingNothingDoesNotRestartTheHeaderDeadline() {
        // The loop flushes after every read; with nothing to write that must not count as activity,
        // or a client trickling its head a byte at a time would never hit the header deadline.
        var state = ConnectionState(now: 0)
        state.parsed(to: .head, now: 1 * second)
        for t in 2...9 {
            state.parsed(to: .head, now: Int64(t) * second)
            state.wrote(drained: true, progressed: false, now: Int64(t) * second)
        }
        #expect(state.deadline(timeouts)! == (.header, 11 * second))
    }

    @Test func closingOnTheRequestLimitLingersForPipelinedInput() {
        // Closing with unread pipelined requests would reset the connection and can destroy
        // responses already sent (RFC 9112 §9.6): the state machine lingers instead.
        var state = ConnectionState(now: 0)
        var kept = true
        for _ in 0..<ConnectionState.maxRequestsPerConnection {
            kept = state.requestDispatched(clientKeepAlive: true)
            state.responseQueued()
        }
        #expect(!kept)
        state.wrote(drained: true, progressed: true, now: 1 * second)
        #expect(state.afterWrites(now: 1 * second) == .linger)
    }

    @Test func bodyDeadlineIsAGapBetweenReads() {
        var state = ConnectionState(now: 0)
        state.parsed(to: .body, now: 1 * second)
        state.parsed(to: .body, now: 20 * second)
        #expect(state.deadline(timeouts)! == (.bodyGap, 50 * second))
    }

    @Test func handlerTimeIsNotLimitedButStalledWritesAre() {
        var state = ConnectionState(now: 0)
        let kept = state.requestDispatched(clientKeepAlive: true)
        #expect(kept)
        #expect(state.deadline(timeouts) == nil)
        state.responseQueued()
        state.wrote(drained: false, progressed: true, now: 3 * second)
        #expect(state.deadline(timeouts)! == (.writeStall, 23 * second))
        #expect(!state.wantsRead)   // output stuck: stop reading further requests
        state.wrote(drained: false, progressed: false, now: 10 * second)
        #expect(state.deadline(timeouts)! == (.writeStall, 23 * second))
        state.wrote(drained: true, progressed: true, now: 12 * second)
        #expect(state.afterWritesResult(now: 12 * second) == .keepOpen)
        #expect(state.deadline(timeouts)! == (.keepAliveIdle, 87 * second))
    }

    @Test func connectionCloseFromClientStopsReadingAndClosesAfterWrites() {
        var state = ConnectionState(now: 0)
        let kept = state.requestDispatched(clientKeepAlive: false)
        #expect(kept == false)
        #expect(!state.wantsRead)
        #expect(state.afterWritesResult(now: 1) == .keepOpen)   // response not there yet
        state.responseQueued()
        state.wrote(drained: true, progressed: true, now: 2)
        #expect(state.afterWritesResult(now: 2) == .close)
    }

    @Test func pipeliningPausesReadingAtTheLimit() {
        var state = ConnectionState(now: 0)
        for _ in 0..<ConnectionState.maxPipelined { _ = state.requestDispatched(clientKeepAlive: true) }
        #expect(!state.wantsRead)
        state.responseQueued()
        #expect(state.wantsRead)
    }

    @Test func framingErrorLingersAfterTheErrorResponse() {
        var state = ConnectionState(now: 0)
        state.parsed(to: .head, now: 0)
        state.framingError()
        #expect(!state.wantsRead)
        #expect(state.afterWritesResult(now: 4 * second) == .linger)
        #expect(state.lingering)
        #expect(state.wantsRead)   // reads are discarded while lingering
        #expect(state.deadline(timeouts)! == (.linger, 6 * second))
    }

    @Test func shutdownClosesIdleAndKeepsReadingHalfReceivedBody() {
        var idle = ConnectionState(now: 0)
        idle.shutdownRequested()
        #expect(idle.afterWritesResult(now: 1) == .close)

        var uploading = ConnectionState(now: 0)
        uploading.parsed(to: .body, now: 1)
        uploading.shutdownRequested()
        #expect(uploading.wantsRead)
        #expect(uploading.afterWritesResult(now: 2) == .keepOpen)
        uploading.parsed(to: .boundary, now: 3)
        let kept = uploading.requestDispatched(clientKeepAlive: true)
        #expect(kept == false)   // drained: Connection: close
        uploading.responseQueued()
        #expect(uploading.afterWritesResult(now: 4) == .close)

        var halfHead = ConnectionState(now: 0)
        halfHead.parsed(to: .head, now: 1)
        halfHead.shutdownRequested()
        #expect(!halfHead.wantsRead)
        #expect(halfHead.afterWritesResult(now: 2) == .close)
    }

    @Test func peerCloseStillAnswersReceivedRequests() {
        var state = ConnectionState(now: 0)
        _ = state.requestDispatched(clientKeepAlive: true)
        state.peerClosed()
        #expect(!state.wantsRead)
        #expect(state.afterWritesResult(now: 1) == .keepOpen)
        state.responseQueued()
        #expect(state.afterWritesResult(now: 2) == .close)
    }

    @Test func sweepIntervalFollowsTheShortestTimeout() {
        #expect(ServerTimeouts().sweepInterval == 500_000_000)   // linger 2 s / 4
        let fast = ServerTimeouts(header: .milliseconds(200))
        #expect(fast.sweepInterval == 50_000_000)
        #expect(Duration.seconds(3).nanoseconds == 3 * second)
    }
}

extension ConnectionState {
    /// `afterWrites` as a value (the `#expect` macro cannot call a mutating method).
    mutating func afterWritesResult(now: Int64) -> AfterWrite { afterWrites(now: now) }
}

struct ServerConfigurationTests {
    @Test func defaultsAreTheDocumentedOnes() {
        let timeouts = ServerTimeouts()
        #expect(timeouts.header == .seconds(10))
        #expect(timeouts.bodyGap == .seconds(30))
        #expect(timeouts.writeStall == .seconds(30))
        #expect(timeouts.keepAliveIdle == .seconds(75))
        let configuration = ServerConfiguration()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.workers >= 1)
        #expect(configuration.compression?.minimumSize == 1024)
        #expect(configuration.tlsCertificatePath == nil && configuration.tlsPrivateKeyPath == nil)
    }

    @Test func aCertificateWithoutAKeyIsRejected() {
        var configuration = ServerConfiguration(port: 0)
        configuration.tlsCertificatePath = "/nonexistent/cert.pem"
        #expect(throws: SocketError.tls("both a certificate and a private key path are needed")) {
            try Server(configuration: configuration, handler: TestHandler())
        }
    }
}
