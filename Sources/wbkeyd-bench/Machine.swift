import Foundation

/// What a figure was measured on, printed with every result.
struct Machine: CustomStringConvertible {
    let processors: Int
    let memoryBytes: UInt64
    let cpuModel: String
    let kernel: String

    static var current: Machine {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "" } ?? "unknown"
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let kilobytes = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { UInt64($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return Machine(
            processors: ProcessInfo.processInfo.activeProcessorCount, memoryBytes: kilobytes * 1024, cpuModel: model,
            kernel: "Linux \(release)")
    }

    /// The 1, 5 and 15 minute load averages, as /proc/loadavg gives them.
    static var loadAverage: String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    var description: String {
        let gibibytes = Double(memoryBytes) / 1_073_741_824
        return "\(processors) CPUs (nproc), \(String(format: "%.1f", gibibytes)) GiB memory, \(cpuModel), \(kernel)"
    }
}
