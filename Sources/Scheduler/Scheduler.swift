import Foundation

/// The daemon's one scheduler: every deadline of every grant (and the daemon's own
/// periodic work) sits in one heap, and one loop hands keys out as they come due.
/// No task per timer: a hundred thousand grants cost a hundred thousand heap entries.
///
/// Deadlines are wall-clock `Date`s because they are stored and survive restarts;
/// the loop never sleeps longer than `tick`, so a jump of the wall clock is noticed
/// within a tick, and `lastTick` shows the loop is alive (the systemd watchdog pings
/// only while it advances).
public actor Scheduler<Key: Hashable & Sendable> {
    private var queue = DeadlineQueue<Key>()
    private var sleeper: Task<Void, Never>?
    private var sleepingUntil: Date?
    private let tick: Duration
    private let wallClock: @Sendable () -> Date
    private let output: AsyncStream<Key>.Continuation
    /// Keys as they come due. One consumer.
    public nonisolated let due: AsyncStream<Key>
    /// When the loop last went round; the watchdog's evidence that time is kept.
    public private(set) var lastTick: ContinuousClock.Instant = .now

    public init(tick: Duration = .seconds(1), wallClock: @escaping @Sendable () -> Date = { Date() }) {
        self.tick = tick
        self.wallClock = wallClock
        (due, output) = AsyncStream.makeStream(of: Key.self)
    }

    public func schedule(_ key: Key, at date: Date) {
        queue.set(key, at: date)
        if let until = sleepingUntil, date < until { sleeper?.cancel() }
    }

    /// Schedules at `date`, or cancels when it is nil: the shape grants come in.
    public func reschedule(_ key: Key, at date: Date?) {
        if let date { schedule(key, at: date) } else { cancel(key) }
    }

    public func cancel(_ key: Key) {
        queue.remove(key)
    }

    public var pending: Int { queue.count }
    /// The loop is asleep until its next deadline or tick.
    public var isWaiting: Bool { sleepingUntil != nil }
    public var nextDeadline: Date? { queue.first?.due }
    public func deadline(of key: Key) -> Date? { queue.deadline(of: key) }

    /// Runs until the calling task is cancelled; then finishes `due`.
    public func run() async {
        while !Task.isCancelled {
            lastTick = .now
            let now = wallClock()
            for key in queue.popDue(at: now) { output.yield(key) }
            var wait = tick
            if let first = queue.first?.due {
                let seconds = max(first.timeIntervalSince(now), 0)
                wait = min(wait, .milliseconds(Int64((seconds * 1000).rounded(.up))))
            }
            sleepingUntil = now.addingTimeInterval(wait.seconds)
            let sleeper = Task { _ = try? await Task.sleep(for: wait) }
            self.sleeper = sleeper
            await withTaskCancellationHandler {
                await sleeper.value
            } onCancel: {
                sleeper.cancel()
            }
            sleepingUntil = nil
        }
        output.finish()
    }
}

extension Duration {
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
