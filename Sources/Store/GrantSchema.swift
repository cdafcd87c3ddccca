import GRDB

/// The grants and what hangs off them. Times are Unix seconds (REAL). Every secret
/// column holds a `Sealer` box, never clear text; `next_deadline` is the grant's
/// earliest deadline, indexed, so start-up rebuilds the scheduler with one scan.
public enum GrantSchema {
    public static let migration = StoreMigration(version: 2, name: "grants") { db in
        try db.execute(sql: """
            CREATE TABLE grants (
                user TEXT PRIMARY KEY NOT NULL,
                state TEXT NOT NULL,
                reason TEXT,
                external_id TEXT,
                api_key TEXT,
                token_expires_at REAL,
                step_at REAL,
                step_attempts INTEGER NOT NULL DEFAULT 0,
                step_started_at REAL,
                poll_until REAL,
                exchange_at REAL,
                exchange_attempts INTEGER NOT NULL DEFAULT 0,
                authorization_received_at REAL,
                doomed_key TEXT,
                resume_after_deletion INTEGER NOT NULL DEFAULT 0,
                next_deadline REAL,
                updated_at REAL NOT NULL,
                sealed_token BLOB,
                sealed_secret BLOB,
                secret_external_id TEXT,
                sealed_code BLOB,
                sealed_verifier BLOB
            ) STRICT;
            CREATE INDEX grants_by_deadline ON grants(next_deadline) WHERE next_deadline IS NOT NULL;
            CREATE INDEX grants_by_state ON grants(state);

            -- Keyed fingerprints of (user, code) already ingested: a spool file seen
            -- twice (a writer's retry, a crash between commit and unlink) counts once.
            CREATE TABLE ingested_codes (
                fingerprint TEXT PRIMARY KEY NOT NULL,
                user TEXT NOT NULL,
                at REAL NOT NULL
            ) STRICT;

            -- `authorize-url`: the state's fingerprint names the user and the sealed
            -- verifier the daemon keeps until the callback's spool file arrives.
            CREATE TABLE pending_states (
                fingerprint TEXT PRIMARY KEY NOT NULL,
                user TEXT NOT NULL,
                sealed_verifier BLOB NOT NULL,
                expires_at REAL NOT NULL
            ) STRICT;
            """)
    }

    /// The 423 ladder of a secret fetch gets its own attempt count and start, apart from
    /// the transient-failure ladder it used to share.
    public static let lockLadderMigration = StoreMigration(version: 4, name: "secret_lock_ladder") { db in
        try db.execute(sql: """
            ALTER TABLE grants ADD COLUMN lock_attempts INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE grants ADD COLUMN lock_started_at REAL;
            """)
    }

    /// The key in use (docs/design.md §12): which identity signs, what the last signed
    /// read found and when, and the next probe of a key no token watches.
    public static let keyWatchMigration = StoreMigration(version: 5, name: "key_watch") { db in
        try db.execute(sql: """
            ALTER TABLE grants ADD COLUMN key_identity TEXT;
            ALTER TABLE grants ADD COLUMN key_checked_at REAL;
            ALTER TABLE grants ADD COLUMN key_check TEXT;
            ALTER TABLE grants ADD COLUMN key_used_at REAL;
            ALTER TABLE grants ADD COLUMN probe_at REAL;
            """)
    }
}
