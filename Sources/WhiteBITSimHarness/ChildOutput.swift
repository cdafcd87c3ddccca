import Foundation
import Synchronization

/// A value that arrives once, from a thread or a timer, and is awaited from async code.
final class OneShot<Value: Sendable>: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Value, Never>])
        case done(Value)
    }

    private let state = Mutex(State.waiting([]))

    /// The first call wins; later ones are ignored.
    func fulfil(_ value: Value) {
        let waiters: [CheckedContinuation<Value, Never>] = state.withLock { state in
            guard case .waiting(let waiters) = state else { return [] }
            state = .done(value)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready: Value? = state.withLock { state in
                    switch state {
                    case .done(let value): return value
                    case .waiting(var waiters):
                        waiters.append(continuation)
                        state = .waiting(waiters)
                        return nil
                    }
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }

    var peek: Value? {
        state.withLock { state in
            if case .done(let value) = state { return value }
            return nil
        }
    }
}

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
