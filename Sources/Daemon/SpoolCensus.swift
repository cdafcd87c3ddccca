import Foundation
import Spool
import Synchronization

/// The spool's backlog as `status`, `metrics` and systemd's STATUS= report it, kept so
/// that answering never lists a directory (with ten thousand files waiting, a listing
/// takes tens of milliseconds and competes with the intake for the disk).
///
/// How fresh: only the intake writes it, on its actor, so its updates and its recounts
/// never interleave. What wbkeyd does itself is counted as it happens: the files a scan
/// finds in `new/`, each claim, each completed or rejected file. What others do (a
/// writer delivering while the intake is busy, an operator clearing `rejected/`) shows
/// at the next recount, which the intake runs once a second in the background: the
/// counts are at most about a second behind the directories (plus however long the
/// intake's actor is busy with a claim run, during which nothing else moves the files).
final class SpoolCensus: Sendable {
    private struct Counts {
        var new = 0
        var claimed = 0
        var rejected = 0
        /// Modification time of the oldest delivery known to wait in `new/`.
        var oldestNew: Date?
    }

    /// Nil until the first count.
    private let counts = Mutex<Counts?>(nil)

    /// The backlog, with the oldest delivery's age as of `now`; nil before the first count.
    func backlog(now: Date = Date()) -> SpoolBacklog? {
        counts.withLock { $0 }.map { c in
            SpoolBacklog(
                new: c.new, claimed: c.claimed, rejected: c.rejected,
                oldestNewAge: c.oldestNew.map { Duration.seconds(max(0, now.timeIntervalSince($0))) })
        }
    }

    /// A full listing of the three directories taken at `now`.
    func recounted(_ backlog: SpoolBacklog, at now: Date) {
        counts.withLock {
            $0 = Counts(
                new: backlog.new, claimed: backlog.claimed, rejected: backlog.rejected,
                oldestNew: backlog.oldestNewAge.map { now.addingTimeInterval(-$0.seconds) })
        }
    }

    /// A scan listed `new/`: these files wait there, oldest first.
    func listedNew(_ waiting: [WaitingFile]) {
        update { $0.new = waiting.count; $0.oldestNew = waiting.first?.modified }
    }

    /// A file left `new/` (claimed by wbkeyd, or taken by another claimer), the oldest
    /// of those still waiting is `nextOldest`.
    func leftNew(claimed: Bool, nextOldest: Date?) {
        update {
            $0.new = max(0, $0.new - 1)
            $0.oldestNew = $0.new == 0 ? nil : nextOldest
            if claimed { $0.claimed += 1 }
        }
    }

    /// A claimed file was deleted (its content committed) or moved to `rejected/`.
    func leftClaimed(rejected: Bool) {
        update {
            $0.claimed = max(0, $0.claimed - 1)
            if rejected { $0.rejected += 1 }
        }
    }

    private func update(_ change: (inout Counts) -> Void) {
        counts.withLock { current in
            var c = current ?? Counts()
            change(&c)
            current = c
        }
    }
}
