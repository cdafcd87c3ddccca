import Foundation
import PostgresHarness
import Testing
import WBKeydHarness

/// `wbkeyd audit-verify` on the chain wbkeyd wrote into PostgreSQL (docs/design.md §13),
/// before and after an attacker with the database's superuser, who can switch the
/// append-only triggers off, changes one byte of a row, removes a row, or cuts the tail.
@Suite struct PostgresAuditTamperTests {
    @Test func aChangedARemovedAndACutRowAreEachNamed() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase()
        try await withDaemon(.onPostgreSQL(server, database)) { daemon in
            try await daemon.activeGrant("u-1")
            _ = try await daemon.control("revoke u-1 audit test")
            _ = try await daemon.control("secret u-1")
            #expect(try await daemon.terminate().isCleanExit)
            let verify = { (extra: [String]) in
                try await daemon.wbkeyd(["audit-verify", "--config", daemon.paths.configFile] + extra)
            }
            let sound = try await verify([])
            #expect(sound.exitStatus == 0 && sound.standardOutput.contains("audit chain sound"), "\(sound.standardError)")
            let rows = try await rows(server, database)
            let head = try #require(rows.last)

            let target = try #require(rows.first { $0.event == "token_exchanged" })
            #expect(target.detail.contains("14400"), "\(target.detail)")
            // wbkeyd's own role meets the triggers; the superuser switches them off first.
            await #expect(throws: (any Error).self) {
                try await server.execute(
                    "SET ROLE \(PostgresServer.loginRole); UPDATE audit SET detail = replace(detail, '14400', '14401') WHERE seq = \(target.seq)",
                    database: database.name)
            }
            try await tamper(server, database, "UPDATE audit SET detail = replace(detail, '14400', '14401') WHERE seq = \(target.seq)")
            let changed = try await verify([])
            #expect(changed.exitStatus == 1 && changed.standardError.contains("seq \(target.seq)"), "\(changed.standardError)")
            #expect(changed.standardError.contains("row altered"), "\(changed.standardError)")
            try await tamper(server, database, "UPDATE audit SET detail = replace(detail, '14401', '14400') WHERE seq = \(target.seq)")
            #expect(try await verify([]).exitStatus == 0, "put back, the chain holds again")

            let removed = rows[rows.count / 2]
            try await tamper(server, database, "DELETE FROM audit WHERE seq = \(removed.seq)")
            let gap = try await verify([])
            #expect(gap.exitStatus == 1 && gap.standardError.contains("expected seq \(removed.seq) here (rows missing)"), "\(gap.standardError)")

            // A cut tail leaves a chain that holds by itself: only the witnessed head shows it.
            try await tamper(server, database, "DELETE FROM audit WHERE seq >= \(removed.seq)")
            #expect(try await verify([]).exitStatus == 0, "a shorter chain holds by itself")
            let cut = try await verify(["--expect", "\(head.seq):\(head.hash)"])
            #expect(cut.exitStatus == 1 && cut.standardError.contains("before the expected row \(head.seq) (tail cut)"), "\(cut.standardError)")
        }
    }

    struct Row {
        let seq: Int
        let event: String
        let detail: String
        let hash: String
    }

    private func rows(_ server: PostgresServer, _ database: PostgresDatabase) async throws -> [Row] {
        let text = try await server.execute("SELECT seq, event, hash, detail FROM audit ORDER BY seq", database: database.name)
        return text.split(separator: "\n").map { line in
            let fields = line.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            return Row(seq: Int(fields[0]) ?? -1, event: fields[1], detail: fields[3], hash: fields[2])
        }
    }

    /// As the superuser, with the audit guards off for this one statement.
    private func tamper(_ server: PostgresServer, _ database: PostgresDatabase, _ statement: String) async throws {
        _ = try await server.execute(
            "ALTER TABLE audit DISABLE TRIGGER USER; \(statement); ALTER TABLE audit ENABLE TRIGGER USER", database: database.name)
    }
}
