import Foundation
import Glibc
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// What a reload does not apply: keys that need a restart (reported, audited as
/// `needs_restart`, the old values kept working) and a file that is refused whole.
@Suite struct ReloadRestartTests {
    @Test func restartOnlyKeysWaitForTheRestartAndTheOldValuesKeepWorking() async throws {
        try await withDaemon { daemon in
            // Every new value would break the daemon if it were taken: a dead WhiteBIT, an
            // unknown client with a wrong secret, another spool, store, key and socket. One
            // live key beside them makes the reload rebuild the WhiteBIT client.
            let other = daemon.paths.directory + "/other"
            for directory in ["", "/spool", "/spool/tmp", "/spool/new", "/spool/claimed", "/spool/rejected"] {
                try FileManager.default.createDirectory(atPath: other + directory, withIntermediateDirectories: true)
            }
            try writePrivate(other + "/client-secret", Array("not-the-secret\n".utf8))
            try writePrivate(other + "/master-key", (0..<32).map { UInt8($0) })
            let changes: [String: TOMLValue] = [
                "whitebit.base_url": "http://127.0.0.1:9",
                "whitebit.client_id": "not-a-registered-client",
                "whitebit.client_secret_file": .string(other + "/client-secret"),
                "spool.directory": .string(other + "/spool"),
                "store.path": .string(other + "/wbkeyd.sqlite3"),
                "store.master_key_file": .string(other + "/master-key"),
                "control.socket": .string(other + "/control.sock"),
                "control.mode": "0600",
                "whitebit.request_timeout": "30s",
            ]
            let mark = daemon.logMark
            try await daemon.reload(changes)

            let lines = try daemon.process.lines[mark.line...]
            let restartKeys = changes.keys.filter { $0 != "whitebit.request_timeout" }
            for key in restartKeys.sorted() {
                #expect(
                    lines.contains { $0.level == "warning" && $0.text.contains("\(key) changed; it takes effect at the next restart") },
                    "no restart warning for \(key)")
            }
            let row = try #require(try await daemon.lastReloadRow())
            #expect(row.detailValue("outcome") == "applied")
            #expect(row.detailValue("changed") == "whitebit.request_timeout")
            let pending = row.detailValue("needs_restart")?.components(separatedBy: ", ") ?? []
            #expect(Set(pending) == Set(restartKeys), "needs_restart: \(row.detail)")

            // The old WhiteBIT, client, secret, spool, store, key and socket carry on.
            let url = try await daemon.control("authorize-url u-9")
            #expect(url.hasPrefix(daemon.sim.baseURL + "/auth/login?clientId=\(SimDefaults.clientID)&"), "\(url)")
            let (_, externalID) = try await daemon.activeGrant("u-1")
            let answer = try await daemon.control("secret u-1 json")
            let object = try? JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]
            let simSecret = try await daemon.simKey(externalID)?.apiSecret
            #expect(same(object?["api_secret"] as? String, simSecret), "the secret sealed under the old master key does not open")
            #expect(try await daemon.grantRow("u-1")?["state"] == "active")
            var status = stat()
            #expect(lstat(daemon.paths.controlSocket, &status) == 0 && status.st_mode & 0o777 == 0o660)
            for path in [other + "/control.sock", other + "/wbkeyd.sqlite3"] {
                #expect(!FileManager.default.fileExists(atPath: path), "\(path) was made before a restart")
            }
            #expect(try await daemon.simRequests("token") == 1)
        }
    }

    @Test func aRefusedFileChangesNothing() async throws {
        try await withDaemon { daemon in
            #expect(try await redirectURI(daemon) == SimDefaults.redirectURI)
            let moved = "https://partner.example/elsewhere"

            // A live change beside a value out of its band: the whole file is refused.
            let mark = daemon.logMark
            let refusal = try await daemon.reload(["whitebit.redirect_uri": .string(moved), "whitebit.request_timeout": "1ms"])
            #expect(refusal.level == "error")
            let rejected = try await daemon.awaitEvent("config_rejected", since: mark)
            #expect(rejected.text.contains("whitebit.request_timeout"), "\(rejected)")
            var row = try #require(try await daemon.lastReloadRow())
            #expect(row.detailValue("outcome") == "refused")
            #expect(row.detailValue("problems")?.contains("whitebit.request_timeout") == true, "\(row.detail)")
            #expect(try await redirectURI(daemon) == SimDefaults.redirectURI)

            // Not TOML at all: refused the same way.
            try await daemon.reload(writing: "[whitebit\nredirect_uri = \"\(moved)\"\n")
            row = try #require(try await daemon.lastReloadRow())
            #expect(row.detailValue("outcome") == "refused")
            #expect(try await redirectURI(daemon) == SimDefaults.redirectURI)

            // The daemon kept working on the old file, and takes the next good one.
            try await daemon.activeGrant("u-1")
            #expect(try await daemon.control("status json").contains(#""phase":"ready""#))
            try await daemon.reload(["whitebit.redirect_uri": .string(moved)])
            #expect(try await daemon.lastReloadRow()?.detailValue("changed") == "whitebit.redirect_uri")
            #expect(try await redirectURI(daemon) == moved)
        }
    }

    private func writePrivate(_ path: String, _ bytes: [UInt8]) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw HarnessError.setupFailed(what: "create", path: path, errno: errno)
        }
    }
}

/// The `redirect_uri` of a fresh `authorize-url`.
func redirectURI(_ daemon: DaemonFixture) async throws -> String? {
    let answer = try await daemon.control("authorize-url u-redirect")
    return URLComponents(string: answer.trimmingCharacters(in: .whitespacesAndNewlines))?
        .queryItems?.first { $0.name == "redirect_uri" }?.value
}
