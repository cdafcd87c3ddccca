import Foundation

/// A min-heap of absolute deadlines, at most one per key, with O(log n) set,
/// remove and pop. Pure data: the scheduler owns the clock.
public struct DeadlineQueue<Key: Hashable & Sendable>: Sendable {
    private var heap: [(due: Date, key: Key)] = []
    private var position: [Key: Int] = [:]

    public init() {}

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }
    /// The earliest deadline.
    public var first: (due: Date, key: Key)? { heap.first }

    public func deadline(of key: Key) -> Date? {
        position[key].map { heap[$0].due }
    }

    /// Sets (or moves) the deadline of `key`.
    public mutating func set(_ key: Key, at due: Date) {
        if let index = position[key] {
            let earlier = due < heap[index].due
            heap[index].due = due
            if earlier { siftUp(index) } else { siftDown(index) }
        } else {
            heap.append((due, key))
            position[key] = heap.count - 1
            siftUp(heap.count - 1)
        }
    }

    public mutating func remove(_ key: Key) {
        guard let index = position.removeValue(forKey: key) else { return }
        let last = heap.removeLast()
        guard index < heap.count else { return }
        heap[index] = last
        position[last.key] = index
        siftDown(index)
        siftUp(index)
    }

    /// Removes and returns every key due at or before `now`, earliest first.
    public mutating func popDue(at now: Date) -> [Key] {
        var due: [Key] = []
        while let top = heap.first, top.due <= now {
            due.append(top.key)
            remove(top.key)
        }
        return due
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].due < heap[parent].due else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].due < heap[smallest].due { smallest = left }
            if right < heap.count, heap[right].due < heap[smallest].due { smallest = right }
            guard smallest != parent else { return }
            swapAt(parent, smallest)
            parent = smallest
        }
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        heap.swapAt(a, b)
        position[heap[a].key] = a
        position[heap[b].key] = b
    }
}
