import Foundation
import Spool
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// The spool as the deployed daemon meets it: wbkeyd runs as an account of its own and
/// the writers as others, so the kernel refuses it what it refuses the real one (root,
/// which runs the tests, could rename anything). No account needs to exist for these ids.
enum SpoolAccounts {
    static let daemon = DaemonAccount(uid: 64_101, gid: 64_101)
    /// A writer of `wbkeyd-spool`: another uid, whose private directory wbkeyd may not move.
    static let writer = DaemonAccount(uid: 64_102, gid: 64_102)
}

extension DaemonFixture {
    /// An authorization for `consent` delivered as a writer would: written in tmp/, readable
    /// by the daemon, renamed into new/ under `name` (with mtime `modified` when given).
    func deliverReadable(_ consent: SimAuthorization, user: String, as name: String, modified: Date? = nil) throws {
        let bytes = try SpoolSubmission.authorization(user: user, code: consent.code, codeVerifier: consent.verifier)
        let staging = paths.spoolTmp + "/" + name
        guard FileManager.default.createFile(atPath: staging, contents: Data(bytes), attributes: [.posixPermissions: 0o644]) else {
            throw SpoolTestProblem(description: "cannot create \(staging)")
        }
        if let modified { try touch(staging, modified) }
        guard rename(staging, paths.spoolNew + "/" + name) == 0 else {
            throw SpoolTestProblem(description: "rename \(staging): \(String(cString: strerror(errno)))")
        }
    }

    /// A directory in new/ as `mkdir -m0700 new/NAME` by another writer makes it.
    func makeForeignDirectory(_ name: String, modified: Date? = nil) throws {
        let path = paths.spoolNew + "/" + name
        guard mkdir(path, 0o700) == 0, lchown(path, SpoolAccounts.writer.uid, SpoolAccounts.writer.gid) == 0 else {
            throw SpoolTestProblem(description: "mkdir \(path): \(String(cString: strerror(errno)))")
        }
        if let modified { try touch(path, modified) }
    }

    /// The daemon's log lines so far (all runs) that name `file`.
    func logLines(naming file: String) -> [DaemonLogLine] {
        allRuns.flatMap(\.lines).filter { $0.value("file") == file }
    }
}

func touch(_ path: String, _ date: Date) throws {
    let seconds = date.timeIntervalSince1970
    let time = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
    var times = [time, time]
    guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else {
        throw SpoolTestProblem(description: "utimensat \(path): \(String(cString: strerror(errno)))")
    }
}

struct SpoolTestProblem: Error, CustomStringConvertible {
    let description: String
}

@Suite struct UnprivilegedSpoolTests {
    static let options = DaemonFixture.Options(config: ["spool.rescan_interval": "1s"], runAs: SpoolAccounts.daemon)

    /// Issue 12 item 1: a writer's `mkdir -m0700 new/x` cannot be renamed by wbkeyd (moving a
    /// directory rewrites its `..`, which needs write permission on it). Once, that stopped the
    /// whole scan at x on every pass: what came after was never claimed, and what was claimed
    /// before it in the pass sat in claimed/.
    @Test func aDirectoryWbkeydCannotMoveIsReportedOnceAndBlocksNothing() async throws {
        try await withPreparedDaemon(Self.options) { daemon in
            let now = Date()
            // Oldest first: a delivery before x and one after it, in the first pass.
            let early = try await daemon.admin.authorize(user: "u-early", key: .now)
            try daemon.deliverReadable(early, user: "u-early", as: "1-early", modified: now.addingTimeInterval(-30))
            try daemon.makeForeignDirectory("x", modified: now.addingTimeInterval(-20))
            let late = try await daemon.admin.authorize(user: "u-late", key: .now)
            try daemon.deliverReadable(late, user: "u-late", as: "2-late", modified: now.addingTimeInterval(-10))

            try await daemon.start()
            try await daemon.awaitEvent("secret_secured", user: "u-early")
            try await daemon.awaitEvent("secret_secured", user: "u-late")
            // A delivery while x sits there flows too.
            let live = try await daemon.admin.authorize(user: "u-live", key: .now)
            try daemon.deliverReadable(live, user: "u-live", as: "3-live")
            try await daemon.awaitEvent("secret_secured", user: "u-live")

            // Several rescans later: x reported once, in the audit and in the log.
            try await Task.sleep(for: .seconds(3))
            let rows = try await daemon.auditRows().filter { $0.event == "authorization_rejected" && $0.detailValue("file") == "x" }
            #expect(rows.count == 1, "\(rows)")
            #expect(rows.first?.detailValue("reason")?.contains("Permission denied") == true, "\(rows)")
            let lines = daemon.logLines(naming: "x")
            #expect(lines.count == 1, "\(lines)")
            #expect(lines.first?.level == "warning")
            // It stays where its writer made it; nothing else waits.
            #expect(daemon.paths.names(in: daemon.paths.spoolNew) == ["x"])
            #expect(daemon.paths.names(in: daemon.paths.spoolClaimed).isEmpty)
            #expect(daemon.rejectedFiles.isEmpty)

            // A restart does not report it again.
            try await daemon.terminate()
            try await daemon.restart()
            try await Task.sleep(for: .seconds(2))
            let after = try await daemon.auditRows().filter { $0.event == "authorization_rejected" && $0.detailValue("file") == "x" }
            #expect(after.count == 1, "\(after)")
        }
    }
}

/// Issue 12 item 5: an errno that says nothing about the file (here EMFILE, the daemon out
/// of descriptors) must not move a valid authorization to rejected/ for good.
@Suite struct TransientSpoolErrorTests {
    @Test func aFileThatCannotBeOpenedForLackOfDescriptorsStaysClaimedAndIsTakenLater() async throws {
        try await withDaemon(DaemonFixture.Options(config: ["spool.rescan_interval": "1s"])) { daemon in
            let pid = try daemon.process.pid
            // The daemon's spool is listed once before the limit drops (its start-up scan).
            let warmUp = try await daemon.admin.authorize(user: "u-warm", key: .now)
            try daemon.deliverReadable(warmUp, user: "u-warm", as: "0-warm")
            try await daemon.awaitEvent("secret_secured", user: "u-warm")

            // The lowest free descriptor number is the limit: no new descriptor at all.
            let open = Set(daemon.paths.names(in: "/proc/\(pid)/fd").compactMap(Int.init))
            let lowestFree = (0...).first { !open.contains($0) }!
            let original = try await CommandRunner.run("/usr/bin/prlimit", ["--pid", "\(pid)", "--nofile", "--raw", "--noheadings", "--output", "SOFT,HARD"])
            let limits = original.standardOutput.split(whereSeparator: \.isWhitespace).map(String.init)
            #expect(limits.count == 2, "prlimit said \(original.standardOutput)")
            try await prlimit(pid, "\(lowestFree):\(limits.last ?? "1024")")

            let mark = daemon.logMark
            let consent = try await daemon.admin.authorize(user: "u-1", key: .now)
            try daemon.deliverReadable(consent, user: "u-1", as: "1-starved")
            let deferred = try await daemon.awaitLine(since: mark, describedAs: "the file left claimed") {
                $0.value("file") == "1-starved" && $0.text.contains("stays claimed")
            }
            #expect(deferred.text.contains("errno \(EMFILE)"), "\(deferred)")
            // A few rescans with the limit still low: claimed, never rejected.
            try await Task.sleep(for: .seconds(2))
            #expect(daemon.paths.names(in: daemon.paths.spoolClaimed) == ["1-starved"])
            #expect(daemon.rejectedFiles.isEmpty, "\(daemon.rejectedFiles)")

            try await prlimit(pid, "\(limits.first ?? "1024"):\(limits.last ?? "1024")")
            try await daemon.awaitEvent("secret_secured", user: "u-1", since: mark)
            #expect(try await eventually { daemon.paths.names(in: daemon.paths.spoolClaimed).isEmpty })
            #expect(daemon.rejectedFiles.isEmpty)
            let rejections = try await daemon.auditRows().filter { $0.event == "authorization_rejected" }
            #expect(rejections.isEmpty, "\(rejections)")
        }
    }

    private func prlimit(_ pid: pid_t, _ nofile: String) async throws {
        let result = try await CommandRunner.run("/usr/bin/prlimit", ["--pid", "\(pid)", "--nofile=\(nofile)"])
        guard result.exitStatus == 0 else { throw SpoolTestProblem(description: "prlimit: \(result.standardError)") }
    }
}
