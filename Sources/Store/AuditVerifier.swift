import Foundation
import GRDB
import GrantLifecycle

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
    /// The row after a legacy prefix is not the `audit_keyed` row that vouches for it, or an
    /// `audit_keyed` row stands anywhere else (a store keyed from its first row has none).
    case misplacedKeyedRow(legacyThroughSeq: Int64)
    /// The chain has no keyed row at all, though the store is keyed.
    case noKeyedRow(legacyThroughSeq: Int64)
    /// An `audit_pruned` row claims rows were pruned that are still there, or its detail is
    /// not what pruning writes: pruning could not have put it here.
    case misplacedVoucher(throughSeq: Int64?)
    /// `--expect SEQ:HASH`: the chain holds row SEQ, but with another hash.
    case expectedHashDiffers(seq: Int64, expected: String, found: String)
    /// `--expect SEQ:HASH`: the chain ends before SEQ (its tail was cut).
    case expectedRowMissing(seq: Int64, head: Int64?)
    /// `--expect SEQ:HASH`: row SEQ was pruned, so the witness cannot be checked.
    case expectedRowPruned(seq: Int64, oldest: Int64)
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
        case let .misplacedKeyedRow(legacy):
            return "the legacy prefix ends at seq \(legacy), so only seq \(legacy + 1) may be audit_keyed, and it must be"
        case let .noKeyedRow(legacy):
            return "the store is keyed after seq \(legacy), but no row after it is left (rows removed or rewritten)"
        case let .misplacedVoucher(through):
            return "audit_pruned row" + (through.map { " for through_seq \($0)" } ?? " with a malformed detail")
                + " stands where no pruning could have put it (forged or rows restored)"
        case let .expectedHashDiffers(seq, expected, found):
            return "row \(seq) has hash \(found), not the expected \(expected) (chain rewritten)"
        case let .expectedRowMissing(seq, head):
            return "the chain ends at seq \(head.map(String.init) ?? "none") before the expected row \(seq) (tail cut)"
        case let .expectedRowPruned(seq, oldest):
            return "row \(seq) was pruned (oldest row is \(oldest)); the expectation cannot be checked"
        }
    }
}

/// Re-walks the audit chain of a store file from its oldest row, for `wbkeyd audit-verify`
/// and for outside auditors. Streams the rows through a cursor in one read transaction,
/// so memory stays flat however long the log is, and the daemon may keep writing meanwhile.
///
/// Rows up to the store's `legacy_through_seq` are checked as plain SHA-256 (written before
/// the chain was keyed); the row after them must be `audit_keyed`, whose HMAC covers the
/// legacy head, and every later row is checked as HMAC under the chain key. A store keyed
/// from its first row has no legacy prefix (`legacy_through_seq` 0). docs/audit.md.
public enum AuditVerifier {
    /// Throws only when the store cannot be read at all, or the master key does not unlock
    /// it; a chain that does not hold is an answer, `.broken`, not an error. `expecting` is a
    /// witnessed head (from the journal) that the chain must still hold.
    public static func verify(
        storePath: String, masterKey: Data, expecting: AuditHead? = nil
    ) throws(StoreError) -> AuditVerification {
        let sealer: Sealer
        do { sealer = try Sealer(masterKey: masterKey) } catch { throw .keys(path: storePath, message: "\(error)") }
        let queue = try StoreDatabase.openReadOnly(path: storePath)
        defer { try? queue.close() }
        do {
            return try queue.read { db in
                guard try db.tableExists("audit") else { throw StoreError.noAuditTable(path: storePath) }
                guard let keyring = try StoreKeyring.read(sealer: sealer, path: storePath, in: db) else {
                    throw StoreError.keys(
                        path: storePath,
                        message: "the store has no audit chain key (start wbkeyd on it once to key an older store)")
                }
                var walk = ChainWalk(keyring: keyring, expecting: expecting)
                return try walk.run(db)
            }
        } catch {
            throw StoreError.wrapping(error, operation: "audit-verify of \(storePath)")
        }
    }
}

/// One stored row as the walk reads it, its types not trusted: an attacker who rebuilt
/// the table could have put anything there, and the walk must report, not trap. What
/// pruning and keying wrote into `detail` comes read by the backend (nil when malformed).
package struct ChainWalkRow {
    package let seq: Int64?
    package let fields: Result<ChainFields, AuditChainFault>
    package let throughSeq: Int64?
    package let anchorHash: String?
    package let legacyThroughSeq: Int64?

    package init(
        seq: Int64?, fields: Result<ChainFields, AuditChainFault>, throughSeq: Int64?, anchorHash: String?, legacyThroughSeq: Int64?
    ) {
        self.seq = seq
        self.fields = fields
        self.throughSeq = throughSeq
        self.anchorHash = anchorHash
        self.legacyThroughSeq = legacyThroughSeq
    }
}

/// The walk itself, fed one row at a time in seq order by whichever backend holds them.
package struct ChainWalk {
    let keyring: StoreKeyring
    let expecting: AuditHead?
    var count = 0
    var previous: AuditHead?
    var oldest: Int64?
    var lastVoucherThrough: Int64?

    package init(keyring: StoreKeyring, expecting: AuditHead?) {
        self.keyring = keyring
        self.expecting = expecting
    }

    mutating func run(_ db: Database) throws -> AuditVerification {
        // What pruning and keying wrote into detail, read by SQLite (NULL for malformed JSON).
        let cursor = try Row.fetchCursor(
            db,
            sql: """
                SELECT \(AuditLog.columns),
                    CASE WHEN json_valid(detail) THEN json_extract(detail, '$.through_seq') END,
                    CASE WHEN json_valid(detail) THEN json_extract(detail, '$.anchor_hash') END,
                    CASE WHEN json_valid(detail) THEN json_extract(detail, '$.legacy_through_seq') END
                FROM audit ORDER BY seq
                """)
        while let row = try cursor.next() {
            let anchor: String? = if case let .string(text) = (row[10] as DatabaseValue).storage { text } else { nil }
            let walkRow = ChainWalkRow(
                seq: (row[0] as DatabaseValue).storage.int64, fields: ChainFields.read(row),
                throughSeq: (row[9] as DatabaseValue).storage.int64, anchorHash: anchor,
                legacyThroughSeq: (row[11] as DatabaseValue).storage.int64)
            if let broken = try step(walkRow, startIsAccepted: { seq, prevHash in try Self.startIsAccepted(seq: seq, prevHash: prevHash, db) }) {
                return broken
            }
        }
        return finish()
    }

    /// Checks one row; `.broken` ends the walk, nil goes on. `startIsAccepted` answers
    /// whether an `audit_pruned` row at or after `seq` vouches for `prevHash` as the hash
    /// of row `seq - 1` (asked only of the oldest row).
    package mutating func step(
        _ row: ChainWalkRow, startIsAccepted: (Int64, String) throws -> Bool
    ) throws -> AuditVerification? {
        let legacy = keyring.legacyThroughSeq
        guard let seq = row.seq else {
            // Without a seq the row cannot even be named: name the one it should have been.
            return .broken(firstBadSeq: (previous?.seq ?? 0) + 1, reason: .malformedColumn("seq"))
        }
        let fields: ChainFields
        switch row.fields {
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
        } else {
            let accepted = fields.prevHash == AuditChain.genesisPrevHash ? seq == 1 : try startIsAccepted(seq, fields.prevHash)
            if !accepted {
                return .broken(firstBadSeq: seq, reason: .unvouchedStart(prevHash: fields.prevHash))
            }
            oldest = seq
        }
        let keyed = seq > legacy
        let expected = AuditChain.hash(
            prevHash: fields.prevHash, seq: seq, at: fields.at, event: fields.event, user: fields.user,
            externalID: fields.externalID, actor: fields.actor, detail: fields.detail,
            key: keyed ? keyring.chainKey : nil)
        guard expected == fields.hash else { return .broken(firstBadSeq: seq, reason: .hashMismatch) }
        let boundary = legacy > 0 && seq == legacy + 1
        if boundary != (fields.event == AuditEvent.auditKeyed.rawValue) || (boundary && row.legacyThroughSeq != legacy) {
            return .broken(firstBadSeq: seq, reason: .misplacedKeyedRow(legacyThroughSeq: legacy))
        }
        if fields.event == AuditEvent.auditPruned.rawValue,
            let fault = voucherFault(through: row.throughSeq, anchor: row.anchorHash, seq: seq)
        {
            return .broken(firstBadSeq: seq, reason: fault)
        }
        if let expecting, expecting.seq == seq, expecting.hash != fields.hash {
            return .broken(firstBadSeq: seq, reason: .expectedHashDiffers(seq: seq, expected: expecting.hash, found: fields.hash))
        }
        previous = AuditHead(seq: seq, hash: fields.hash)
        count += 1
        return nil
    }

    /// The verdict once every row was stepped through without a break.
    package func finish() -> AuditVerification {
        let legacy = keyring.legacyThroughSeq
        if let previous, previous.seq <= legacy {
            return .broken(firstBadSeq: previous.seq, reason: .noKeyedRow(legacyThroughSeq: legacy))
        }
        if let expecting {
            if let oldest, expecting.seq < oldest {
                return .broken(firstBadSeq: expecting.seq, reason: .expectedRowPruned(seq: expecting.seq, oldest: oldest))
            }
            if expecting.seq > (previous?.seq ?? 0) {
                return .broken(firstBadSeq: expecting.seq, reason: .expectedRowMissing(seq: expecting.seq, head: previous?.seq))
            }
        }
        return .sound(rows: count, head: previous)
    }

    /// Pruning deletes the prefix through N and then appends its voucher at the head, so a
    /// voucher stands after every row it covers, none of them survives it (the oldest row
    /// left is past N), and a later pruning covers more than an earlier one.
    private mutating func voucherFault(through: Int64?, anchor: String?, seq: Int64) -> AuditChainFault? {
        guard let through, let anchorHash = anchor, anchorHash.utf8.count == 64 else {
            return .misplacedVoucher(throughSeq: nil)
        }
        let coversOnlyGoneRows = oldest.map { through < $0 } ?? false
        let coversMore = (lastVoucherThrough ?? 0) < through
        guard through < seq, coversOnlyGoneRows, coversMore else {
            return .misplacedVoucher(throughSeq: through)
        }
        lastVoucherThrough = through
        return nil
    }

    /// The oldest row either opens the log, or follows a pruned prefix that an
    /// `audit_pruned` row (itself, when the whole log was pruned) vouches for. That row's own
    /// hash is checked when the walk gets to it, so a forged voucher is caught there: after
    /// the legacy prefix it is an HMAC only the chain key makes.
    private static func startIsAccepted(seq: Int64, prevHash: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(
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
package struct ChainFields {
    let at: String
    let event: String
    let user: String?
    let externalID: String?
    let actor: String
    let detail: String
    let prevHash: String
    let hash: String

    package init(
        at: String, event: String, user: String?, externalID: String?, actor: String, detail: String, prevHash: String, hash: String
    ) {
        self.at = at
        self.event = event
        self.user = user
        self.externalID = externalID
        self.actor = actor
        self.detail = detail
        self.prevHash = prevHash
        self.hash = hash
    }

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
            at: at, event: event, user: texts[2], externalID: texts[3], actor: actor, detail: detail,
            prevHash: prevHash, hash: hash))
    }
}

extension DatabaseValue.Storage {
    fileprivate var int64: Int64? {
        if case let .int64(value) = self { return value }
        return nil
    }
}
