import Foundation
import Synchronization
import WhiteBITSimHarness
import UnixSocketAddress

/// The service manager's end of sd_notify: an AF_UNIX datagram socket bound at a path,
/// handed to the daemon as `NOTIFY_SOCKET`, read by a thread of its own. Each datagram is
/// kept; `READY=1` in one fulfils `ready`.
final class NotifyListener: Sendable {
    let path: String
    let ready = OneShot<Void>()
    private let descriptor: Int32
    private let messages = Mutex<[String]>([])
    private let stopping = Atomic<Bool>(false)
    private let finished = OneShot<Void>()

    init(path: String) throws(HarnessError) {
        self.path = path
        unlink(path)
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .setupFailed(what: "socket(AF_UNIX, SOCK_DGRAM)", path: path, errno: errno) }
        guard UnixSocketAddress.bind(descriptor, to: path) == 0 else {
            let code = errno
            close(descriptor)
            throw .setupFailed(what: "bind of the notify socket", path: path, errno: code)
        }
        // A bounded receive lets the thread notice `stop()` without a wake-up datagram.
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.descriptor = descriptor
        let thread = Thread { [self] in receiveUntilStopped() }
        thread.start()
    }

    private func receiveUntilStopped() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let stop = stopping.load(ordering: .acquiring)
            // After stop, drain what is queued without waiting, then end.
            let count = recv(descriptor, &buffer, buffer.count, stop ? Int32(MSG_DONTWAIT) : 0)
            if count > 0 {
                let message = String(decoding: buffer[0..<count], as: UTF8.self)
                messages.withLock { $0.append(message) }
                if message.split(separator: "\n").contains("READY=1") { ready.fulfil(()) }
                continue
            }
            if stop { break }
        }
        close(descriptor)
        unlink(path)
        finished.fulfil(())
    }

    /// Every datagram received so far, in order.
    var received: [String] { messages.withLock { $0 } }

    /// Takes in what is queued, then closes the socket.
    func stop() async {
        stopping.store(true, ordering: .releasing)
        await finished.value
    }
}
