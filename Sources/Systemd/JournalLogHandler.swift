import CSystemd
import Glibc
import Logging

/// A swift-log backend over journald's native protocol (`sd_journal_sendv`), so each
/// entry carries structured fields that `journalctl -o json` and `-x` can use.
/// Metadata `event`, `user` and `external_id` become MESSAGE_ID, WBKEYD_EVENT,
/// WBKEYD_USER and WBKEYD_EXTERNAL_ID; any other key becomes WBKEYD_<KEY>.
public struct JournalLogHandler: LogHandler, MetadataMerging {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let identifier: String

    public init(identifier: String = "wbkeyd", logLevel: Logger.Level = .info) {
        self.identifier = identifier
        self.logLevel = logLevel
    }

    public func log(event: LogEvent) {
        let merged = mergedMetadata(of: event)
        let fields = Self.fields(
            identifier: identifier, level: event.level, message: event.message.description, metadata: merged,
            file: event.file, function: event.function, line: event.line)
        Self.send(fields)
    }

    /// The journal fields of one entry, in the order they are sent.
    static func fields(
        identifier: String, level: Logger.Level, message: String, metadata: Logger.Metadata,
        file: String, function: String, line: UInt
    ) -> [String] {
        var fields = [
            "MESSAGE=\(message)",
            "PRIORITY=\(level.syslogPriority)",
            "SYSLOG_IDENTIFIER=\(identifier)",
            "CODE_FILE=\(file)",
            "CODE_LINE=\(line)",
            "CODE_FUNC=\(function)",
        ]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "event":
                fields.append("WBKEYD_EVENT=\(value)")
                if let id = JournalMessageID.byEvent["\(value)"] { fields.append("MESSAGE_ID=\(id)") }
            case "user": fields.append("WBKEYD_USER=\(value)")
            case "external_id": fields.append("WBKEYD_EXTERNAL_ID=\(value)")
            default: fields.append("WBKEYD_\(journalFieldName(key))=\(value)")
            }
        }
        return fields
    }

    /// Journal field names are upper-case letters, digits and underscores.
    static func journalFieldName(_ key: String) -> String {
        String(key.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" }.prefix(56))
    }

    private static func send(_ fields: [String]) {
        var buffers = fields.map { Array($0.utf8) }
        var vectors: [iovec] = []
        vectors.reserveCapacity(buffers.count)
        for index in buffers.indices {
            buffers[index].withUnsafeMutableBytes { bytes in
                vectors.append(iovec(iov_base: bytes.baseAddress, iov_len: bytes.count))
            }
        }
        // The buffers stay alive (and unmoved) until after the call below.
        withExtendedLifetime(buffers) {
            _ = sd_journal_sendv(vectors, Int32(vectors.count))
        }
    }
}

extension Logger.Level {
    /// syslog(3) priorities, as journald files them.
    public var syslogPriority: Int {
        switch self {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
