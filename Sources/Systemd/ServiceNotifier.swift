import CSystemd
import Glibc

/// The sd_notify protocol (docs/design.md §8): one datagram per state change to the
/// socket systemd names in `NOTIFY_SOCKET` (a path or an abstract `@name`).
/// Without `NOTIFY_SOCKET` every call is a no-op, so the daemon runs the same way
/// in a terminal, in tests and under systemd.
public struct ServiceNotifier: Sendable {
    public init() {}

    /// Whether a service manager is listening at all.
    public var isSupervised: Bool { getenv("NOTIFY_SOCKET") != nil }

    /// Sends one state message, e.g. `["READY=1", "STATUS=…"]`. Returns false when
    /// the datagram could not be sent; the daemon logs that and carries on, since
    /// systemd's own timeouts then tell the operator.
    @discardableResult
    public func send(_ fields: [String]) -> Bool {
        let message = fields.map { $0.replacingNewlines() }.joined(separator: "\n")
        return sd_notify(0, message) >= 0
    }

    @discardableResult
    public func ready(status: String) -> Bool { send(["READY=1", "STATUS=\(status)"]) }

    @discardableResult
    public func status(_ status: String) -> Bool { send(["STATUS=\(status)"]) }

    /// `RELOADING=1` must carry the monotonic time of the reload's start (systemd 253+
    /// checks it for `Type=notify-reload`; older versions ignore it).
    @discardableResult
    public func reloading(status: String) -> Bool {
        send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())", "STATUS=\(status)"])
    }

    @discardableResult
    public func stopping(status: String) -> Bool { send(["STOPPING=1", "STATUS=\(status)"]) }

    @discardableResult
    public func watchdogPing() -> Bool { send(["WATCHDOG=1"]) }

    /// Before a fatal exit: the cause in `STATUS=` and, when there is one, `ERRNO=`.
    @discardableResult
    public func failing(status: String, errno code: Int32? = nil) -> Bool {
        var fields = ["STATUS=\(status)"]
        if let code { fields.append("ERRNO=\(code)") }
        return send(fields)
    }

    /// A multi-line message as one `STATUS=` line: lines joined by "; ", but a line that
    /// ends in ":" heads what follows and is joined by a space, so
    /// "configuration refused:\nFILE: KEY: reason" reads "configuration refused: FILE: KEY: reason".
    public static func statusLine(_ message: String) -> String {
        let lines = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var line = ""
        for part in lines {
            if !line.isEmpty { line += line.hasSuffix(":") ? " " : "; " }
            line += part
        }
        return line
    }

    /// The watchdog interval systemd asks for (`WATCHDOG_USEC` for this PID), if any.
    public func watchdogInterval() -> Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec))
    }

    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}

extension String {
    /// A notify field or a one-line status must stay on one line.
    func replacingNewlines() -> String {
        String(map { $0.isNewline ? " " : $0 })
    }
}
