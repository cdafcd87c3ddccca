import Foundation
import Logging

/// Readable lines on stderr, for a terminal or a supervisor without journald:
/// `2026-11-26T10:00:00.123Z info key_revoked: key deleted user=u-1 external_id=…`.
public struct StderrLogHandler: LogHandler, MetadataMerging {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    public init(label: String, logLevel: Logger.Level = .info) {
        self.label = label
        self.logLevel = logLevel
    }

    public func log(event: LogEvent) {
        let merged = mergedMetadata(of: event)
        let line = Self.line(at: Date(), level: event.level, label: label, message: event.message.description, metadata: merged)
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func line(at date: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var text = "\(date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))) \(level) \(label):"
        if let event = metadata["event"] { text += " \(event):" }
        text += " " + String(message.map { $0.isNewline ? " " : $0 })
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where key != "event" {
            text += " \(key)=\(value)"
        }
        return text
    }
}
