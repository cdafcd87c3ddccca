@testable import Daemon
import ControlSocket
import DaemonConfig
import Foundation
import Synchronization
import Testing

/// The group lookups of a control command run on their own thread, never on Swift's
/// cooperative pool, so a slow NSS cannot stall the scheduler (and the watchdog pings).
@Suite struct AccountLookupThreadTests {
    /// An account directory whose every lookup waits for `gate` (at most `patience`) and
    /// notes the thread it ran on and whether it gave up waiting.
    final class GatedDirectory: AccountDirectory {
        let gate = DispatchSemaphore(value: 0)
        let patience: DispatchTimeInterval
        let threads = Mutex<[pthread_t]>([])
        let gaveUp = Mutex(0)

        init(open: Bool = false, patience: DispatchTimeInterval = .seconds(5)) {
            self.patience = patience
            if open { for _ in 0..<1_000 { gate.signal() } }
        }

        private func wait() {
            threads.withLock { $0.append(pthread_self()) }
            if gate.wait(timeout: .now() + patience) == .timedOut { gaveUp.withLock { $0 += 1 } }
        }

        func user(named name: String) throws(AccountLookupError) -> UserAccount? { wait(); return nil }
        func user(id uid: uid_t) throws(AccountLookupError) -> UserAccount? {
            wait()
            return UserAccount(name: "ops", uid: uid, gid: 100)
        }
        func group(named name: String) throws(AccountLookupError) -> GroupAccount? { wait(); return nil }
        func groupIDs(ofUser name: String, primaryGroup gid: gid_t) throws(AccountLookupError) -> [gid_t] {
            wait()
            return [gid, 990]
        }
    }

    static let policy = AccessPolicy(adminGroup: GroupAccount(name: "wbkeyd-admin", gid: 990))
    static let peer = PeerCredentials(pid: 1, uid: 1000, gid: 100)

    @Test func theLookupRunsOnTheLookupThreadAndDecidesAsBefore() async throws {
        let lookups = AccountLookupThread()
        let directory = GatedDirectory(open: true)
        let access = await lookups.access(Self.policy, peer: Self.peer, accounts: directory)
        #expect(access.allows(.admin), "the group from getgrouplist made uid 1000 an admin")
        let thread = try #require(lookups.threadID)
        #expect(directory.threads.withLock { $0 } == [thread, thread], "getpwuid_r and getgrouplist ran elsewhere")
    }

    /// More blocked lookups than the pool has threads, and the gate that releases them is
    /// opened from the pool: were the lookups on the pool, nothing could open it.
    @Test func blockedLookupsLeaveThePoolFree() async throws {
        let lookups = AccountLookupThread()
        let directory = GatedDirectory()
        let callers = ProcessInfo.processInfo.activeProcessorCount + 1
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<callers {
                group.addTask { _ = await lookups.access(Self.policy, peer: Self.peer, accounts: directory) }
            }
            group.addTask {
                // Two lookups per caller (the user, then the groups).
                for _ in 0..<(2 * callers) {
                    try? await Task.sleep(for: .milliseconds(5))
                    directory.gate.signal()
                }
            }
        }
        #expect(directory.gaveUp.withLock { $0 } == 0, "lookups waited in vain: the pool could not run the task that opens the gate")
        let thread = try #require(lookups.threadID)
        #expect(directory.threads.withLock { $0 }.allSatisfy { $0 == thread })
    }
}
