import Foundation
import Synchronization

/// The daemon's phase as `status` and systemd see it.
enum DaemonPhase: String, Sendable {
    case starting, ready, reloading, stopping, degraded
}

/// Facts about the running daemon that the control socket and STATUS= report.
final class DaemonStatus: Sendable {
    let version: String
    let startedAt: Date
    private let phaseBox = Mutex(DaemonPhase.starting)

    init(version: String, startedAt: Date = Date()) {
        self.version = version
        self.startedAt = startedAt
    }

    var phase: DaemonPhase {
        get { phaseBox.withLock { $0 } }
        set { phaseBox.withLock { $0 = newValue } }
    }

    /// Moves to `phase` unless degraded, which is final.
    func enter(_ phase: DaemonPhase) {
        phaseBox.withLock { if $0 != .degraded { $0 = phase } }
    }
}
