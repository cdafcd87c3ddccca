import DaemonConfig
import Foundation
import Store

/// This instance's row in the store's `instances` table and its lease, and every
/// instance's row as last read (docs/design.md §13). Written before READY=1, again on the
/// scheduler's `.instanceBeat` every third of the lease (each write renews the lease and
/// claims grants no live instance holds), and with a stop mark at a clean stop, which
/// frees this instance's grants at once. Each write reads the table back in the same
/// commit, so `status` shows the cluster without a read of its own.
final class InstancePresence: Sendable {
    /// Grants claimed per heartbeat at most: one commit stays short, and a larger
    /// takeover goes on at the next beat, which comes at once (`beat` answers the count).
    static let claimLimit = 1_000

    private let record: Locked<InstanceRecord>
    private let seen = Locked<[InstanceRecord]>([])
    private let holders = Locked<[String: Int]>([:])
    /// A third of the lease: two renewals can be missed before it runs out.
    let beatInterval: TimeInterval

    init(name: String, startedAt: Date, lease: Duration) {
        record = Locked(InstanceRecord(
            name: name, host: StoreInstance.hostName(), pid: Int64(getpid()), startedAt: startedAt, lastSeen: startedAt))
        beatInterval = lease.seconds / 3
    }

    var name: String { record.value.name }

    /// Every instance of the store by name, as of this instance's last write.
    var cluster: [InstanceRecord] { seen.value }

    /// Grants by the instance that holds them, as of the last write.
    var grantsByOwner: [String: Int] { holders.value }

    /// The heartbeat; answers how many grants it claimed. `afresh` at start (see
    /// `GrantEngine.leaseRound`).
    @discardableResult
    func beat(_ engine: GrantEngine, at now: Date, afresh: Bool = false) async throws -> Int {
        let next = record.withLock {
            $0.lastSeen = now
            return $0
        }
        let round = try await engine.leaseRound(next, claimLimit: Self.claimLimit, afresh: afresh)
        seen.value = round.instances
        holders.value = round.grantsByOwner
        return round.claimed.count
    }

    func stopped(_ store: GrantStore, at now: Date) async throws {
        let next = record.withLock {
            $0.lastSeen = now
            $0.stoppedAt = now
            return $0
        }
        seen.value = try await store.release(instance: next)
        holders.value[next.name] = nil
    }
}
