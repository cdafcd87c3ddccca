import Foundation
import Logging
import PostgresNIO
import Store

/// `wbkeyd audit-verify` on a PostgreSQL store: the same walk as on a SQLite file
/// (`ChainWalk`), over the rows read in pages of one repeatable-read snapshot, so memory
/// stays flat and instances may keep writing meanwhile. Reads only; creates nothing.
public enum PostgresAuditVerifier {
    static let pageSize: Int64 = 1000

    public static func verify(
        options: PostgresStoreOptions, masterKey: Data, expecting: AuditHead? = nil, logger: Logger = Logger(label: "wbkeyd.audit-verify")
    ) throws(StoreError) -> AuditVerification {
        let name = options.displayName
        let sealer: Sealer
        do { sealer = try Sealer(masterKey: masterKey) } catch { throw .keys(path: name, message: "\(error)") }
        let session = PostgresSession(options: options, role: "audit-verify", logger: logger)
        defer { session.drop() }
        try session.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "beginning a snapshot")
        let hasAudit = try session.run("SELECT to_regclass('audit') IS NOT NULL AS present", "looking for the audit table")
            .rows.first.map { (try? $0.flag("present")) ?? false } ?? false
        guard hasAudit else { throw .noAuditTable(path: name) }
        let connection = PostgresStoreConnection(session: session, inTransaction: false)
        guard let keyring = try StoreKeyring.read(sealer: sealer, path: name, in: connection) else {
            throw .keys(path: name, message: "the store has no audit chain key")
        }
        var walk = ChainWalk(keyring: keyring, expecting: expecting)
        var after: Int64 = .min
        do {
            while true {
                let rows = try session.run(
                    """
                    SELECT seq, at, event, "user", external_id, actor, detail, prev_hash, hash,
                        CASE WHEN jsonb_typeof(detail::jsonb -> 'through_seq') = 'number'
                            THEN (detail::jsonb ->> 'through_seq')::bigint END AS through_seq,
                        detail::jsonb ->> 'anchor_hash' AS anchor_hash,
                        CASE WHEN jsonb_typeof(detail::jsonb -> 'legacy_through_seq') = 'number'
                            THEN (detail::jsonb ->> 'legacy_through_seq')::bigint END AS legacy_through_seq
                    FROM audit WHERE seq > \(after) ORDER BY seq LIMIT \(pageSize)
                    """, "reading audit rows after \(after)"
                ).rows
                for row in rows {
                    let walkRow = ChainWalkRow(
                        seq: try? row.integer("seq"), fields: fields(row), throughSeq: try? row.integer("through_seq"),
                        anchorHash: try? row.text("anchor_hash"), legacyThroughSeq: try? row.integer("legacy_through_seq"))
                    if let broken = try walk.step(walkRow, startIsAccepted: { seq, prevHash in
                        try vouched(seq: seq, prevHash: prevHash, session: session)
                    }) {
                        return broken
                    }
                    after = (try? row.integer("seq")) ?? after
                }
                if rows.count < Int(pageSize) { break }
            }
        } catch {
            throw PostgresSession.storeError(error, operation: "audit-verify of \(name)", store: name)
        }
        return walk.finish()
    }

    private static func fields(_ row: PostgresRandomAccessRow) -> Result<ChainFields, AuditChainFault> {
        func text(_ column: String) -> Result<String?, AuditChainFault> {
            do { return .success(try row.text(column)) } catch { return .failure(.malformedColumn(column)) }
        }
        var values: [String: String?] = [:]
        for column in ["at", "event", "user", "external_id", "actor", "detail", "prev_hash", "hash"] {
            switch text(column) {
            case .success(let value): values[column] = value
            case .failure(let fault): return .failure(fault)
            }
        }
        guard let at = values["at"] ?? nil, let event = values["event"] ?? nil, let actor = values["actor"] ?? nil,
            let detail = values["detail"] ?? nil, let prevHash = values["prev_hash"] ?? nil, let hash = values["hash"] ?? nil
        else { return .failure(.malformedColumn("unknown")) }
        return .success(ChainFields(
            at: at, event: event, user: values["user"] ?? nil, externalID: values["external_id"] ?? nil, actor: actor,
            detail: detail, prevHash: prevHash, hash: hash))
    }

    /// An `audit_pruned` row at or after `seq` vouches for `prevHash` as row `seq - 1`'s.
    private static func vouched(seq: Int64, prevHash: String, session: PostgresSession) throws -> Bool {
        let through = String(seq - 1)
        return try !session.run(
            """
            SELECT 1 AS one FROM audit WHERE event = 'audit_pruned' AND seq >= \(seq)
                AND detail::jsonb ->> 'through_seq' = \(through) AND detail::jsonb ->> 'anchor_hash' = \(prevHash)
            LIMIT 1
            """, "looking for the voucher of seq \(seq)"
        ).rows.isEmpty
    }
}
