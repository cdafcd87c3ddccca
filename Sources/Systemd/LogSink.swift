import Glibc
import Logging

/// Where log entries go: journald's native protocol when stderr is a journal
/// stream, else readable stderr lines. Decided from `JOURNAL_STREAM` (device and
/// inode of the stream systemd connected), not from `sd_journal_sendv`'s result,
/// which is 0 even when nobody listens (docs/design.md §10).
public enum LogSink: Sendable, Equatable {
    case journal
    case stderr

    public static func detect(environment: [String: String]) -> LogSink {
        guard let stream = environment["JOURNAL_STREAM"] else { return .stderr }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return .stderr }
        var status = stat()
        guard fstat(STDERR_FILENO, &status) == 0 else { return .stderr }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode ? .journal : .stderr
    }

    /// Installs the backend for the whole process; call once, first thing.
    public func bootstrap(identifier: String, level: Logger.Level) {
        switch self {
        case .journal:
            LoggingSystem.bootstrap { _ in JournalLogHandler(identifier: identifier, logLevel: level) }
        case .stderr:
            LoggingSystem.bootstrap { label in StderrLogHandler(label: label, logLevel: level) }
        }
    }
}
