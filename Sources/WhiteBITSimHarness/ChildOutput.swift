import Foundation
import Synchronization

/// Reads a child's output pipe on a thread of its own (a blocking read needs no polling),
/// hands each complete line to `onLine`, and keeps the last lines for error reports.
final class ChildOutput: Sendable {
    private let recent = Mutex<[String]>([])
    private let keptLines: Int
    let closed = OneShot<Void>()

    init(fileDescriptor: Int32, keptLines: Int = 50, onLine: @escaping @Sendable (String) -> Void) {
        self.keptLines = keptLines
        let thread = Thread { [self] in
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(fileDescriptor, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                pending.append(contentsOf: buffer[0..<count])
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    keep(line)
                    onLine(line)
                }
            }
            if !pending.isEmpty {
                let line = String(decoding: pending, as: UTF8.self)
                keep(line)
                onLine(line)
            }
            close(fileDescriptor)
            closed.fulfil(())
        }
        thread.start()
    }

    private func keep(_ line: String) {
        recent.withLock { lines in
            lines.append(line)
            if lines.count > keptLines { lines.removeFirst(lines.count - keptLines) }
        }
    }

    var recentLines: [String] { recent.withLock { $0 } }
}
