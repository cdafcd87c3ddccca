import Foundation
import Testing
import WBKeydHarness
import WhiteBITSimHarness
import UnixSocketAddress

/// Malformed spool files dropped into the running daemon's spool, valid ones among
/// them: each bad file ends in rejected/ with its own reason, an `authorization_rejected`
/// audit row and a log line; the valid ones become active grants.
@Suite struct BadInputTests {
    @Test func everyMalformedFileIsRejectedWithItsReasonWhileValidFilesAreProcessed() async throws {
        try await withDaemon { daemon in
            let cases = badSpoolFiles(now: Date())
            #expect(cases.count >= 50)
            #expect(Set(cases.map(\.name)).count == cases.count, "case names are distinct")
            var validUsers: [String] = []
            for (index, bad) in cases.enumerated() {
                try deliver(bad, into: daemon)
                if index % 10 == 9 {
                    let user = "v-\(validUsers.count + 1)"
                    try await daemon.consentAndSubmit(user: user, key: .now)
                    validUsers.append(user)
                }
            }

            var lines: [String: DaemonLogLine] = [:]
            for name in cases.map(\.name) {
                lines[name] = try await daemon.awaitLine(describedAs: "authorization_rejected for \(name)") {
                    $0.isEvent("authorization_rejected") && $0.value("file") == name
                }
            }
            for user in validUsers { try await daemon.awaitEvent("secret_secured", user: user) }
            #expect(try await eventually { daemon.rejectedFiles.count == cases.count }, "rejected/ holds \(daemon.rejectedFiles.count)")

            let audit = try await daemon.auditRows().filter { $0.event == "authorization_rejected" }
            #expect(audit.count == cases.count)
            let auditByFile = Dictionary(audit.map { ($0.detailValue("file") ?? "", $0) }, uniquingKeysWith: { first, _ in first })
            for bad in cases {
                let reason = daemon.rejectionReason(of: bad.name)
                #expect(reason.map(bad.reason.matches) == true, "\(bad): reason \(reason ?? "missing")")
                let row = auditByFile[bad.name]
                #expect(row?.detailValue("reason") == reason, "\(bad): audit row \(row?.description ?? "missing")")
                #expect(lines[bad.name]?.text.contains("spool file rejected: \(reason ?? "?")") == true, "\(bad): \(lines[bad.name]?.text ?? "")")
                #expect(lines[bad.name]?.level == "warning")
            }
            #expect(auditByFile["bad-revocation-unknown-user"]?.user == "nobody-42")
            #expect(auditByFile["bad-user-space"]?.user == nil, "an invalid user reference is not recorded")

            for user in validUsers { #expect(try await daemon.grantState(user) == "active") }
            #expect(try await daemon.grantState("nobody-42") == nil, "a revocation makes no grant")
            daemon.expectSpoolDrained()
            // The link was moved, never followed: its target is untouched.
            let target = FileManager.default.contents(atPath: daemon.paths.directory + "/symlink-target.json")
            #expect(target.map { String(decoding: $0, as: UTF8.self) } == validBadFileTarget)

            // Nothing of a code, verifier or state leaks into reasons, the audit or the log.
            let marker = Array(badFileMarker.utf8)
            for name in daemon.paths.names(in: daemon.paths.spoolRejected) where name.hasSuffix(".reason") {
                let bytes = [UInt8](FileManager.default.contents(atPath: daemon.paths.spoolRejected + "/" + name) ?? Data())
                #expect(bytes.firstRange(of: marker) == nil, "\(name) leaks a secret")
            }
            #expect(audit.allSatisfy { !$0.detail.contains(badFileMarker) })
            #expect(daemon.allOutput.firstRange(of: marker) == nil, "the log leaks a code, verifier or state")
        }
    }

    private func deliver(_ bad: BadSpoolFile, into daemon: DaemonFixture) throws {
        let tmp = daemon.paths.spoolTmp + "/" + bad.name
        switch bad.content {
        case .text(let text):
            try daemon.deliver(Array(text.utf8), as: bad.name)
            return
        case .bytes(let bytes):
            try daemon.deliver(bytes, as: bad.name)
            return
        case .textModified(let text, let secondsAgo):
            try daemon.deliver(Array(text.utf8), as: bad.name, modified: Date().addingTimeInterval(-secondsAgo))
            return
        case .symbolicLinkToValidFile:
            let target = daemon.paths.directory + "/symlink-target.json"
            try Data(validBadFileTarget.utf8).write(to: URL(fileURLWithPath: target))
            try check(symlink(target, tmp), "symlink", tmp)
        case .fifo:
            try check(mkfifo(tmp, 0o600), "mkfifo", tmp)
        case .directory:
            try check(mkdir(tmp, 0o700), "mkdir", tmp)
        case .socket:
            try bindSocket(at: tmp)
        }
        // Like any delivery: made under tmp/, renamed into new/.
        try check(rename(tmp, daemon.paths.spoolNew + "/" + bad.name), "rename", tmp)
    }

    private func check(_ result: Int32, _ operation: String, _ path: String) throws {
        guard result >= 0 else { throw HarnessError.setupFailed(what: operation, path: path, errno: errno) }
    }

    private func bindSocket(at path: String) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try check(descriptor, "socket", path)
        defer { close(descriptor) }
        try check(UnixSocketAddress.bind(descriptor, to: path), "bind", path)
    }
}
