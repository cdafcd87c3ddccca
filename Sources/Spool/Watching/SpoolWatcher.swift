import Foundation
import Glibc
import Synchronization

/// Wakes the intake when something may have arrived in `new/`: inotify on
/// IN_MOVED_TO (a writer's delivery) and IN_CLOSE_WRITE (a writer that ignored the
/// protocol), and IN_Q_OVERFLOW, after which only a rescan can tell what came.
///
/// `wakeUps` coalesces: however many events arrive while the consumer is busy, it
/// sees one pending wake-up, then scans `new/` as a whole. Periodic rescans are the
/// scheduler's business, not this type's.
///
/// The blocking wait runs on a thread of its own, polling the inotify descriptor and
/// one end of a socket pair; `stop()` (also called when the consumer of `wakeUps` is
/// cancelled, and on deinit) writes to the other end, and the thread closes every
/// descriptor and ends. The stream also finishes, with `failure` set, if the watch is
/// lost (directory removed, file system unmounted) or a system call fails.
public final class SpoolWatcher: Sendable {
    public let wakeUps: AsyncStream<Void>
    private let control: WatcherControl
    /// inotify, and both ends of the wake-up pair: for the test that proves they close.
    let descriptors: [Int32]

    public convenience init(spool: SpoolDirectory) throws(SpoolIOError) {
        try self.init(directory: spool.newPath)
    }

    public init(directory: String) throws(SpoolIOError) {
        let path = SpoolPath(directory)
        let inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard inotify >= 0 else { throw path.error("inotify_init1") }
        let mask = UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR)
        guard inotify_add_watch(inotify, directory, mask) >= 0 else {
            let error = path.error("inotify_add_watch")
            close(inotify)
            throw error
        }
        var pair: [Int32] = [-1, -1]
        let socketType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        guard socketpair(AF_UNIX, socketType, 0, &pair) == 0 else {
            let error = path.error("socketpair")
            close(inotify)
            throw error
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let control = WatcherControl(wakeWriter: pair[1])
        continuation.onTermination = { _ in control.stop() }
        wakeUps = stream
        self.control = control
        descriptors = [inotify, pair[0], pair[1]]

        let wakeReader = pair[0]
        let thread = Thread {
            let failure = Self.watch(inotify: inotify, wakeReader: wakeReader, path: path, continuation: continuation)
            close(inotify)
            close(wakeReader)
            control.threadEnded(failure: failure)
            continuation.finish()
        }
        thread.name = "spool-watcher"
        thread.start()
    }

    deinit {
        control.stop()
    }

    /// Asks the thread to end; returns at once. Idempotent.
    public func stop() {
        control.stop()
    }

    /// Returns once the thread has ended and closed its descriptors.
    public func waitUntilStopped() async {
        await control.waitUntilStopped()
    }

    /// Why the watch ended by itself; nil while it runs and after a plain `stop()`.
    public var failure: SpoolIOError? {
        control.failure
    }

    /// The thread's loop. Returns nil when asked to stop, else what went wrong.
    private static func watch(
        inotify: Int32, wakeReader: Int32, path: SpoolPath, continuation: AsyncStream<Void>.Continuation
    ) -> SpoolIOError? {
        var descriptors = [
            pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeReader, events: Int16(POLLIN), revents: 0),
        ]
        // Room for many events per read(); each is 16 bytes plus a name of at most 256.
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if poll(&descriptors, 2, -1) < 0 {
                if errno == EINTR { continue }
                return path.error("poll")
            }
            if descriptors[1].revents != 0 { return nil }
            guard descriptors[0].revents != 0 else { continue }
            var sawEvent = false
            while true {
                let count = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN { break }
                    return path.error("read inotify")
                }
                if count == 0 { break }
                let events = eventMasks(buffer[..<count])
                if events.contains(where: { $0 & UInt32(IN_IGNORED | IN_UNMOUNT) != 0 }) {
                    return path.error("inotify watch lost", ENOENT)
                }
                // Any event counts, IN_Q_OVERFLOW included: the consumer rescans new/
                // as a whole, which is exactly what an overflow calls for.
                sawEvent = sawEvent || !events.isEmpty
            }
            if sawEvent { continuation.yield() }
        }
    }

    /// The masks of the events in one read; names are not needed, since a wake-up
    /// means "scan new/".
    private static func eventMasks(_ bytes: ArraySlice<UInt8>) -> [UInt32] {
        var masks: [UInt32] = []
        bytes.withUnsafeBytes { raw in
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= raw.count {
                masks.append(raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
                let nameLength = raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)
                offset += header + Int(nameLength)
            }
        }
        return masks
    }
}

/// What the watcher's owner and its thread share. The write end of the socket pair
/// lives here, under the lock, so `stop()` can never write to a descriptor number the
/// thread has already closed (and the kernel may have handed to someone else).
private final class WatcherControl: Sendable {
    private struct State {
        var wakeWriter: Int32?
        var ended = false
        var failure: SpoolIOError?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(wakeWriter: Int32) {
        state = Mutex(State(wakeWriter: wakeWriter))
    }

    func stop() {
        state.withLock { state in
            guard let writer = state.wakeWriter else { return }
            var byte: UInt8 = 1
            // MSG_NOSIGNAL: if the thread has closed its end, this must not raise SIGPIPE.
            // EAGAIN (a full pair after many calls) is fine: one byte is enough.
            _ = send(writer, &byte, 1, Int32(MSG_NOSIGNAL))
        }
    }

    func threadEnded(failure: SpoolIOError?) {
        let waiters = state.withLock { state in
            if let writer = state.wakeWriter { close(writer) }
            state.wakeWriter = nil
            state.ended = true
            state.failure = failure
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    var failure: SpoolIOError? {
        state.withLock { $0.failure }
    }

    func waitUntilStopped() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                if state.ended { return true }
                state.waiters.append(waiter)
                return false
            }
            if resumeNow { waiter.resume() }
        }
    }
}
