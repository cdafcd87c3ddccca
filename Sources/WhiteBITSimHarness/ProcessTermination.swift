/// How a child process ended.
public struct ProcessTermination: Sendable, Equatable, CustomStringConvertible {
    /// The exit status, or the signal number when `bySignal`; -1 when the child was
    /// reaped elsewhere and its end is unknown.
    public let code: Int32
    public let bySignal: Bool

    public init(code: Int32, bySignal: Bool) {
        self.code = code
        self.bySignal = bySignal
    }

    /// The exit status; nil when a signal ended the process.
    public var exitStatus: Int32? { bySignal ? nil : code }
    public var isCleanExit: Bool { !bySignal && code == 0 }
    public var description: String { bySignal ? "killed by signal \(code)" : "exit status \(code)" }

    /// From a `waitpid` status word (the <sys/wait.h> macros, spelled out).
    package init(waitStatus status: Int32) {
        let signal = status & 0x7F
        self = signal == 0 ? ProcessTermination(code: (status >> 8) & 0xFF, bySignal: false) : ProcessTermination(code: signal, bySignal: true)
    }
}
