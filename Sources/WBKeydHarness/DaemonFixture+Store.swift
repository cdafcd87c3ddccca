import Foundation

/// One row of the `audit` table.
public struct AuditRecord: Sendable, CustomStringConvertible {
    public let seq: Int
    public let at: String
    public let event: String
    public let user: String?
    public let externalID: String?
    public let actor: String
    /// The JSON object, as stored.
    public let detail: String

    /// A string field of `detail`.
    public func detailValue(_ key: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(detail.utf8)) as? [String: Any] else { return nil }
        return object[key].map { "\($0)" }
    }

    public var description: String {
        "#\(seq) \(event) user=\(user ?? "-") external_id=\(externalID ?? "-") actor=\(actor) \(detail)"
    }
}

/// The store, read and (for tamper tests) written through the real `sqlite3` CLI, as an
/// operator or an attacker with the file would; on PostgreSQL (`storeDatabase`) through
/// the real `psql`. Write `"user"` quoted: unquoted, PostgreSQL reads it as current_user.
extension DaemonFixture {
    /// Runs `sql` with `sqlite3` on the store (or psql) and answers its output (list mode,
    /// `|` between columns). Throws when the tool fails.
    @discardableResult
    public func sqlite(_ sql: String) async throws -> String {
        if let storeDatabase { return try await storeDatabase.execute(sql) }
        return try await runSQLite(["-batch", "-bail", "-cmd", ".timeout 10000", paths.store, sql])
    }

    /// Runs a query and answers its rows, each column's value as text (NULL: absent).
    public func sqliteRows(_ sql: String) async throws -> [[String: String]] {
        let output = if let storeDatabase {
            try await storeDatabase.jsonRows(sql)
        } else {
            try await runSQLite(["-batch", "-bail", "-json", "-cmd", ".timeout 10000", paths.store, sql])
        }
        let trimmed = output.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return [] }
        guard let rows = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [[String: Any]] else {
            throw HarnessError.unexpectedOutput(command: "sqlite3 -json", detail: String(trimmed.prefix(300)))
        }
        return rows.map { row in
            row.compactMapValues { value -> String? in
                if value is NSNull { return nil }
                if let number = value as? NSNumber { return number.stringValue }
                return "\(value)"
            }
        }
    }

    /// The audit rows, oldest first; only `user`'s when given.
    public func auditRows(user: String? = nil) async throws -> [AuditRecord] {
        let filter = user.map { " WHERE \"user\" = \(Self.sqlQuoted($0))" } ?? ""
        let rows = try await sqliteRows("SELECT seq, at, event, \"user\", external_id, actor, detail FROM audit\(filter) ORDER BY seq")
        return rows.map { row in
            AuditRecord(
                seq: Int(row["seq"] ?? "") ?? -1, at: row["at"] ?? "", event: row["event"] ?? "", user: row["user"],
                externalID: row["external_id"], actor: row["actor"] ?? "", detail: row["detail"] ?? "{}")
        }
    }

    /// The events of the audit rows, oldest first; only `user`'s when given.
    public func auditEvents(user: String? = nil) async throws -> [String] {
        try await auditRows(user: user).map(\.event)
    }

    /// `user`'s row of the `grants` table, with `has_*` columns in place of sealed blobs
    /// ("1" when the store holds it).
    public func grantRow(_ user: String) async throws -> [String: String]? {
        try await sqliteRows("""
            SELECT "user", state, reason, external_id, doomed_key, secret_external_id, token_expires_at, step_attempts,
                sealed_token IS NOT NULL AS has_token, sealed_secret IS NOT NULL AS has_secret,
                sealed_code IS NOT NULL AS has_code, sealed_verifier IS NOT NULL AS has_verifier,
                key_identity, key_check, key_checked_at, key_used_at, probe_at
            FROM grants WHERE "user" = \(Self.sqlQuoted(user))
            """).first
    }

    /// `text` as an SQL string literal.
    public static func sqlQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    private func runSQLite(_ arguments: [String]) async throws -> String {
        let path = try ProcessInfo.processInfo.environment["SQLITE3_PATH"] ?? CommandRunner.onPath("sqlite3")
        let result = try await CommandRunner.run(path, arguments)
        guard result.termination.isCleanExit else {
            throw HarnessError.commandFailed(command: "sqlite3", termination: result.termination, standardError: result.standardError)
        }
        return result.standardOutput
    }
}
