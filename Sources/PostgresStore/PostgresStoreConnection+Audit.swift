import Foundation
import PostgresNIO
import Store

extension PostgresStoreConnection {
    private static let auditColumns = "seq, at, event, \"user\", external_id, actor, detail, prev_hash, hash"

    /// Inside the backend's transaction the head cannot move but by this connection (the
    /// write lock), so it is read once and then follows the rows inserted.
    func auditHead() throws -> AuditHead? {
        if let last = insertedRows.last { return AuditHead(seq: last.seq, hash: last.hash) }
        if let headRead { return headRead }
        var head: AuditHead?
        if let row = try run("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", "reading the audit head").rows.first,
            let seq = try row.integer("seq"), let hash = try row.text("hash") {
            head = AuditHead(seq: seq, hash: hash)
        }
        if isInsideTransaction { headRead = .some(head) }
        return head
    }

    /// Kept until `flushAudit`; the server's guard checks each row as it arrives then.
    /// Outside any savepoint (`migrate-store`'s copy of a whole chain in one transaction)
    /// the rows go out every 500 and only the last stays in memory: no savepoint can need
    /// them again, and the audit tail reads back what it was not handed.
    func insertAudit(_ row: AuditRow) throws {
        insertedRows.append(row)
        touchedAudit = true
        if openSavepoints.isEmpty, insertedRows.count - sentRows >= 500 {
            try flushAudit()
            insertedRows.removeFirst(insertedRows.count - 1)
            sentRows = insertedRows.count
        }
    }

    /// Sends the rows `insertAudit` kept, in order, as one INSERT per 500 rows (9 binds
    /// each, far under the protocol's 65,535). The head trigger sees each row before the
    /// next: PostgreSQL shows a row-level BEFORE trigger the rows its statement already
    /// inserted.
    func flushAudit() throws {
        while sentRows < insertedRows.count {
            let rows = insertedRows[sentRows..<min(sentRows + 500, insertedRows.count)]
            var binds = PostgresBindings(capacity: rows.count * 9)
            var tuples: [String] = []
            for row in rows {
                let first = binds.count + 1
                tuples.append("(" + (first..<first + 9).map { "$\($0)" }.joined(separator: ", ") + ")")
                binds.append(row.seq)
                binds.append(row.at)
                binds.append(row.event.rawValue)
                binds.append(row.user)
                binds.append(row.externalID)
                binds.append(row.actor.text)
                binds.append(row.detail)
                binds.append(row.prevHash)
                binds.append(row.hash)
            }
            let sql = "INSERT INTO audit (\(Self.auditColumns)) VALUES " + tuples.joined(separator: ", ")
            try run(PostgresQuery(unsafeSQL: sql, binds: binds), "appending audit rows \(rows.first!.seq)–\(rows.last!.seq)")
            sentRows += rows.count
        }
    }

    func auditRows(after seq: Int64, through: Int64?, limit: Int) throws -> [AuditRow] {
        try flushAudit()
        return try run(
            """
            SELECT \(unescaped: Self.auditColumns) FROM audit WHERE seq > \(seq) AND seq <= \(through ?? Int64.max)
            ORDER BY seq LIMIT \(Int64(max(0, limit)))
            """, "reading audit rows after \(seq)"
        ).rows.map(Self.auditRow)
    }

    func recentAudit(limit: Int, user: String?) throws -> [AuditRow] {
        try flushAudit()
        let limit = Int64(max(0, limit))
        let rows: [PostgresRandomAccessRow]
        if let user {
            rows = try run(
                """
                SELECT * FROM (SELECT \(unescaped: Self.auditColumns) FROM audit WHERE "user" = \(user) ORDER BY seq DESC
                LIMIT \(limit)) AS newest ORDER BY seq
                """, "reading recent audit rows").rows
        } else {
            rows = try run(
                """
                SELECT * FROM (SELECT \(unescaped: Self.auditColumns) FROM audit ORDER BY seq DESC LIMIT \(limit)) AS newest
                ORDER BY seq
                """, "reading recent audit rows").rows
        }
        return try rows.map(Self.auditRow)
    }

    func auditEventCounts(after seq: Int64) throws -> [String: Int] {
        try flushAudit()
        var counts: [String: Int] = [:]
        for row in try run(
            "SELECT event, count(*) AS n FROM audit WHERE seq > \(seq) GROUP BY event", "counting audit events"
        ).rows {
            counts[try row.text("event") ?? ""] = Int(try row.integer("n") ?? 0)
        }
        return counts
    }

    func auditHash(seq: Int64) throws -> String? {
        try flushAudit()
        return try run("SELECT hash FROM audit WHERE seq = \(seq)", "reading audit row \(seq)").rows.first?.text("hash")
    }

    func auditAt(seq: Int64) throws -> String? {
        try flushAudit()
        return try run("SELECT at FROM audit WHERE seq = \(seq)", "reading audit row \(seq)").rows.first?.text("at")
    }

    func auditBounds() throws -> (oldest: Int64?, newest: Int64?) {
        try flushAudit()
        let row = try run("SELECT min(seq) AS oldest, max(seq) AS newest FROM audit", "reading the audit bounds").rows.first
        return (try row?.integer("oldest"), try row?.integer("newest"))
    }

    func firstAuditSeq(notBefore at: String) throws -> Int64? {
        try flushAudit()
        return try run("SELECT seq FROM audit WHERE at >= \(at) ORDER BY seq LIMIT 1", "finding the pruning cutoff")
            .rows.first?.integer("seq")
    }

    func auditCount(through seq: Int64?) throws -> Int {
        try flushAudit()
        return Int(try run("SELECT count(*) AS n FROM audit WHERE seq <= \(seq ?? Int64.max)", "counting audit rows")
            .rows.first?.integer("n") ?? 0)
    }

    func deleteAuditPrefix(through seq: Int64) throws -> Int {
        try flushAudit()
        // The guard of `PostgresSchema`: a transaction-local setting, cleared again at once.
        try run("SELECT set_config('wbkeyd.prune_through', \(String(seq)), true)", "opening the pruning gate")
        let deleted = try run("DELETE FROM audit WHERE seq <= \(seq)", "pruning the audit log").changed
        try run("SELECT set_config('wbkeyd.prune_through', '', true)", "closing the pruning gate")
        return deleted
    }

    // MARK: keys

    func storeKeys() throws -> StoreKeysRow? {
        guard let row = try run(
            "SELECT key_id, sealed_chain_key, legacy_through_seq FROM store_keys WHERE id = 1", "reading the store's keys"
        ).rows.first,
            let keyID = try row.text("key_id"), let sealed = try row.blob("sealed_chain_key"),
            let legacy = try row.integer("legacy_through_seq")
        else { return nil }
        return StoreKeysRow(keyID: keyID, sealedChainKey: sealed, legacyThroughSeq: legacy)
    }

    func insertStoreKeys(_ row: StoreKeysRow) throws {
        try run(
            """
            INSERT INTO store_keys (id, key_id, sealed_chain_key, legacy_through_seq)
            VALUES (1, \(row.keyID), \(row.sealedChainKey), \(row.legacyThroughSeq))
            """, "keying the store")
    }

    func sealedBoxes() throws -> [(binding: SealBinding, sealed: Data)] {
        var boxes: [(binding: SealBinding, sealed: Data)] = []
        for row in try run(
            "SELECT \"user\", sealed_token, sealed_secret, secret_external_id, sealed_code, sealed_verifier FROM grants",
            "reading sealed boxes"
        ).rows {
            let user = try row.text("user") ?? ""
            let columns: [(String, SealBinding)] = [
                ("sealed_token", SealBinding(kind: .accessToken, user: user)),
                ("sealed_secret", SealBinding(kind: .apiSecret, user: user, externalID: try row.text("secret_external_id"))),
                ("sealed_code", SealBinding(kind: .authorizationCode, user: user)),
                ("sealed_verifier", SealBinding(kind: .codeVerifier, user: user)),
            ]
            for (column, binding) in columns {
                if let sealed = try row.blob(column) { boxes.append((binding, sealed)) }
            }
        }
        for row in try run("SELECT \"user\", sealed_verifier FROM pending_states", "reading sealed boxes").rows {
            if let sealed = try row.blob("sealed_verifier") {
                boxes.append((SealBinding(kind: .pendingStateVerifier, user: try row.text("user") ?? ""), sealed))
            }
        }
        return boxes
    }

    func storedGrants(after user: String?, limit: Int) throws -> [StoredGrant] {
        try run(
            "SELECT * FROM grants WHERE \"user\" > \(user ?? "") ORDER BY \"user\" LIMIT \(Int64(max(0, limit)))", "reading grants"
        ).rows.map(GrantColumns.decode)
    }

    func ingestions() throws -> [(fingerprint: String, user: String, at: Date)] {
        try run("SELECT fingerprint, \"user\", at FROM ingested_codes ORDER BY fingerprint", "reading ingestions").rows.map {
            (try $0.text("fingerprint") ?? "", try $0.text("user") ?? "", Date(timeIntervalSince1970: try $0.real("at") ?? 0))
        }
    }

    func pendingStates() throws -> [(fingerprint: String, user: String, sealedVerifier: Data, expiresAt: Date)] {
        try run(
            "SELECT fingerprint, \"user\", sealed_verifier, expires_at FROM pending_states ORDER BY fingerprint",
            "reading authorize-url states"
        ).rows.map {
            (try $0.text("fingerprint") ?? "", try $0.text("user") ?? "", try $0.blob("sealed_verifier") ?? Data(),
             Date(timeIntervalSince1970: try $0.real("expires_at") ?? 0))
        }
    }

    /// The savepoint goes to the server only before the body's first statement (`run`), and
    /// is never released: COMMIT ends them all, and a later savepoint of the same name
    /// hides an earlier one, so a rollback always reaches the latest. A body that sent
    /// nothing is undone here alone: its kept audit rows and head.
    /// The savepoint goes to the server only before the body's first statement (`run`), and
    /// is never released: COMMIT ends them all, and a later savepoint of the same name
    /// hides an earlier one, so a rollback always reaches the latest. A failed body's
    /// audit rows are dropped here; rows of earlier writes that went out after the
    /// savepoint (a flush inside the body) are undone by the rollback and sent again.
    func inSavepoint(_ body: () throws -> Void) throws {
        savepoints += 1
        defer { savepoints -= 1 }
        openSavepoints.append(OpenSavepoint(name: "w\(savepoints)", rowMark: insertedRows.count, sentAt: nil))
        do {
            try body()
            openSavepoints.removeLast()
        } catch {
            let savepoint = openSavepoints.removeLast()
            if let sentAt = savepoint.sentAt {
                _ = try session.run(PostgresQuery(unsafeSQL: "ROLLBACK TO SAVEPOINT \(savepoint.name)"), "rolling back a savepoint")
                sentRows = sentAt
            }
            insertedRows.removeLast(insertedRows.count - savepoint.rowMark)
            throw error
        }
    }

    static func auditRow(_ row: PostgresRandomAccessRow) throws -> AuditRow {
        try AuditLog.decode(
            seq: try row.integer("seq") ?? 0, at: try row.text("at") ?? "", event: try row.text("event") ?? "",
            user: try row.text("user"), externalID: try row.text("external_id"), actor: try row.text("actor") ?? "",
            detail: try row.text("detail") ?? "", prevHash: try row.text("prev_hash") ?? "", hash: try row.text("hash") ?? "")
    }
}

extension PostgresBindings {
    mutating func append(_ value: StoreValue) {
        switch value {
        case .null: appendNull()
        case .integer(let n): append(n)
        case .real(let x): append(x)
        case .text(let t): append(t)
        case .flag(let b): append(b)
        }
    }
}
