import Glibc
import SysExits

/// Why a run of wbkeyctl ends without success. Each case has its own exit status so
/// that a script can tell "wbkeyd said no" from "I called it wrong" from "wbkeyd is
/// not there". Messages never carry a code, verifier or secret.
enum WBKeyCtlError: Error, CustomStringConvertible {
    /// wbkeyd answered `error: …`; the answer is already printed.
    case answeredWithError
    /// A spool file could not be written.
    case failed(String)
    /// The command line is wrong; nothing was sent or written.
    case usage(String)
    /// No answer from the control socket: not there, not permitted, reset, or too slow.
    case unreachable(socket: String, reason: String)

    static let errorAnswerStatus = ExitStatus.failure
    static let usageStatus = ExitStatus.usage
    static let unreachableStatus = ExitStatus.unavailable

    var exitStatus: Int32 {
        switch self {
        case .answeredWithError, .failed: Self.errorAnswerStatus
        case .usage: Self.usageStatus
        case .unreachable: Self.unreachableStatus
        }
    }

    var description: String {
        switch self {
        case .answeredWithError: "wbkeyd answered with an error"
        case .failed(let message): message
        case .usage(let message): message
        case .unreachable(let socket, let reason): "cannot reach wbkeyd at \(socket): \(reason)"
        }
    }

    static func unreachable(socket: String, errno code: Int32) -> WBKeyCtlError {
        .unreachable(socket: socket, reason: describe(errno: code) + hint(errno: code))
    }

    /// "No such file or directory (errno 2)": the words for people, the number for grep.
    static func describe(errno code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }

    private static func hint(errno code: Int32) -> String {
        switch code {
        case ENOENT, ECONNREFUSED:
            "; is wbkeyd running? (--socket or WBKEYD_SOCKET name another socket)"
        case EACCES, EPERM:
            "; the socket's group and mode (control.mode) decide who may connect"
        default:
            ""
        }
    }
}
