@testable import Daemon
import Foundation
import Testing
import WBKeydHarness

/// Refused control commands and `secret` reads leave an audit trail that a hammering
/// client cannot turn into a flood, and `secret` is rate-limited per uid.
@Suite struct ControlRefusalTests {
    @Test func secretReadsAreRateLimitedPerUIDAndTheRefusalIsAuditedOnce() async throws {
        let options = DaemonFixture.Options(config: ["control.secret_reads_per_minute": 2])
        try await withDaemon(options) { daemon in
            try await daemon.activeGrant("u-1")
            for _ in 0..<2 {
                let read = try await daemon.control("secret u-1")
                #expect(!read.hasPrefix("error:"), "\(read.prefix(80))")
            }
            let refusal = "error: too many secret reads: uid \(getuid()) may read 2 per minute (control.secret_reads_per_minute); try again shortly\n"
            #expect(try await daemon.control("secret u-1") == refusal)
            #expect(try await daemon.control("secret u-1 json") == #"{"error":{"message":"too many secret reads: uid \#(getuid()) may read 2 per minute (control.secret_reads_per_minute); try again shortly"}}"# + "\n")
            // Other commands are not limited.
            #expect(try await daemon.control("status").contains("ready"))

            let rows = try await daemon.auditRows()
            #expect(rows.filter { $0.event == "secret_read" }.count == 2)
            let refused = rows.filter { $0.event == "command_refused" }
            #expect(refused.count == 1, "a second refusal within the minute is counted, not audited: \(refused)")
            let row = try #require(refused.first)
            #expect(row.actor == "uid:\(getuid())" && row.user == nil)
            #expect(row.detailValue("command") == "secret")
            #expect(row.detailValue("reason") == "over control.secret_reads_per_minute (2)")
            #expect(row.detailValue("suppressed") == "0")
            #expect(!row.detail.contains("u-1"), "the arguments are not audited: \(row.detail)")
        }
    }

    @Test func oneRefusalRowPerUIDAndMinuteCountingTheOnesLeftOut() {
        let gate = RefusalAuditGate()
        let start = ContinuousClock.now
        #expect(gate.admit(uid: 1000, now: start) == 0)
        for second in 1...30 {
            #expect(gate.admit(uid: 1000, now: start + .seconds(second)) == nil)
        }
        // Another uid has a window of its own.
        #expect(gate.admit(uid: 1001, now: start + .seconds(5)) == 0)
        #expect(gate.admit(uid: 1000, now: start + .seconds(61)) == 30)
        #expect(gate.admit(uid: 1000, now: start + .seconds(62)) == nil)
        #expect(gate.admit(uid: 1000, now: start + .seconds(200)) == 1)
    }

    @Test func theSecretBucketTakesABurstThenRefillsAtTheRate() {
        let buckets = SecretReadBuckets()
        let start = ContinuousClock.now
        for _ in 0..<6 { #expect(buckets.take(uid: 7, perMinute: 6, now: start)) }
        #expect(!buckets.take(uid: 7, perMinute: 6, now: start))
        #expect(buckets.take(uid: 8, perMinute: 6, now: start), "each uid has its own bucket")
        // One token per 10 s at 6 a minute.
        #expect(!buckets.take(uid: 7, perMinute: 6, now: start + .seconds(9)))
        #expect(buckets.take(uid: 7, perMinute: 6, now: start + .seconds(11)))
        #expect(!buckets.take(uid: 7, perMinute: 6, now: start + .seconds(12)))
    }
}
