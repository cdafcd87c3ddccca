/// One line wbkeyd printed. On stderr it logs
/// `2026-11-26T10:00:00.123Z info wbkeyd: secret_secured: secret secured external_id=… user=u-1`:
/// time, level, label, the event when there is one, the message, then `key=value` fields.
public struct DaemonLogLine: Sendable, CustomStringConvertible {
    public let text: String
    /// Position within the output of its run, from 0.
    public let index: Int

    public init(text: String, index: Int) {
        self.text = text
        self.index = index
    }

    public var description: String { text }

    private var words: [Substring] { text.split(separator: " ", omittingEmptySubsequences: false) }

    /// `trace` … `critical`, when the line has the log format.
    public var level: String? {
        let words = self.words
        guard words.count > 2, words[2].hasSuffix(":") else { return nil }
        return String(words[1])
    }

    /// The audit or log event (`secret_secured`, `spool file rejected` has `authorization_rejected`).
    public var event: String? {
        let words = self.words
        guard words.count > 3, words[2].hasSuffix(":"), words[3].count > 1, words[3].hasSuffix(":") else { return nil }
        let name = words[3].dropLast()
        guard name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }) else { return nil }
        return String(name)
    }

    /// The value of field `key` (up to the next space), from the last ` key=` in the line:
    /// the fields come after the message.
    public func value(_ key: String) -> String? {
        guard let range = text.range(of: " \(key)=", options: .backwards) else { return nil }
        let rest = text[range.upperBound...]
        return String(rest.prefix { $0 != " " })
    }

    /// True for a line of `event`, for `user` when given.
    public func isEvent(_ event: String, user: String? = nil) -> Bool {
        self.event == event && (user == nil || value("user") == user)
    }
}

/// Where a run's output stood at some moment; awaiting from a mark sees only later lines.
public struct LogMark: Sendable, Equatable {
    public let run: Int
    public let line: Int
}
