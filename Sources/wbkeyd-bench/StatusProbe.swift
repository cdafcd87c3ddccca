import Foundation
import Glibc
import Synchronization
import UnixSocketAddress

/// Asks `status json` over the real socket, back to back with a pause, on a thread of
/// its own (blocking calls, no scheduler between the clock and the socket), and keeps
/// each round trip with what the answer said about the daemon's progress.
final class StatusProbe: Sendable {
    struct Reading: @unchecked Sendable {
        let at: ContinuousClock.Instant
        let roundTrip: Duration
        /// The status document (nil when the answer was not one).
        let status: [String: Any]?
    }

    private let socket: String
    private let pause: Duration
    private let readings = Mutex<[Reading]>([])
    private let stopping = Mutex(false)
    private let stopped = DispatchSemaphore(value: 0)

    init(socket: String, pause: Duration) {
        self.socket = socket
        self.pause = pause
    }

    /// Starts probing; `onReading` sees each reading as it comes (on the probe's thread).
    func start(onReading: @escaping @Sendable (Reading) -> Void = { _ in }) {
        let thread = Thread { [self] in
            while !stopping.withLock({ $0 }) {
                let reading = probe()
                readings.withLock { $0.append(reading) }
                onReading(reading)
                rest()
            }
            stopped.signal()
        }
        thread.start()
    }

    /// Stops probing and answers every reading taken.
    func stop() async -> [Reading] {
        stopping.withLock { $0 = true }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [stopped] in
                stopped.wait()
                continuation.resume()
            }
        }
        return readings.withLock { $0 }
    }

    /// `count` readings in a row, before any load.
    func take(_ count: Int) -> [Reading] {
        (0..<count).map { _ in
            let reading = probe()
            rest()
            return reading
        }
    }

    private func rest() {
        let (seconds, attoseconds) = pause.components
        usleep(useconds_t(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
    }

    private func probe() -> Reading {
        let clock = ContinuousClock()
        let start = clock.now
        let answer = exchange(Array("status json\n".utf8))
        let roundTrip = start.duration(to: clock.now)
        let status = answer.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
        return Reading(at: start, roundTrip: roundTrip, status: status)
    }

    private func exchange(_ line: [UInt8]) -> [UInt8]? {
        let descriptor = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard UnixSocketAddress.connect(descriptor, to: socket) == 0 else { return nil }
        _ = line.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            answer += buffer[0..<count]
        }
        return answer
    }
}
