import Lifecycle
import GRDB

/// The outcome of re-walking the audit chain.
public enum AuditVerification: Sendable, Equatable {
    /// Every row checks out; `head` is nil only for an empty log.
    case sound(rows: Int, head: AuditHead?)
    /// `firstBadSeq` is the first row that does not check out; rows before it do.
    case broken(firstBadSeq: Int64, reason: AuditChainFault)
}

/// Why a row breaks the chain.
public enum AuditChainFault: Error, Sendable, Equatable {
    /// The stored `hash` is not the hash of the row's fields: the row was altered.
    case hashMismatch
    /// `prev_hash` is not the previous row's `hash`.
    case brokenLink(previousSeq: Int64)
    /// `seq` does not follow the previous row's: rows in between are missing.
    case seqGap(expected: Int64)
    /// The oldest row is not the log's first (seq 1 after 64 zeros), and no `audit_pruned`
    /// row vouches for its `prev_hash` as the hash of the row just before it.
    case unvouchedStart(prevHash: String)
    /// A column holds NULL or a value of the wrong type where the schema forbids it.
    case malformedColumn(String)
}

extension AuditChainFault: CustomStringConvertible {
    public var description: String {
        switch self {
        case .hashMismatch:
            return "hash does not match the row's contents (row altered)"
        case let .brokenLink(previousSeq):
            return "prev_hash does not match the hash of seq \(previousSeq)"
        case let .seqGap(expected):
            return "expected seq \(expected) here (rows missing)"
        case let .unvouchedStart(prevHash):
            return "oldest row follows hash \(prevHash), which no audit_pruned row vouches for (rows removed)"
        case let .malformedColumn(column):
            return "column \(column) is missing or of the wrong type"
        }
    }
}

/// Re-walks the audit chain of a store file from its oldest row, for `wbkeyd audit-verify`
/// and for outside auditors. Streams the rows through a cursor in one read transaction,
/// so memory stays flat however long the log is, and the daemon may keep writing meanwhile.
public enum AuditVerifier {
    /// Throws only when the store cannot be read at all; a chain that does not hold is an
    /// answer, `.broken`, not an error.
    public static func verify(storePath: String) throws(StoreError) -> AuditVerification {
        let queue = try StoreDatabase.openReadOnly(path: storePath)
        defer { try? queue.close() }
        do {
            return try queue.read { db in
                guard try db.tableExists("audit") else { throw StoreError.noAuditTable(path: storePath) }
                return try walk(db)
            }
        } catch {
            throw StoreError.wrapping(error, operation: "audit-verify of \(storePath)")
        }
    }

    private static func walk(_ db: Database) throws -> AuditVerification {
        let cursor = try Row.fetchCursor(db, sql: "SELECT \(AuditLog.columns) FROM audit ORDER BY seq")
        var count = 0
        var previous: AuditHead?
        while let row = try cursor.next() {
            guard let seq = (row[0] as DatabaseValue).storage.int64 else {
                // Without a seq the row cannot even be named: name the one it should have been.
                return .broken(firstBadSeq: (previous?.seq ?? 0) + 1, reason: .malformedColumn("seq"))
            }
            let fields: ChainFields
            switch ChainFields.read(row) {
            case let .success(read): fields = read
            case let .failure(fault): return .broken(firstBadSeq: seq, reason: fault)
            }
            if let previous {
                guard seq == previous.seq + 1 else {
                    return .broken(firstBadSeq: seq, reason: .seqGap(expected: previous.seq + 1))
                }
                guard fields.prevHash == previous.hash else {
                    return .broken(firstBadSeq: seq, reason: .brokenLink(previousSeq: previous.seq))
                }
            } else if !(try startIsAccepted(seq: seq, prevHash: fields.prevHash, db)) {
                return .broken(firstBadSeq: seq, reason: .unvouchedStart(prevHash: fields.prevHash))
            }
            let expected = AuditChain.hash(
                prevHash: fields.prevHash, seq: seq, at: fields.at, event: fields.event, user: fields.user,
                externalId: fields.externalId, actor: fields.actor, detail: fields.detail)
            guard expected == fields.hash else { return .broken(firstBadSeq: seq, reason: .hashMismatch) }
            previous = AuditHead(seq: seq, hash: fields.hash)
            count += 1
        }
        return .sound(rows: count, head: previous)
    }

    /// The oldest row either opens the log, or follows a pruned prefix that an
    /// `audit_pruned` row (itself, when the whole log was pruned) vouches for. That row's own hash is checked when the walk gets
    /// to it, so a forged voucher is caught there.
    private static func startIsAccepted(seq: Int64, prevHash: String, _ db: Database) throws -> Bool {
        if prevHash == AuditChain.genesisPrevHash { return seq == 1 }
        return try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (
                    SELECT 1 FROM audit
                    WHERE event = 'audit_pruned' AND seq >= :seq AND json_valid(detail)
                      AND json_extract(detail, '$.through_seq') = :through
                      AND json_extract(detail, '$.anchor_hash') = :anchor)
                """,
            arguments: ["seq": seq, "through": seq - 1, "anchor": prevHash]) ?? false
    }
}

/// The text columns of one row, read without trusting their types: an attacker who
/// rebuilt the table could have put anything there, and the walk must report, not trap.
private struct ChainFields {
    let at: String
    let event: String
    let user: String?
    let externalId: String?
    let actor: String
    let detail: String
    let prevHash: String
    let hash: String

    static func read(_ row: Row) -> Result<ChainFields, AuditChainFault> {
        let names = ["seq", "at", "event", "user", "external_id", "actor", "detail", "prev_hash", "hash"]
        var texts: [String?] = []
        for index in 1..<names.count {
            switch (row[index] as DatabaseValue).storage {
            case let .string(text): texts.append(text)
            case .null where names[index] == "user" || names[index] == "external_id": texts.append(nil)
            default: return .failure(.malformedColumn(names[index]))
            }
        }
        guard let at = texts[0], let event = texts[1], let actor = texts[4], let detail = texts[5],
            let prevHash = texts[6], let hash = texts[7]
        else { return .failure(.malformedColumn("unknown")) }
        return .success(ChainFields(
            at: at, event: event, user: texts[2], externalId: texts[3], actor: actor, detail: detail,
            prevHash: prevHash, hash: hash))
    }
}

extension DatabaseValue.Storage {
    fileprivate var int64: Int64? {
        if case let .int64(value) = self { return value }
        return nil
    }
}
