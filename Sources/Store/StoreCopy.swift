import Foundation

/// `wbkeyd migrate-store`: a whole store copied to an empty one on any backend (SQLite to
/// PostgreSQL and back), as stored: the sealed boxes stay sealed (their bindings name the
/// user and key, not the store), and the audit rows keep their seq and hashes, so the
/// chain verifies on the target under the same master key. The source is read in one
/// read and the target written in one transaction: all of it, or nothing.
public enum StoreCopy {
    public struct Report: Sendable, Equatable {
        public var grants = 0
        public var auditRows = 0
        public var ingestions = 0
        public var pendingStates = 0
        public var nonceMarks = 0
    }

    static let page = 1000

    public static func copy(from source: any StoreBackend, to target: any StoreBackend) throws -> Report {
        // The target's transaction outside, the source's read inside: each backend's
        // connection is then used only within its own closure's thread (GRDB checks).
        try target.blockingWrite { to in
            try source.blockingRead { from in
                guard let keys = try from.storeKeys() else {
                    throw StoreError.keys(path: source.name, message: "the source store is not keyed (start wbkeyd on it once first)")
                }
                try requireEmpty(to, name: target.name)
                var report = Report()
                try to.insertStoreKeys(keys)
                var after: String?
                while true {
                    let grants = try from.storedGrants(after: after, limit: page)
                    for stored in grants { try to.importGrant(stored) }
                    report.grants += grants.count
                    guard grants.count == page, let last = grants.last else { break }
                    after = last.grant.user
                }
                var seq: Int64 = .min
                while true {
                    let rows = try from.auditRows(after: seq, through: nil, limit: page)
                    for row in rows { try to.insertAudit(row) }
                    report.auditRows += rows.count
                    guard rows.count == page, let last = rows.last else { break }
                    seq = last.seq
                }
                for ingestion in try from.ingestions() {
                    _ = try to.recordIngestion(fingerprint: ingestion.fingerprint, user: ingestion.user, at: ingestion.at)
                    report.ingestions += 1
                }
                for state in try from.pendingStates() {
                    try to.putPendingState(
                        fingerprint: state.fingerprint, user: state.user, sealedVerifier: state.sealedVerifier, expiresAt: state.expiresAt)
                    report.pendingStates += 1
                }
                for (key, nonce) in try from.nonceMarks() {
                    try to.raiseNonce(key, to: nonce)
                    report.nonceMarks += 1
                }
                return report
            }
        }
    }

    /// A target that holds anything would mix two stores' histories; refused, naming it.
    private static func requireEmpty(_ to: any StoreConnection, name: String) throws {
        let keyed = try to.storeKeys() != nil
        let grants = try to.storedGrants(after: nil, limit: 1).count
        let audit = try to.auditBounds().newest != nil
        guard !keyed, grants == 0, !audit else {
            throw StoreError.database(
                operation: "migrate-store into \(name)", message: "the target store is not empty (keys, grants or audit rows); refusing")
        }
    }
}
