import Foundation

/// CPU time (user + system) a process has used, from /proc/PID/stat: fields 14 and 15,
/// in clock ticks, counted after the command name (which may hold spaces).
enum ProcessCPU {
    static func seconds(of pid: pid_t) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After ")": state is field 3, so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static var ofThisProcess: Double? { seconds(of: getpid()) }
}
