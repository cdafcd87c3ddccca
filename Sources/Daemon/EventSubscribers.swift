import ControlProtocol
import ControlSocket
import Store
import Synchronization

/// The `events` subscribers (docs/design.md §12). The store's writer tells it of each
/// commit (`AuditTail`); it reads the new rows once, renders each once, and queues them
/// to every subscriber that wants them, all without waiting: a subscriber's
/// `ControlStream` has a bounded buffer, and one that fills it is cut off with a last
/// `error:` line naming the last row it was sent. So no subscriber slows the engine or
/// another subscriber, and one that keeps up misses nothing: it hears of every row after
/// the `after_seq` of its first line, in sequence order.
final class EventSubscribers: AuditTailSink {
    private struct Subscriber {
        let stream: ControlStream
        let user: String?
        let renderer: ReplyRenderer
        var sentThrough: Int64
    }

    private struct State {
        /// The newest row told to the subscribers (or passed while there were none).
        var lastSeq: Int64 = 0
        var subscribers: [Int: Subscriber] = [:]
        var nextID = 0
        var cutOff = 0
        /// Cut off and not yet unsubscribed by their connection: it logs why it ended.
        var cutOffIDs: Set<Int> = []
    }

    private let state = Mutex(State())

    func started(at head: Int64) {
        state.withLock { $0.lastSeq = head }
    }

    /// Adds a subscriber and queues its first line; nil when the stream is already gone.
    /// Under the lock that `committed` holds, so the `after_seq` it is told is exactly
    /// where its rows begin.
    func subscribe(_ stream: ControlStream, user: String?, renderer: ReplyRenderer) -> Int? {
        state.withLock { state in
            let line = ReplyRenderer.subscribedLine(afterSeq: state.lastSeq, user: user)
            guard stream.send(line) == .queued else { return nil }
            state.nextID += 1
            state.subscribers[state.nextID] = Subscriber(stream: stream, user: user, renderer: renderer, sentThrough: state.lastSeq)
            return state.nextID
        }
    }

    /// Removes the subscriber; answers whether it had been cut off for not reading.
    func unsubscribe(_ id: Int) -> Bool {
        state.withLock { state in
            state.subscribers[id] = nil
            return state.cutOffIDs.remove(id) != nil
        }
    }

    var count: Int { state.withLock { $0.subscribers.count } }
    /// Subscribers cut off for not reading, since start.
    var cutOffCount: Int { state.withLock { $0.cutOff } }

    func failed(_ error: StoreError) {
        state.withLock { state in
            for subscriber in state.subscribers.values {
                subscriber.stream.end(lastLine: subscriber.renderer.error("events: cannot read the audit rows after seq \(state.lastSeq): \(error)"))
            }
            state.subscribers.removeAll()
        }
    }

    func committed(head: Int64, rowsAfter: (Int64) throws(StoreError) -> [AuditRow]) {
        state.withLock { state in
            guard head > state.lastSeq else { return }
            guard !state.subscribers.isEmpty else {
                state.lastSeq = head
                return
            }
            let rows: [AuditRow]
            do {
                rows = try rowsAfter(state.lastSeq)
            } catch {
                // A row that cannot be read cannot be sent: end every stream rather than
                // let one skip it unnoticed.
                for subscriber in state.subscribers.values {
                    subscriber.stream.end(lastLine: subscriber.renderer.error("events: cannot read the audit rows after seq \(state.lastSeq): \(error)"))
                }
                state.subscribers.removeAll()
                return
            }
            guard let newest = rows.last?.seq else { return }
            let everyone = state.subscribers.values.contains { $0.user == nil }
            let users = Set(state.subscribers.values.compactMap(\.user))
            let lines: [(seq: Int64, user: String?, text: String)] = rows.compactMap { row in
                guard everyone || row.user.map(users.contains) == true else { return nil }
                return (row.seq, row.user, ReplyRenderer.eventLine(GrantEngine.view(row)))
            }
            for (id, subscriber) in state.subscribers {
                let mine = lines.filter { subscriber.user == nil || $0.user == subscriber.user }
                guard let last = mine.last?.seq else { continue }
                switch subscriber.stream.send(mine.map(\.text)) {
                case .queued:
                    state.subscribers[id]?.sentThrough = last
                case .overflow:
                    let bound = subscriber.stream.maxPendingBytes
                    subscriber.stream.end(lastLine: subscriber.renderer.error(
                        "events: cut off: more than \(bound) bytes of rows unread (this subscriber does not keep up); "
                            + "the last row sent was seq \(subscriber.sentThrough); `audit` has the rest"))
                    state.subscribers[id] = nil
                    state.cutOff += 1
                    state.cutOffIDs.insert(id)
                case .closed:
                    state.subscribers[id] = nil
                }
            }
            state.lastSeq = newest
        }
    }
}
