import GRDB

/// The `audit` table of docs/design.md §6 and the triggers that keep it append-only.
///
/// The pruning gate. Triggers refuse every UPDATE of `audit` and every DELETE, except one
/// that the one-row table `audit_prune_gate` allows: while its `through_seq` holds N, a
/// DELETE is let through only for a row with `seq <= N` that is also the oldest row left,
/// so only a prefix can go, oldest first. `AuditLog.prune` opens the gate, deletes the
/// prefix, closes the gate and appends `audit_pruned`, all in one transaction.
/// `through_seq` is a deferred foreign key into a table that is always empty, so a
/// connection with foreign keys on (every store connection) cannot commit while the gate
/// is open: a crash or a bug mid-prune rolls back instead of leaving deletion allowed.
///
/// Why this is safe enough: triggers stop accidents and our own bugs, not an attacker who
/// can write the file; such a one can drop the triggers, or open the gate from a
/// connection with foreign keys off (the `sqlite3` shell's default). What catches that is
/// the keyed hash chain: a row changed or removed breaks it at that row, a prefix removed
/// without the `audit_pruned` row that vouches for its last hash leaves the new oldest row
/// unvouched, and neither a row nor a voucher can be forged without the chain key that the
/// master key unseals. `wbkeyd audit-verify` reports each. A tail cut from the end is only
/// caught against a copy of the head kept elsewhere, which is why the head also goes to the
/// journal and the witness file (docs/audit.md).
public enum AuditSchema {
    public static let migration = StoreMigration(version: 1, name: "audit") { db in
        try db.execute(sql: """
            CREATE TABLE audit (
                seq INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                event TEXT NOT NULL,
                user TEXT,
                external_id TEXT,
                actor TEXT NOT NULL,
                detail TEXT NOT NULL CHECK (json_valid(detail) AND json_type(detail) = 'object'),
                prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                hash TEXT NOT NULL CHECK (length(hash) = 64)
            ) STRICT;

            CREATE INDEX audit_by_user ON audit (user, seq);

            CREATE TABLE audit_prune_gate_closed_at_commit (
                never INTEGER PRIMARY KEY
            ) STRICT;

            CREATE TRIGGER audit_prune_gate_closed_at_commit_stays_empty
            BEFORE INSERT ON audit_prune_gate_closed_at_commit
            BEGIN
                SELECT RAISE(ABORT, 'audit_prune_gate_closed_at_commit must stay empty');
            END;

            CREATE TABLE audit_prune_gate (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                through_seq INTEGER
                    REFERENCES audit_prune_gate_closed_at_commit (never) DEFERRABLE INITIALLY DEFERRED
            ) STRICT;

            INSERT INTO audit_prune_gate (id, through_seq) VALUES (1, NULL);

            CREATE TRIGGER audit_prune_gate_stays
            BEFORE DELETE ON audit_prune_gate
            BEGIN
                SELECT RAISE(ABORT, 'audit_prune_gate row cannot be deleted');
            END;

            CREATE TRIGGER audit_refuses_update
            BEFORE UPDATE ON audit
            BEGIN
                SELECT RAISE(ABORT, 'audit is append-only: UPDATE refused');
            END;

            CREATE TRIGGER audit_refuses_delete
            BEFORE DELETE ON audit
            WHEN NOT coalesce(
                OLD.seq <= (SELECT through_seq FROM audit_prune_gate WHERE id = 1)
                    AND OLD.seq = (SELECT min(seq) FROM audit),
                0)
            BEGIN
                SELECT RAISE(ABORT, 'audit is append-only: DELETE refused outside pruning');
            END;

            CREATE TRIGGER audit_insert_extends_head
            BEFORE INSERT ON audit
            WHEN EXISTS (SELECT 1 FROM audit) AND (
                NEW.seq IS NOT (SELECT max(seq) FROM audit) + 1
                OR NEW.prev_hash IS NOT (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1))
            BEGIN
                SELECT RAISE(ABORT, 'audit insert must extend the chain head');
            END;
            """)
    }
}
