import DaemonConfig
import Foundation
import Store

/// This instance's row in the store's `instances` table, and every instance's as last
/// read (docs/design.md §13). Written before READY=1, again on the scheduler's
/// `.instanceBeat`, and with a stop mark at a clean stop; each write reads the table back
/// in the same commit, so `status` shows the cluster without a read of its own.
final class InstancePresence: Sendable {
    /// Often enough that "last seen" tells a live instance from a dead one within a
    /// minute; one small commit each, nothing on the audit chain.
    static let beatInterval: TimeInterval = 10

    private let record: Locked<InstanceRecord>
    private let seen = Locked<[InstanceRecord]>([])

    init(name: String, startedAt: Date) {
        record = Locked(InstanceRecord(
            name: name, host: StoreInstance.hostName(), pid: Int64(getpid()), startedAt: startedAt, lastSeen: startedAt))
    }

    var name: String { record.value.name }

    /// Every instance of the store by name, as of this instance's last write.
    var cluster: [InstanceRecord] { seen.value }

    func beat(_ store: GrantStore, at now: Date) async throws {
        try await put(store) { $0.lastSeen = now }
    }

    func stopped(_ store: GrantStore, at now: Date) async throws {
        try await put(store) {
            $0.lastSeen = now
            $0.stoppedAt = now
        }
    }

    private func put(_ store: GrantStore, _ change: @Sendable (inout InstanceRecord) -> Void) async throws {
        let next = record.withLock {
            change(&$0)
            return $0
        }
        seen.value = try await store.put(instance: next)
    }
}
