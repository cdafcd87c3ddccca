import Foundation
import Glibc
import Sensitive
import Spool
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// `events [USER]` (docs/design.md §12): one JSON line per committed audit row, from a
/// real daemon over its real socket, checked against the audit table itself.
@Suite struct EventsTests {
    @Test func aGrantsRowsArriveInOrderFromAuthorizationToSecretSecuredAndTheUserFilterHolds() async throws {
        try await withDaemon { daemon in
            let everything = try HeldControlConnection(socket: daemon.paths.controlSocket, line: "events")
            let onlyOne = try HeldControlConnection(socket: daemon.paths.controlSocket, line: "events u-e1")
            let first = try #require(try await everything.readLine()?.jsonObject?["subscribed"] as? [String: Any])
            let filteredFirst = try #require(try await onlyOne.readLine()?.jsonObject?["subscribed"] as? [String: Any])
            #expect(filteredFirst["user"] as? String == "u-e1")
            let afterSeq = try #require(first["after_seq"] as? Int)

            try await daemon.activeGrant("u-e1")
            try await daemon.activeGrant("u-e2")

            let all = try await everything.readUntil { Self.isRow($0, event: "secret_secured", user: "u-e2") }.map(Self.row)
            let mine = try await onlyOne.readUntil { Self.isRow($0, event: "secret_secured", user: "u-e1") }.map(Self.row)
            // Gapless and in order: the seqs run on from the first line's after_seq, and the
            // rows are the audit table's own.
            #expect(all.map(\.seq) == Array((afterSeq + 1)...(afterSeq + all.count)))
            let stored = try await daemon.auditRows().filter { $0.seq > afterSeq && $0.seq <= all.last!.seq }
            #expect(all.map(\.event) == stored.map(\.event))
            #expect(all.map(\.user) == stored.map(\.user))
            #expect(all.map(\.actor) == stored.map(\.actor))
            let events = all.filter { $0.user == "u-e1" }.map(\.event)
            #expect(events.first == "authorization_received" && events.last == "secret_secured", "\(events)")
            #expect(events == stored.filter { $0.user == "u-e1" }.map(\.event))
            #expect(mine.allSatisfy { $0.user == "u-e1" }, "\(mine.map(\.user))")
            #expect(mine.map(\.seq) == all.filter { $0.user == "u-e1" }.map(\.seq))
            // Rows the shell writes outside any grant's transition arrive too: a reload's.
            try daemon.process.send(signal: SIGHUP)
            let reload = try await everything.readUntil { Self.row($0).event == "config_reloaded" }.map(Self.row)
            #expect(reload.map(\.seq) == Array((all.last!.seq + 1)...(all.last!.seq + reload.count)), "still gapless")
            let storedReload = try await daemon.auditRows().filter { $0.seq > all.last!.seq && $0.seq <= reload.last!.seq }
            #expect(reload.map(\.event) == storedReload.map(\.event))
            #expect(!reload.isEmpty)
            // A subscriber that hangs up frees its place at once.
            #expect(try await Self.subscribers(daemon) == 2)
            onlyOne.hangUp()
            #expect(try await eventually { try await Self.subscribers(daemon) == 1 })
        }
    }

    /// Two subscribers each get every row, the documented socat one-liner keeps reading,
    /// socat's default 0.5 s linger does not, and no line carries a secret.
    @Test func twoSubscribersGetEverythingTheSocatFormWorksAndNoLineHoldsASecret() async throws {
        try await withDaemon { daemon in
            let socket = daemon.paths.controlSocket
            let a = try HeldControlConnection(socket: socket, line: "events")
            let b = try HeldControlConnection(socket: socket, line: "events json")
            _ = try await a.readLine()
            _ = try await b.readLine()
            // The README's one-liner, run by a real shell and socat; it ends when wbkeyd stops.
            let linger = Task {
                try await CommandRunner.run(
                    "/bin/sh", ["-c", #"echo events | socat -t 3600 - "UNIX-CONNECT:$1""#, "sh", socket])
            }
            let plain = try await CommandRunner.run("/bin/sh", ["-c", #"echo events | socat - "UNIX-CONNECT:$1""#, "sh", socket])
            #expect(plain.standardOutput.split(separator: "\n").count <= 1, "plain socat left after its 0.5 s: \(plain.standardOutput)")
            #expect(try await eventually { try await Self.subscribers(daemon) == 3 })

            let active = try await daemon.activeGrant("u-s1")
            try await daemon.activeGrant("u-s2")
            _ = try await daemon.control("revoke u-s2 test")
            try await daemon.awaitEvent("key_revoked", user: "u-s2")
            let fromA = try await a.readUntil { Self.isRow($0, event: "key_revoked", user: "u-s2") }
            let fromB = try await b.readUntil { Self.isRow($0, event: "key_revoked", user: "u-s2") }
            #expect(fromA == fromB)
            #expect(Set(fromA.map(Self.row).map(\.event)).isSuperset(of: ["authorization_received", "token_exchanged", "secret_secured", "revoke_requested", "key_revoked"]))

            #expect(try await daemon.terminate().isCleanExit)
            let socat = try await linger.value
            let socatLines = socat.standardOutput.split(separator: "\n").map(String.init)
            #expect(socatLines.first?.jsonObject?["subscribed"] != nil, "\(socatLines.prefix(2))")
            #expect(Array(socatLines.dropFirst().prefix(fromA.count)) == fromA, "socat -t 3600 saw what the others saw")

            let state = try await daemon.admin.state()
            var secrets: [(String, String)] = [("verifier", active.consent.authorization.verifier.revealed), ("client secret", SimDefaults.clientSecret.revealed)]
            secrets += state.tokens.map { ("access token of \($0.user)", $0.accessToken) }
            secrets += state.codes.map { ("code of \($0.user)", $0.code) }
            secrets += state.keys.map { ("API secret of \($0.user)", $0.apiSecret) }
            #expect(state.keys.count >= 2 && state.tokens.count >= 2, "the scenario ran")
            let everyLine = (fromA + fromB + socatLines).joined(separator: "\n")
            for (what, value) in secrets {
                for form in [value, Data(value.utf8).base64EncodedString()] {
                    #expect(!everyLine.contains(form), "\(what) appears in an events line")
                }
            }
        }
    }

    /// 10,000 authorization files with one subscriber that reads its first line and then
    /// nothing: it is cut off with a last `error:` line, its connection closes, and the
    /// engine settles every grant. The burst's time with and without the stuck subscriber
    /// is printed as a figure, never asserted.
    @Test func aSubscriberThatNeverReadsIsCutOffAndTheBurstFinishes() async throws {
        let options = DaemonFixture.Options(config: ["whitebit.rate_limit": 1000, "whitebit.max_concurrency": 16])
        let count = 10_000
        try await withDaemon(options) { daemon in
            // Two bursts of 10,000 token calls at up to 1,000/s would pass WhiteBIT's per-IP
            // 10,000 per 10 s; the simulator's 429s would then time retries, not the events.
            _ = try await daemon.admin.updateSettings(SimAdminSettings(rateLimit: SimRateLimit(enabled: false)))
            let quiet = try await Self.burst(daemon, prefix: "calm", count: count)
            let stuck = try HeldControlConnection(socket: daemon.paths.controlSocket, line: "events")
            let subscribed = try #require(try await stuck.readLine()?.jsonObject?["subscribed"] as? [String: Any])
            #expect(subscribed["after_seq"] is Int)
            let started = ContinuousClock.now
            async let loaded = Self.burst(daemon, prefix: "load", count: count)
            #expect(try await eventually(within: .seconds(120)) { try await Self.cutOff(daemon) == 1 }, "the stuck subscriber was not cut off")
            let cutOffAfter = started.duration(to: .now)
            // Read now, within the 10 s the daemon gives a cut-off client to take its last line.
            let lines = try await stuck.readToEnd(timeout: .seconds(20))
            let withStuck = try await loaded
            #expect(lines.last?.hasPrefix("error: events: cut off: ") == true, "last line: \(lines.last ?? "none")")
            #expect(lines.dropLast().allSatisfy { $0.jsonObject?["seq"] is Int }, "every other line is a row")
            // The last line names the last row the subscriber was sent: what it has is whole up to there.
            let lastRow = try #require(lines.dropLast().last?.jsonObject?["seq"] as? Int)
            #expect(lines.last?.contains("the last row sent was seq \(lastRow);") == true, "\(lines.last ?? "")")
            let seqs = lines.dropLast().compactMap { $0.jsonObject?["seq"] as? Int }
            #expect(seqs == Array(((subscribed["after_seq"] as? Int ?? 0) + 1)...lastRow), "gapless up to the cut")
            #expect(try await Self.subscribers(daemon) == 0, "the stuck subscriber's slot is free")
            print("events burst: \(count) files settled in \(quiet) without a subscriber, \(withStuck) with a stuck one (cut off within \(cutOffAfter) of starting to stage it, after \(lines.count - 1) rows)")
        }
    }

    /// Drops `count` files with made-up codes (each ends `failed` after one token call)
    /// and answers how long until every grant settled.
    static func burst(_ daemon: DaemonFixture, prefix: String, count: Int) async throws -> Duration {
        let users = (0..<count).map { "\(prefix)-\($0)" }
        let tmp = daemon.paths.spoolTmp, new = daemon.paths.spoolNew
        // Staged in tmp/ first, so that the burst itself is nothing but renames into new/;
        // 20,000 blocking file operations, off the Swift pool (two threads here).
        try await offPool {
            for user in users {
                let json = try SpoolSubmission.authorization(
                    user: user, code: Sensitive("made-up-\(user)"), codeVerifier: Sensitive(String(repeating: "v", count: 43)))
                guard FileManager.default.createFile(atPath: tmp + "/\(user).json", contents: Data(json), attributes: [.posixPermissions: 0o640]) else {
                    throw HeldControlConnection.Failure(description: "cannot stage \(user).json")
                }
            }
            for user in users {
                try FileManager.default.moveItem(atPath: tmp + "/\(user).json", toPath: new + "/\(user).json")
            }
        }
        let start = ContinuousClock.now
        let settled = try await eventually(within: .seconds(600)) {
            let open = try await daemon.sqlite("SELECT count(*) FROM grants WHERE user LIKE '\(prefix)-%' AND state = 'failed'")
            return Int(open.trimmingCharacters(in: .whitespacesAndNewlines)) == count
        }
        #expect(settled, "every \(prefix) grant settled")
        return start.duration(to: .now)
    }

    static func metric(_ daemon: DaemonFixture, _ name: String) async throws -> Int? {
        let text = try await daemon.control("metrics")
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ").last ?? "") }
    }

    static func subscribers(_ daemon: DaemonFixture) async throws -> Int? { try await metric(daemon, "wbkeyd_events_subscribers") }
    static func cutOff(_ daemon: DaemonFixture) async throws -> Int? { try await metric(daemon, "wbkeyd_events_cut_off_total") }

    struct Row: Equatable {
        let seq: Int
        let event: String
        let user: String?
        let actor: String
    }

    static func row(_ line: String) -> Row {
        let object = line.jsonObject ?? [:]
        return Row(seq: object["seq"] as? Int ?? -1, event: object["event"] as? String ?? "", user: object["user"] as? String, actor: object["actor"] as? String ?? "")
    }

    static func isRow(_ line: String, event: String, user: String) -> Bool {
        let r = row(line)
        return r.event == event && r.user == user
    }
}
