import NIOCore
import Synchronization

/// Bounds the connections in progress. When every slot is taken, the connection
/// that has waited longest without sending its line is closed to make room, so
/// a crowd of idle or slow clients can delay an admin's `status` by one eviction,
/// never lock it out. When every slot has its line and is being answered, there is no
/// one to evict and the newcomer is refused: the cap holds, so connections (and their
/// descriptors and replies) stay bounded. Synchronous (a lock, not an actor) so that the pipeline can
/// admit, mark and release on the event loop, before and after any answer.
final class ConnectionSlots: Sendable {
    private struct Slot {
        let channel: Channel
        var waitingForLine: Bool
    }

    private struct State {
        var slots: [Int: Slot] = [:]
        var nextID = 0
        var evictions = 0
        var refusals = 0
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The slot of the new connection, or nil when it must be refused.
    func admit(_ channel: Channel) -> Int? {
        let admitted: (Int, Channel?)? = state.withLock { state in
            var victim: Channel?
            if state.slots.count >= capacity {
                let oldestWaiting = state.slots.filter(\.value.waitingForLine).keys.min()
                guard let oldestWaiting else {
                    state.refusals += 1
                    return nil
                }
                victim = state.slots.removeValue(forKey: oldestWaiting)?.channel
                state.evictions += 1
            }
            state.nextID += 1
            state.slots[state.nextID] = Slot(channel: channel, waitingForLine: true)
            return (state.nextID, victim)
        }
        guard let (id, victim) = admitted else { return nil }
        // Outside the lock: on the victim's own event loop this runs inline.
        victim?.pipeline.fireUserInboundEventTriggered(Eviction())
        return id
    }

    func lineReceived(_ id: Int) {
        state.withLock { _ = $0.slots[id]?.waitingForLine = false }
    }

    func release(_ id: Int) {
        state.withLock { $0.slots[id] = nil }
    }

    /// Frees the slot of `channel`, which goes on as a held connection (`HeldConnections`).
    func release(_ channel: Channel) {
        state.withLock { state in
            if let id = state.slots.first(where: { $0.value.channel === channel })?.key { state.slots[id] = nil }
        }
    }

    var open: Int { state.withLock { $0.slots.count } }
    var evictions: Int { state.withLock { $0.evictions } }
    var refusals: Int { state.withLock { $0.refusals } }
}

/// The cap on held connections (`events` subscribers, `wait`ers; docs/design.md §12),
/// apart from `ConnectionSlots`: they last as long as the client wants, so they must not
/// take the slots that ordinary commands need, nor grow without bound themselves. Each
/// group has the cap to itself: waiters cannot lock out subscribers.
final class HeldConnections: Sendable {
    private let capacity: Int
    private let open = Mutex<[String: Int]>([:])

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    func take(_ group: String) -> Bool {
        open.withLock { open in
            guard open[group, default: 0] < capacity else { return false }
            open[group, default: 0] += 1
            return true
        }
    }

    func release(_ group: String) {
        open.withLock { $0[group, default: 1] -= 1 }
    }
}
