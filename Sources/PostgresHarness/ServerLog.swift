import Foundation
import Synchronization
import WhiteBITSimHarness

/// The postmaster's stdout and stderr, appended to one file in the server's directory
/// (kept across restarts) and its last lines kept for errors. Each pipe is read on a
/// thread of its own until every process of the server has closed it.
final class ServerLog: Sendable {
    let path: String
    private let recent = Mutex<[String]>([])
    private let keptLines = 40

    init(path: String) {
        self.path = path
    }

    /// Starts the readers of one postmaster's pipes; the result is fulfilled when both end,
    /// that is when the postmaster and every child it started are gone. The kept lines
    /// start over: they are this run's.
    func follow(_ descriptors: [Int32]) -> OneShot<Void> {
        recent.withLock { $0.removeAll() }
        let closed = OneShot<Void>()
        let remaining = Mutex(descriptors.count)
        let file = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        for descriptor in descriptors {
            let thread = Thread { [self] in
                var pending: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 8192)
                while true {
                    let count = read(descriptor, &buffer, buffer.count)
                    if count < 0 && errno == EINTR { continue }
                    if count <= 0 { break }
                    if file >= 0 { _ = buffer.withUnsafeBytes { write(file, $0.baseAddress, count) } }
                    pending += buffer[0..<count]
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        keep(String(decoding: pending[..<newline], as: UTF8.self))
                        pending.removeSubrange(...newline)
                    }
                }
                if !pending.isEmpty { keep(String(decoding: pending, as: UTF8.self)) }
                close(descriptor)
                let last = remaining.withLock { count in
                    count -= 1
                    return count == 0
                }
                if last {
                    if file >= 0 { close(file) }
                    closed.fulfil(())
                }
            }
            thread.start()
        }
        return closed
    }

    private func keep(_ line: String) {
        recent.withLock { lines in
            lines.append(line)
            if lines.count > keptLines { lines.removeFirst(lines.count - keptLines) }
        }
    }

    var lastLines: [String] { recent.withLock { $0 } }

    /// Whether a line of this run contains `text` (why a start failed).
    func contains(_ text: String) -> Bool { lastLines.contains { $0.contains(text) } }
}
