import Foundation
import Glibc
import Synchronization
import WhiteBITSimHarness

/// Everything one child printed (stdout and stderr, in arrival order), its lines, and
/// tasks waiting for a line that matches. Each stream is read by a thread of its own.
final class OutputLog: Sendable {
    enum WaitOutcome: Sendable {
        case found(DaemonLogLine)
        case ended
        case timedOut
    }

    private struct Waiter {
        let since: Int
        let predicate: @Sendable (DaemonLogLine) -> Bool
        let continuation: CheckedContinuation<WaitOutcome, Never>
    }

    private struct State {
        var bytes: [UInt8] = []
        var lines: [DaemonLogLine] = []
        var pending: [Int32: [UInt8]] = [:]
        var openStreams: Int
        var waiters: [UUID: Waiter] = [:]
    }

    private let state: Mutex<State>
    let closed = OneShot<Void>()

    init(streams: [Int32]) {
        state = Mutex(State(openStreams: streams.count))
        for descriptor in streams {
            let thread = Thread { [self] in read(descriptor) }
            thread.start()
        }
        if streams.isEmpty { closed.fulfil(()) }
    }

    private func read(_ descriptor: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = Glibc.read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            append(buffer[0..<count], from: descriptor)
        }
        close(descriptor)
        streamClosed(descriptor)
    }

    private func append(_ chunk: ArraySlice<UInt8>, from descriptor: Int32) {
        var matched: [(CheckedContinuation<WaitOutcome, Never>, DaemonLogLine)] = []
        state.withLock { state in
            state.bytes += chunk
            var pending = state.pending[descriptor, default: []] + chunk
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                addLine(String(decoding: pending[..<newline], as: UTF8.self), to: &state, matched: &matched)
                pending.removeSubrange(...newline)
            }
            state.pending[descriptor] = pending
        }
        for (continuation, line) in matched { continuation.resume(returning: .found(line)) }
    }

    private func streamClosed(_ descriptor: Int32) {
        var matched: [(CheckedContinuation<WaitOutcome, Never>, DaemonLogLine)] = []
        var ended: [CheckedContinuation<WaitOutcome, Never>] = []
        state.withLock { state in
            if let rest = state.pending.removeValue(forKey: descriptor), !rest.isEmpty {
                addLine(String(decoding: rest, as: UTF8.self), to: &state, matched: &matched)
            }
            state.openStreams -= 1
            if state.openStreams == 0 {
                ended = state.waiters.values.map(\.continuation)
                state.waiters = [:]
            }
        }
        for (continuation, line) in matched { continuation.resume(returning: .found(line)) }
        for continuation in ended { continuation.resume(returning: .ended) }
        if state.withLock({ $0.openStreams == 0 }) { closed.fulfil(()) }
    }

    private func addLine(
        _ text: String, to state: inout State, matched: inout [(CheckedContinuation<WaitOutcome, Never>, DaemonLogLine)]
    ) {
        let line = DaemonLogLine(text: text, index: state.lines.count)
        state.lines.append(line)
        for (id, waiter) in state.waiters where line.index >= waiter.since && waiter.predicate(line) {
            state.waiters.removeValue(forKey: id)
            matched.append((waiter.continuation, line))
        }
    }

    var bytes: [UInt8] { state.withLock { $0.bytes } }
    var lines: [DaemonLogLine] { state.withLock { $0.lines } }
    var lineCount: Int { state.withLock { $0.lines.count } }

    /// The first line at or after `since` that matches, waiting for it when none has come
    /// yet; `.ended` when the output closes first.
    func awaitLine(since: Int, timeout: Duration, where predicate: @escaping @Sendable (DaemonLogLine) -> Bool) async -> WaitOutcome {
        let id = UUID()
        var timer: Task<Void, any Error>?
        let outcome = await withCheckedContinuation { continuation in
            let immediate: WaitOutcome? = state.withLock { state in
                if let line = state.lines.dropFirst(max(0, since)).first(where: predicate) { return .found(line) }
                if state.openStreams == 0 { return .ended }
                state.waiters[id] = Waiter(since: since, predicate: predicate, continuation: continuation)
                return nil
            }
            if let immediate {
                continuation.resume(returning: immediate)
            } else {
                timer = Task { [weak self] in
                    try await Task.sleep(for: timeout)
                    self?.expire(id)
                }
            }
        }
        timer?.cancel()
        return outcome
    }

    private func expire(_ id: UUID) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.continuation.resume(returning: .timedOut)
    }
}
