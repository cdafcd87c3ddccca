import ControlSocket
import DaemonConfig
import Foundation

/// Runs the group-database lookups of control commands (`getpwuid_r`, `getgrouplist`)
/// on a thread of its own. NSS may be slow (LDAP, sssd, a hung userdb): on Swift's
/// cooperative pool, which has one thread per core, a few such calls would stall every
/// task, the scheduler that pings the watchdog among them. Here they only delay the
/// commands that wait for them. One thread, lookups in order: bounded, and a slow NSS
/// is slow for everyone alike. The thread keeps the queue alive and runs for the life
/// of the process, as the daemon's dispatcher does.
final class AccountLookupThread: @unchecked Sendable {
    static let threadName = "wbkeyd-accounts"

    // `@unchecked`: `jobs` is only touched with `condition` locked.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    /// The lookup thread, once it runs (tests check where a lookup ran).
    private(set) var threadID: pthread_t?

    init() {
        let started = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            // Named from inside: on Linux a name set before start() is not applied.
            Thread.current.name = Self.threadName
            threadID = pthread_self()
            started.signal()
            while true {
                condition.lock()
                while self.jobs.isEmpty { condition.wait() }
                let job = self.jobs.removeFirst()
                condition.unlock()
                job()
            }
        }
        thread.start()
        started.wait()
    }

    /// The tiers of `peer` under `policy`, decided on the lookup thread.
    func access(_ policy: AccessPolicy, peer: PeerCredentials, accounts: any AccountDirectory) async -> PeerAccess {
        await run { policy.access(peerUID: peer.uid, peerGID: peer.gid, accounts: accounts) }
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            condition.lock()
            jobs.append { continuation.resume(returning: body()) }
            condition.signal()
            condition.unlock()
        }
    }
}
