import Foundation

/// The store's tables in PostgreSQL: the same tables, columns and guards as SQLite's
/// migrations 1–6 (docs/design.md §6, §13), as one first step. `"user"` is quoted: it
/// is a reserved word here.
///
/// The audit guard differs in mechanism, not in effect: UPDATE, TRUNCATE and DELETE of
/// `audit` are refused by a trigger, except a DELETE of rows up to the transaction-local
/// setting `wbkeyd.prune_through`, which only pruning sets, and which PostgreSQL itself
/// forgets at the end of the transaction (so no crash can leave deletion allowed). An
/// insert must extend the head, as in SQLite.
enum PostgresSchema {
    struct Step {
        let version: Int
        let name: String
        let sql: String

        /// One statement each: the extended query protocol takes one at a time. A line
        /// ending in `;` ends a statement, except inside a `$$` function body.
        var statements: [String] {
            var statements: [String] = []
            var current = ""
            var inBody = false
            for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
                current += line + "\n"
                if line.components(separatedBy: "$$").count % 2 == 0 { inBody.toggle() }
                if !inBody, line.hasSuffix(";") {
                    statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                    current = ""
                }
            }
            let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
            if !rest.isEmpty { statements.append(rest) }
            return statements
        }
    }

    static let steps = [
        Step(version: 1, name: "store", sql: initial),
        Step(version: 2, name: "instances", sql: instances),
        Step(version: 3, name: "grant_leases", sql: leases),
    ]

    /// SQLite's migration 8 (`GrantLeases`).
    private static let leases = """
        ALTER TABLE grants ADD COLUMN owner TEXT;
        ALTER TABLE grants ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
        CREATE INDEX grants_by_owner ON grants(owner) WHERE owner IS NOT NULL;
        ALTER TABLE instances ADD COLUMN lease_expires DOUBLE PRECISION;
        ALTER TABLE instances ADD COLUMN nonce_lane INTEGER;
        CREATE TABLE revocation_requests (
            id BIGSERIAL PRIMARY KEY,
            "user" TEXT NOT NULL,
            reason TEXT NOT NULL,
            actor TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL
        );
        """

    /// SQLite's migration 7 (`InstanceRecords`).
    private static let instances = """
        CREATE TABLE instances (
            name TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            pid BIGINT NOT NULL,
            started_at DOUBLE PRECISION NOT NULL,
            last_seen DOUBLE PRECISION NOT NULL,
            stopped_at DOUBLE PRECISION
        );
        """

    private static let initial = """
        CREATE TABLE grants (
            "user" TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            reason TEXT,
            external_id TEXT,
            api_key TEXT,
            token_expires_at DOUBLE PRECISION,
            step_at DOUBLE PRECISION,
            step_attempts BIGINT NOT NULL DEFAULT 0,
            step_started_at DOUBLE PRECISION,
            lock_attempts BIGINT NOT NULL DEFAULT 0,
            lock_started_at DOUBLE PRECISION,
            poll_until DOUBLE PRECISION,
            exchange_at DOUBLE PRECISION,
            exchange_attempts BIGINT NOT NULL DEFAULT 0,
            authorization_received_at DOUBLE PRECISION,
            doomed_key TEXT,
            resume_after_deletion BOOLEAN NOT NULL DEFAULT false,
            key_identity TEXT,
            key_checked_at DOUBLE PRECISION,
            key_check TEXT,
            key_used_at DOUBLE PRECISION,
            probe_at DOUBLE PRECISION,
            next_deadline DOUBLE PRECISION,
            updated_at DOUBLE PRECISION NOT NULL,
            sealed_token BYTEA,
            sealed_secret BYTEA,
            secret_external_id TEXT,
            sealed_code BYTEA,
            sealed_verifier BYTEA
        );
        CREATE INDEX grants_by_deadline ON grants (next_deadline) WHERE next_deadline IS NOT NULL;
        CREATE INDEX grants_by_state ON grants (state);

        CREATE TABLE ingested_codes (
            fingerprint TEXT PRIMARY KEY,
            "user" TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL
        );

        CREATE TABLE pending_states (
            fingerprint TEXT PRIMARY KEY,
            "user" TEXT NOT NULL,
            sealed_verifier BYTEA NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        );

        CREATE TABLE key_nonces (
            api_key TEXT PRIMARY KEY,
            last_nonce BIGINT NOT NULL
        );

        CREATE TABLE store_keys (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            key_id TEXT NOT NULL,
            sealed_chain_key BYTEA NOT NULL,
            legacy_through_seq BIGINT NOT NULL
        );

        CREATE TABLE audit (
            seq BIGINT PRIMARY KEY,
            at TEXT NOT NULL,
            event TEXT NOT NULL,
            "user" TEXT,
            external_id TEXT,
            actor TEXT NOT NULL,
            detail TEXT NOT NULL CHECK (jsonb_typeof(detail::jsonb) = 'object'),
            prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
            hash TEXT NOT NULL CHECK (length(hash) = 64)
        );
        CREATE INDEX audit_by_user ON audit ("user", seq);

        CREATE FUNCTION wbkeyd_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' AND OLD.seq <=
                coalesce(nullif(current_setting('wbkeyd.prune_through', true), '')::bigint, 0) THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'audit is append-only: % refused outside pruning', TG_OP;
        END $$;
        CREATE TRIGGER audit_refuses_update BEFORE UPDATE ON audit
            FOR EACH ROW EXECUTE FUNCTION wbkeyd_audit_refuse();
        CREATE TRIGGER audit_refuses_delete BEFORE DELETE ON audit
            FOR EACH ROW EXECUTE FUNCTION wbkeyd_audit_refuse();
        CREATE TRIGGER audit_refuses_truncate BEFORE TRUNCATE ON audit
            FOR EACH STATEMENT EXECUTE FUNCTION wbkeyd_audit_refuse();

        CREATE FUNCTION wbkeyd_audit_extends_head() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            head_seq BIGINT;
            head_hash TEXT;
        BEGIN
            SELECT seq, hash INTO head_seq, head_hash FROM audit ORDER BY seq DESC LIMIT 1;
            IF FOUND AND (NEW.seq <> head_seq + 1 OR NEW.prev_hash <> head_hash) THEN
                RAISE EXCEPTION 'audit insert must extend the chain head';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER audit_insert_extends_head BEFORE INSERT ON audit
            FOR EACH ROW EXECUTE FUNCTION wbkeyd_audit_extends_head();

        CREATE FUNCTION wbkeyd_row_stays() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% row cannot be deleted', TG_TABLE_NAME;
        END $$;
        CREATE TRIGGER store_keys_stay BEFORE DELETE ON store_keys
            FOR EACH ROW EXECUTE FUNCTION wbkeyd_row_stays();
        CREATE TRIGGER store_keys_not_truncated BEFORE TRUNCATE ON store_keys
            FOR EACH STATEMENT EXECUTE FUNCTION wbkeyd_row_stays();
        """
}
