import NIOCore

/// Bounds the connections in progress. When every slot is taken, the connection
/// that has waited longest without sending its line is closed to make room, so
/// a crowd of idle or slow clients can delay an admin's `status` by one eviction,
/// never lock it out.
actor ConnectionSlots {
    private struct Slot {
        let channel: Channel
        var waitingForLine: Bool
    }

    private let capacity: Int
    private var slots: [Int: Slot] = [:]
    private var nextID = 0
    private(set) var evictions = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    func admit(_ channel: Channel) -> Int {
        if slots.count >= capacity {
            let oldestWaiting = slots.filter(\.value.waitingForLine).keys.min()
            if let victim = oldestWaiting.flatMap({ slots.removeValue(forKey: $0) }) {
                evictions += 1
                victim.channel.pipeline.fireUserInboundEventTriggered(Eviction())
            }
        }
        nextID += 1
        slots[nextID] = Slot(channel: channel, waitingForLine: true)
        return nextID
    }

    func lineReceived(_ id: Int) {
        slots[id]?.waitingForLine = false
    }

    func release(_ id: Int) {
        slots[id] = nil
    }

    var open: Int { slots.count }
}
