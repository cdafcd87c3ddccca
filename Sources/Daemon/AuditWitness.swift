import Foundation
import Logging
import Store

/// Copies of the audit chain head kept outside the database, so a tail cut from the store
/// (rows deleted from the end, which the chain itself cannot show) is noticed: an
/// `audit_head` journal line, and the file `STORE.witness` beside the store, which start-up
/// compares with the chain. See docs/audit.md.
///
/// The file is one line, `SEQ HASH MAC`, where MAC is the hex HMAC-SHA256 under the chain key
/// of "wbkeyd witness" 0x00 SEQ 0x00 HASH: someone without the master key who cuts the tail
/// cannot also move the witness back unnoticed. It is written atomically (a temporary file
/// renamed over it), at most once per `checkInterval` when the head moved, and at stop.
final class AuditWitness: Sendable {
    /// How often the head is looked at; the witness speaks only when it moved.
    static let checkInterval: TimeInterval = 10
    /// A journal line at least this often even when the head did not move.
    static let journalInterval: TimeInterval = 600

    let path: String
    private let chainKey: AuditChainKey
    private let logger: Logger
    private let last = Locked<(head: AuditHead, at: Date)?>(nil)

    init(storePath: String, chainKey: AuditChainKey, logger: Logger) {
        self.path = storePath + ".witness"
        self.chainKey = chainKey
        self.logger = logger
    }

    /// What start-up found when the chain no longer holds the witnessed row.
    struct Mismatch: Sendable {
        let witnessed: AuditHead
        let found: String

        var description: String { "witnessed seq \(witnessed.seq) hash \(witnessed.hash), but \(found)" }
        var detail: AuditDetail {
            ["witness_seq": .int(Int(witnessed.seq)), "witness_hash": .string(witnessed.hash), "found": .string(found)]
        }
    }

    /// Compares the witness file with the chain; nil when it holds, or when there is nothing
    /// to compare (no file yet, or its row was pruned since).
    func check(store: GrantStore) async throws -> Mismatch? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            logger.notice("no audit witness file yet", metadata: ["path": "\(path)"])
            return nil
        }
        let parts = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard parts.count == 3, let seq = Int64(parts[0]), parts[2] == mac(seq: seq, hash: parts[1]) else {
            return Mismatch(witnessed: AuditHead(seq: 0, hash: ""), found: "the witness file \(path) was altered")
        }
        let witnessed = AuditHead(seq: seq, hash: parts[1])
        let (stored, oldest, newest) = try await store.auditChain(at: seq)
        if let stored {
            return stored == witnessed.hash ? nil : Mismatch(witnessed: witnessed, found: "the store has hash \(stored) there")
        }
        if let oldest, seq < oldest { return nil }
        return Mismatch(witnessed: witnessed, found: "the chain ends at seq \(newest.map(String.init) ?? "none") (tail cut)")
    }

    /// Records `head` in the journal and the file when it moved since the last time (or the
    /// journal interval passed); `force` at stop.
    func witness(_ head: AuditHead, force: Bool = false, now: Date = Date()) {
        let previous = last.withLock { $0 }
        let moved = previous?.head != head
        guard force || moved || now.timeIntervalSince(previous?.at ?? .distantPast) >= Self.journalInterval else { return }
        // The file first: once the journal shows a head, the file holds it or a later one.
        if moved || force { save(head) }
        last.withLock { $0 = (head, now) }
        logger.info(
            "audit chain head seq=\(head.seq) hash=\(head.hash)",
            metadata: ["event": "audit_head", "seq": "\(head.seq)", "hash": "\(head.hash)"])
    }

    private func save(_ head: AuditHead) {
        let temporary = path + ".tmp"
        let line = "\(head.seq) \(head.hash) \(mac(seq: head.seq, hash: head.hash))\n"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            logger.error("cannot write the audit witness file", metadata: ["path": "\(temporary)", "errno": "\(errno)"])
            return
        }
        let written = line.utf8CString.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count - 1) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == line.utf8.count, synced == 0, rename(temporary, path) == 0 else {
            logger.error("cannot write the audit witness file", metadata: ["path": "\(path)", "errno": "\(errno)"])
            return
        }
    }

    private func mac(seq: Int64, hash: String) -> String {
        chainKey.witnessMAC(seq: seq, hash: hash)
    }
}
