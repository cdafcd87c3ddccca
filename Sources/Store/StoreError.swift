import GRDB

/// Why the store could not do what was asked. Each case names the file or the operation an
/// operator needs to look at; none carries row contents, so no secret can ride along.
public enum StoreError: Error, Equatable, Sendable {
    /// The store file grants access to group or others; wbkeyd will not use it.
    case permissiveFile(path: String, mode: UInt32)
    /// The path exists but is not a regular file (a directory, a socket, a device…).
    case notARegularFile(path: String)
    /// The store file does not exist (read-only opening never creates one).
    case missingFile(path: String)
    /// The store file could not be created or inspected.
    case fileSystem(path: String, operation: String, errno: Int32)
    /// SQLite refused to open the file or to apply the connection settings.
    case cannotOpen(path: String, message: String)
    /// The file carries migrations this build does not know: a newer wbkeyd wrote it.
    case schemaFromNewerVersion(path: String, unknownMigrations: [String])
    /// A migration failed; the store is left at the last migration that succeeded.
    case migrationFailed(path: String, message: String)
    /// The store has no `audit` table (not a wbkeyd store, or never migrated).
    case noAuditTable(path: String)
    /// The store is keyed with another master key than the one given (ids, never keys).
    case wrongMasterKey(path: String, storeKeyID: String, givenKeyID: String)
    /// The store's keys are missing, malformed or do not open.
    case keys(path: String, message: String)
    /// An operation that must share the caller's transaction was called outside one.
    case notInTransaction(operation: String)
    /// SQLite reported an error while running `operation`.
    case database(operation: String, message: String)
    /// What one backend does and the other leaves to its own tools (a file backup on
    /// PostgreSQL).
    case unsupported(operation: String, backend: String)
    /// The database server could not be reached or dropped the connection: nothing was
    /// committed, and the same work can be tried again once it is back.
    case unavailable(store: String, message: String)
    /// Another process holds the store (a running wbkeyd): two writers would each act on
    /// the same grants.
    case inUse(path: String)
    /// Another process runs under this instance name on the shared store: two would
    /// release and claim each other's grants.
    case instanceRunning(name: String, store: String)

    /// Wraps whatever GRDB threw into `.database`, keeping SQLite's code and message. GRDB
    /// leaves statement arguments out of its messages unless `publicStatementArguments` is
    /// set, which the store never does, so no bound value (a sealed secret) appears here.
    static func wrapping(_ error: any Error, operation: String) -> StoreError {
        if let storeError = error as? StoreError { return storeError }
        if let databaseError = error as? DatabaseError {
            let message = databaseError.message ?? "SQLite error \(databaseError.resultCode.rawValue)"
            return .database(operation: operation, message: message)
        }
        return .database(operation: operation, message: String(describing: error))
    }
}

extension StoreError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .permissiveFile(path, mode):
            return "store file \(path) is accessible to group or others (mode \(String(mode & 0o7777, radix: 8))); "
                + "run chmod 600 on it"
        case let .notARegularFile(path):
            return "store path \(path) is not a regular file"
        case let .missingFile(path):
            return "store file \(path) does not exist"
        case let .fileSystem(path, operation, errno):
            return "cannot \(operation) store file \(path): errno \(errno)"
        case let .cannotOpen(path, message):
            return "cannot open store \(path): \(message)"
        case let .schemaFromNewerVersion(path, unknown):
            return "store \(path) was migrated by a newer wbkeyd (unknown migrations: "
                + "\(unknown.joined(separator: ", "))); refusing to use it"
        case let .migrationFailed(path, message):
            return "migrating store \(path) failed: \(message)"
        case let .noAuditTable(path):
            return "store \(path) has no audit table"
        case let .wrongMasterKey(path, storeKeyID, givenKeyID):
            return "store \(path) is keyed with master key id \(storeKeyID), but the master key given has id \(givenKeyID)"
        case let .keys(path, message):
            return "keys of store \(path): \(message)"
        case let .notInTransaction(operation):
            return "\(operation) must run inside the caller's write transaction"
        case let .database(operation, message):
            return "\(operation) failed: \(message)"
        case let .unsupported(operation, backend):
            return "\(operation) is not done by wbkeyd on store \(backend)"
        case let .unavailable(store, message):
            return "store \(store) is unavailable: \(message)"
        case let .inUse(path):
            return "store \(path) is in use by another process (a running wbkeyd?): stop it first"
        case let .instanceRunning(name, store):
            return "instance \(name) already runs on store \(store): give this one another store.instance"
        }
    }
}
