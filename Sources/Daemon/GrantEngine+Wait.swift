import ControlProtocol
import Foundation
import GrantLifecycle

/// `wait USER STATE[,STATE…] [TIMEOUT]` (docs/design.md §12): the engine's observers,
/// registered before the grant is read, so a change between the read and the wait is
/// not missed.
extension GrantEngine {
    enum WaitOutcome: Sendable {
        case reached(GrantView)
        /// The grant as it was last seen (nil: no grant), when the time ran out.
        case timedOut(GrantView?)
        /// The client went away.
        case cancelled
    }

    /// A `wait`'s registration: set `changed` by every commit of the user's grant, and
    /// resumed if someone is waiting.
    struct Watcher {
        var changed = false
        var continuation: CheckedContinuation<Void, Never>?
    }

    func waitForState(of user: String, in states: [GrantState], timeout: Duration) async throws -> WaitOutcome {
        let id = UUID()
        watchers[user, default: [:]][id] = Watcher()
        defer { removeWatcher(user, id) }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let grant = try await grantView(user)
            if let grant, states.contains(grant.state) { return .reached(grant) }
            if Task.isCancelled { return .cancelled }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return .timedOut(grant) }
            await awaitChange(user, id, timeout: left)
        }
    }

    /// Returns at once if the grant changed since the last call, else at the next change,
    /// at `timeout`, or when the task is cancelled.
    private func awaitChange(_ user: String, _ id: UUID, timeout: Duration) async {
        if watchers[user]?[id]?.changed == true {
            watchers[user]?[id]?.changed = false
            return
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.wakeWatcher(user, id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { watchers[user]?[id]?.continuation = $0 }
        } onCancel: {
            Task { await self.wakeWatcher(user, id) }
        }
        timer.cancel()
        watchers[user]?[id]?.changed = false
    }

    private func wakeWatcher(_ user: String, _ id: UUID) {
        watchers[user]?[id]?.continuation.take()?.resume()
    }

    private func removeWatcher(_ user: String, _ id: UUID) {
        watchers[user]?[id]?.continuation.take()?.resume()
        watchers[user]?[id] = nil
        if watchers[user]?.isEmpty == true { watchers[user] = nil }
    }

    /// Called for every commit of `user`'s grant.
    func notifyWatchers(of user: String) {
        guard watchers[user] != nil else { return }
        for id in watchers[user]!.keys {
            watchers[user]?[id]?.changed = true
            watchers[user]?[id]?.continuation.take()?.resume()
        }
    }
}
