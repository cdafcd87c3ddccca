/// Everything the one scheduler keeps deadlines for.
enum DaemonTimer: Hashable, Sendable {
    /// A grant's earliest deadline.
    case grant(String)
    /// The periodic spool rescan that catches what inotify missed.
    case spoolRescan
    /// Housekeeping: audit pruning, stale fingerprints and states, WAL checkpoint.
    case housekeeping
    /// The audit chain head, written to the journal as a witness.
    case auditWitness
    /// The one-line STATUS= for systemd.
    case statusLine
    /// This instance's row in `instances` (`InstancePresence`).
    case instanceBeat
}
