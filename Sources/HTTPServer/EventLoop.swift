import Dispatch
import CLinux
import Glibc
import Synchronization

/// One epoll loop running on its own serial Dispatch queue, owning a listener (its own
/// `SO_REUSEPORT` socket) and every connection accepted from it.
///
/// Thread confinement: all mutable state except `tasks` is touched only on the loop's thread,
/// inside `run()`. Other threads reach the loop only through `execute(_:)` (a locked task list
/// plus an eventfd wake-up), which is how handler responses produced elsewhere come back.
final class EventLoop: @unchecked Sendable {
    /// epoll readiness bits, so that connections need not import the C module.
    static let readable = EPOLLIN.rawValue
    static let writable = EPOLLOUT.rawValue
    static let failed = EPOLLERR.rawValue | EPOLLHUP.rawValue

    let context: ServerContext
    private let epollFD: Int32
    private let wakeFD: Int32
    private let tasks = Mutex<[@Sendable () -> Void]>([])
    private var listener: Listener?
    private var thread: pthread_t?
    /// Connections indexed by their descriptor (dense: the kernel hands out the lowest free fd).
    private var connections: [Connection?] = []
    private var connectionCount = 0
    private var shutdownDeadline: Int64?
    private var finished = false
    /// The listener is out of epoll after EMFILE/ENFILE; the sweep puts it back.
    private var acceptPaused = false

    /// The loop's clock, read once per wake-up (monotonic ns).
    private(set) var now: Int64 = monotonicNow()
    /// The cached `Date` header value.
    private(set) var date = DateCache()
    /// One read buffer shared by all connections of this loop: idle connections cost no buffer.
    let readBuffer: UnsafeMutableRawBufferPointer

    init(context: ServerContext, listener: Listener) throws(SocketError) {
        self.context = context
        self.listener = listener
        epollFD = try syscallChecked("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        do throws(SocketError) {
            wakeFD = try syscallChecked("eventfd") { eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC)) }
        } catch {
            Socket.close(epollFD)
            throw error
        }
        readBuffer = .allocate(byteCount: 256 * 1024, alignment: 16)
        date.refresh()
        try add(fd: wakeFD, events: Self.readable)
        try add(fd: listener.fd, events: Self.readable)
    }

    deinit {
        readBuffer.deallocate()
        Socket.close(wakeFD)
        Socket.close(epollFD)
    }

    // MARK: - Cross-thread entry

    /// True on the loop's own thread.
    var inLoop: Bool {
        guard let thread else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    /// Runs `task` on the loop thread soon. Callable from any thread.
    func execute(_ task: @escaping @Sendable () -> Void) {
        let wasEmpty = tasks.withLock { list in
            list.append(task)
            return list.count == 1
        }
        if wasEmpty {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        }
    }

    // MARK: - epoll registration

    func add(fd: Int32, events: UInt32) throws(SocketError) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        try syscallChecked("epoll_ctl(ADD)") { epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) }
    }

    func modify(fd: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    /// Forgets a connection whose descriptor is about to be closed.
    func remove(_ connection: Connection) {
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, connection.fd, nil)
        connections[Int(connection.fd)] = nil
        connectionCount -= 1
        context.connectionClosed()
    }

    // MARK: - The loop

    /// Runs until a graceful shutdown has closed every connection (or hit its deadline).
    func run() {
        thread = pthread_self()
        let capacity: Int32 = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        defer { events.deallocate() }
        let sweepInterval = context.configuration.timeouts.sweepInterval
        var nextSweep = now &+ sweepInterval

        while !finished {
            let waitMs = Int32(clamping: max(0, (nextSweep - now) / 1_000_000) + 1)
            let count = epoll_wait(epollFD, events, capacity, waitMs)
            now = monotonicNow()
            date.refresh()
            var acceptReady = false
            if count > 0 {
                for i in 0..<Int(count) {
                    let fd = events[i].data.fd
                    let flags = events[i].events
                    if fd == wakeFD {
                        runTasks()
                    } else if fd == listener?.fd {
                        acceptReady = true
                    } else if Int(fd) < connections.count, let connection = connections[Int(fd)] {
                        connection.handle(events: flags)
                    }
                }
            }
            // Accept after the batch: a descriptor closed above and reused by a new connection must
            // not receive the old connection's stale events from this batch.
            if acceptReady { acceptConnections() }
            if now >= nextSweep {
                sweep()
                nextSweep = now &+ sweepInterval
            }
            if let deadline = shutdownDeadline {
                if connectionCount == 0 {
                    finished = true
                } else if now >= deadline {
                    for case let connection? in connections { connection.abort() }
                    finished = true
                }
            }
        }
        runTasks()   // release closures queued during the last turn (their connections are gone)
    }

    private func runTasks() {
        var counter: UInt64 = 0
        _ = read(wakeFD, &counter, 8)
        let batch = tasks.withLock { list -> [@Sendable () -> Void] in
            let taken = list
            list.removeAll(keepingCapacity: true)
            return taken
        }
        for task in batch { task() }
    }

    private func acceptConnections() {
        guard let listener else { return }
        // Bounded per wake-up so a connection storm cannot starve the established connections.
        for _ in 0..<64 {
            let accepted: IOResult<(fd: Int32, peer: sockaddr_storage)>
            do throws(SocketError) {
                accepted = try listener.accept()
            } catch {
                if case .failed(_, let code) = error, code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM {
                    // Out of descriptors or memory: stop watching the listener (level-triggered, it would
                    // spin) until the next sweep, when connections may have closed.
                    _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, listener.fd, nil)
                    acceptPaused = true
                }
                return   // ECONNABORTED and the like concern only that one connection
            }
            guard case .done(let (fd, peer)) = accepted else { return }
            guard context.connectionOpened() else {
                Socket.close(fd)   // over the connection cap
                continue
            }
            let tls: TLSSession?
            if let tlsContext = context.tls {
                guard let session = tlsContext.makeSession(fd: fd) else {
                    Socket.close(fd)
                    context.connectionClosed()
                    continue
                }
                tls = session
            } else {
                tls = nil
            }
            let connection = Connection(fd: fd, peer: Socket.describe(peer), tls: tls, loop: self)
            do throws(SocketError) {
                try add(fd: fd, events: Connection.readEvents)
            } catch {
                Socket.close(fd)
                context.connectionClosed()
                continue
            }
            if Int(fd) >= connections.count {
                connections.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - connections.count))
            }
            connections[Int(fd)] = connection
            connectionCount += 1
            if shutdownDeadline != nil { connection.beginShutdown() }
        }
    }

    /// The coarse timer: one pass over the connections enforces every deadline.
    private func sweep() {
        if acceptPaused, let listener {
            acceptPaused = false
            try? add(fd: listener.fd, events: Self.readable)
        }
        let timeouts = context.configuration.timeouts
        for case let connection? in connections { connection.sweep(now: now, timeouts: timeouts) }
    }

    /// Stops accepting, asks every connection to finish what is in flight, and ends the loop when
    /// all are closed or at `deadline` (monotonic ns), whichever comes first. Loop thread only.
    func beginShutdown(deadline: Int64) {
        guard shutdownDeadline == nil else { return }
        shutdownDeadline = deadline
        if let listener {
            _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, listener.fd, nil)
            listener.close()
            self.listener = nil
        }
        for case let connection? in connections { connection.beginShutdown() }
    }
}
