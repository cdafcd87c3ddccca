import Foundation
import Synchronization
import Testing
import WBKeydHarness

/// Thousands of random and hostile clients against the running daemon: it keeps
/// answering `status`, owes each client a sane answer, and its lifecycle work goes on.
@Suite struct ProtocolFuzzTests {
    static let workers = 4
    static let casesPerWorker = 750
    static let idleCrowd = 200

    @Test func hostileClientsStopNeitherAnswersNorLifecycleWork() async throws {
        let seed = ProcessInfo.processInfo.environment["WBKEYD_FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1 ... .max)
        try await DaemonFixture.withDaemon { daemon in
            let socket = daemon.paths.controlSocket
            let complaints = Complaints()
            let finished = Flag()

            // More idle clients than the daemon has slots, held for the whole run.
            let crowd = try await offPool { try (0..<Self.idleCrowd).map { _ in try RawConnection(path: socket) } }
            let drips = Task { try await Self.drip(socket) }
            let fuzz = Task {
                defer { finished.raise() }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<Self.workers {
                        group.addTask {
                            try await offPool {
                                var generator = SeededGenerator(seed: seed &+ UInt64(worker))
                                for _ in 0..<Self.casesPerWorker {
                                    let fuzzCase = FuzzCase.random(using: &generator)
                                    if let complaint = fuzzCase.run(socket: socket) {
                                        complaints.add(complaint)
                                    }
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }

            // A user consents while the fuzz runs; the lifecycle must carry on.
            let consent = try await daemon.consentAndSubmit(user: "u-fuzz")
            var probes = 0
            var evicted = 0
            while !finished.isRaised {
                var answer = try await offPool { blockingStatus(socket) }
                // Making room for a newcomer may cost one retry, never a lock-out.
                for _ in 0..<3 where answer == FuzzCase.eviction {
                    evicted += 1
                    answer = try await offPool { blockingStatus(socket) }
                }
                #expect(answer?.hasPrefix("version:") == true, "status during the fuzz: \(answer?.prefix(120) ?? "no answer")")
                probes += 1
            }
            try await fuzz.value
            let dripComplaints = try await drips.value
            try await daemon.awaitEvent("secret_secured", user: "u-fuzz")
            #expect(try await daemon.grantState("u-fuzz") == "active")

            let found = complaints.list + dripComplaints
            #expect(found.isEmpty, "seed \(seed) (WBKEYD_FUZZ_SEED): \(found.joined(separator: "\n"))")
            #expect(probes >= 5, "only \(probes) status probes ran during the fuzz")
            #expect(evicted <= probes, "status was evicted \(evicted) times in \(probes) probes")

            let crowdAnswers = try await offPool { crowd.map { $0.readAll(timeoutSeconds: 30).map { String(decoding: $0, as: UTF8.self) } } }
            for answer in crowdAnswers {
                #expect(answer == FuzzCase.eviction || answer?.hasPrefix("error: idle timeout") == true, "an idle client got \(answer?.prefix(80) ?? "no answer")")
            }

            #expect(try daemon.process.isRunning)
            let status = try await daemon.control("status")
            #expect(status.contains("phase:         ready"))
            let verify = try await daemon.auditVerify()
            #expect(verify.exitStatus == 0, "\(verify.standardError)")
            let output = String(decoding: daemon.allOutput, as: UTF8.self)
            #expect(!output.contains("Fatal error") && !output.contains(" critical "))
            #expect(!output.contains(consent.authorization.code.revealed) && !output.contains(consent.authorization.verifier.revealed))
        }
    }

    /// Slow clients: a `status` that drips in byte by byte (answered), and one that
    /// never finishes its line (refused at the idle timeout). Answers the complaints.
    static func drip(_ socket: String) async throws -> [String] {
        try await offPool {
            var complaints: [String] = []
            let slow = try RawConnection(path: socket)
            for byte in Array("status\n".utf8) {
                slow.send([byte])
                usleep(100_000)
            }
            let answer = slow.readAll(timeoutSeconds: 30).map { String(decoding: $0, as: UTF8.self) }
            if !(answer?.hasPrefix("version:") == true || answer == FuzzCase.eviction) {
                complaints.append("drip: \(answer?.prefix(80) ?? "no answer")")
            }
            let endless = try RawConnection(path: socket)
            var refused: String?
            for _ in 0..<60 {
                guard endless.send([UInt8(ascii: "s")]) else { break }
                usleep(250_000)
            }
            refused = endless.readAll(timeoutSeconds: 30).map { String(decoding: $0, as: UTF8.self) }
            if !(refused?.hasPrefix("error: idle timeout") == true || refused == FuzzCase.eviction) {
                complaints.append("endless drip: \(refused?.prefix(80) ?? "no answer")")
            }
            return complaints
        }
    }
}

/// The first complaints of the fuzz workers (enough to diagnose, not a flood).
final class Complaints: Sendable {
    private let found = Mutex<[String]>([])

    func add(_ complaint: String) {
        found.withLock { if $0.count < 20 { $0.append(complaint) } }
    }

    var list: [String] { found.withLock { $0 } }
}

final class Flag: Sendable {
    private let value = Mutex(false)
    func raise() { value.withLock { $0 = true } }
    var isRaised: Bool { value.withLock { $0 } }
}
