import CSystemd
import Glibc

/// Keeps the process's memory, which holds the master key, the client secret, tokens and
/// API secrets, out of core dumps and out of reach of same-uid debuggers and /proc readers.
/// wbkeyd.service sets LimitCORE=0 too; this holds where the unit does not (a manual run,
/// another service manager) and also covers ptrace and /proc/PID/mem.
public enum CoreDumpGuard {
    public struct Failure: Error, CustomStringConvertible {
        public let errno: Int32
        public var description: String {
            "cannot make the process non-dumpable (prctl PR_SET_DUMPABLE): \(String(cString: strerror(errno)))"
        }
    }

    /// Call before any secret is read.
    public static func engage() throws(Failure) {
        guard wbkeyd_set_dumpable(0) == 0 else { throw Failure(errno: errno) }
        // Best effort: under wbkeyd.service the system call filter refuses setrlimit
        // (LimitCORE=0 has done it already), and non-dumpable alone stops the dump.
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none)
    }

    public static var isDumpable: Bool { wbkeyd_get_dumpable() != 0 }
}
