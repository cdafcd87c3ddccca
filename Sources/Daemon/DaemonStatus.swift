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
    private let reloadBox = Mutex<ReloadOutcome?>(nil)
    private let reloadSuccessBox = Mutex<Date?>(nil)

    init(version: String, startedAt: Date = Date()) {
        self.version = version
        self.startedAt = startedAt
    }

    var phase: DaemonPhase {
        get { phaseBox.withLock { $0 } }
        set { phaseBox.withLock { $0 = newValue } }
    }

    /// The last SIGHUP's outcome since start; nil until the first.
    var lastReload: ReloadOutcome? { reloadBox.withLock { $0 } }
    /// When a SIGHUP last applied a configuration; nil until one did.
    var lastSuccessfulReload: Date? { reloadSuccessBox.withLock { $0 } }

    func recordReload(_ outcome: ReloadOutcome) {
        reloadBox.withLock { $0 = outcome }
        if outcome.applied { reloadSuccessBox.withLock { $0 = outcome.at } }
    }

    /// Moves to `phase` unless degraded, which is final.
    func enter(_ phase: DaemonPhase) {
        phaseBox.withLock { if $0 != .degraded { $0 = phase } }
    }
}

/// What a SIGHUP came to: applied, or refused with the first problem.
struct ReloadOutcome: Sendable, Equatable {
    var at: Date
    var applied: Bool
    var problem: String?
}
