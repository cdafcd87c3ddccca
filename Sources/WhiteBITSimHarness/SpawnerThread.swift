import Foundation
import Synchronization

/// One thread that lives as long as the process and runs every spawn made through
/// `die-with-parent` (PR_SET_PDEATHSIG fires when the spawning *thread* ends): wbkeyd's
/// harness (`ChildLauncher`) and PostgreSQL's (`PostgresServer`) share it.
package final class SpawnerThread: Sendable {
    package static let shared = SpawnerThread()

    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let wake = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [self] in
            while true {
                wake.wait()
                let job = jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                job?()
            }
        }
        thread.name = "wbkeyd-harness-spawner"
        thread.start()
    }

    package func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            jobs.withLock { $0.append { continuation.resume(returning: body()) } }
            wake.signal()
        }
    }
}
