import ArgumentParser
import Foundation
import Glibc
import Synchronization
import UnixSocketAddress
import WBKeydHarness

/// `sign` over the real socket (docs/design.md §12): round trips one after another on an
/// idle daemon, then signatures per second with several callers at once.
struct SignLatency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-latency",
        abstract: "Measures `sign` round trips and signatures per second for one user.",
        discussion: """
            Starts whitebit-sim and wbkeyd, makes one active grant, then asks `sign USER \
            /api/v4/main-account/balance json` back to back and reports p50/p99/max; then \
            runs --callers threads that sign as fast as they can for --seconds and reports \
            signatures per second (each one audited as request_signed, group-committed).
            """)

    @Option(help: "Round trips, one after another.")
    var count = 2_000

    @Option(help: "Callers signing at once in the throughput run.")
    var callers = 16

    @Option(help: "Length of the throughput run, in seconds.")
    var seconds = 10

    func run() async throws {
        print("machine:  \(Machine.current)")
        let daemon = try await DaemonFixture.start(DaemonFixture.Options(simArguments: ["--log-level", "warning"]))
        do {
            try await daemon.consentAndSubmit(user: "u-bench")
            try await daemon.awaitEvent("secret_secured", user: "u-bench")
            try await measure(socket: daemon.paths.controlSocket)
            await daemon.stop()
        } catch {
            await daemon.stop()
            throw error
        }
    }

    private func measure(socket: String) async throws {
        let line = Array("sign u-bench /api/v4/main-account/balance json\n".utf8)
        let count = self.count, callers = self.callers, seconds = self.seconds
        let (samples, failures) = await StatusLatency.offPool { Self.sequential(socket: socket, line: line, count: count) }
        print("idle:     \(LatencySummary(samples).map(String.init(describing:)) ?? "no samples")\(failures > 0 ? "; \(failures) failed" : "")")
        let (signed, failed, roundTrips) = await StatusLatency.offPool {
            Self.parallel(socket: socket, line: line, callers: callers, seconds: seconds)
        }
        let rate = Double(signed) / Double(seconds)
        print("parallel: \(callers) callers for \(seconds) s: \(signed) signatures, \(String(format: "%.0f", rate))/s\(failed > 0 ? ", \(failed) failed" : "")")
        print("  round trips under load: \(LatencySummary(roundTrips).map(String.init(describing:)) ?? "no samples")")
    }

    static func sequential(socket: String, line: [UInt8], count: Int) -> ([Duration], Int) {
        let clock = ContinuousClock()
        var samples: [Duration] = []
        var failures = 0
        for _ in 0..<count {
            let start = clock.now
            let ok = exchange(socket: socket, line: line)
            samples.append(start.duration(to: clock.now))
            if !ok { failures += 1 }
        }
        return (samples, failures)
    }

    static func parallel(socket: String, line: [UInt8], callers: Int, seconds: Int) -> (Int, Int, [Duration]) {
        let results = Tally()
        let group = DispatchGroup()
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: .seconds(seconds))
        for _ in 0..<callers {
            group.enter()
            Thread {
                var signed = 0, failed = 0
                var samples: [Duration] = []
                while clock.now < end {
                    let start = clock.now
                    if exchange(socket: socket, line: line) { signed += 1 } else { failed += 1 }
                    samples.append(start.duration(to: clock.now))
                }
                results.state.withLock { $0.signed += signed; $0.failed += failed; $0.samples += samples }
                group.leave()
            }.start()
        }
        group.wait()
        return results.state.withLock { ($0.signed, $0.failed, $0.samples) }
    }

    final class Tally: Sendable {
        let state = Mutex<(signed: Int, failed: Int, samples: [Duration])>((0, 0, []))
    }

    /// One line, one answer; true when the answer is a signed request.
    static func exchange(socket: String, line: [UInt8]) -> Bool {
        roundTrip(socket: socket, line: line)?.starts(with: Array(#"{"body":"#.utf8)) ?? false
    }

    /// One connection, one line, the whole answer (nil when the socket would not connect),
    /// on the calling thread: no hand-off to time beside the daemon's own work.
    static func roundTrip(socket: String, line: [UInt8]) -> [UInt8]? {
        let descriptor = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard UnixSocketAddress.connect(descriptor, to: socket) == 0 else { return nil }
        _ = line.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            answer += buffer[0..<count]
        }
        return answer
    }
}
