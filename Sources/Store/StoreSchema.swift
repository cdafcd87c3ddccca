import GRDB

/// One step of the store's schema. Once a build with it has shipped, a step never changes:
/// a later change is a new step with a higher version.
public struct StoreMigration: Sendable {
    public let version: Int
    public let name: String
    public let apply: @Sendable (Database) throws -> Void

    public init(version: Int, name: String, apply: @escaping @Sendable (Database) throws -> Void) {
        self.version = version
        self.name = name
        self.apply = apply
    }

    /// What `grdb_migrations` records: zero-padded so the identifiers also sort by version.
    public var identifier: String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + name
    }
}

/// The ordered list of migrations that makes a store. Every module part that owns tables
/// adds its steps to `standard`, at the end.
public struct StoreSchema: Sendable {
    public let migrations: [StoreMigration]

    public init(migrations: [StoreMigration]) {
        precondition(
            zip(migrations, migrations.dropFirst()).allSatisfy { $0.version < $1.version },
            "store migration versions must strictly increase")
        self.migrations = migrations
    }

    /// Every migration this build knows, oldest first.
    public static let standard = StoreSchema(migrations: [
        AuditSchema.migration,
        GrantSchema.migration,
        KeySchema.migration,
        GrantSchema.lockLadderMigration,
        GrantSchema.keyWatchMigration,
        NonceRecords.migration,
        InstanceRecords.migration,
        GrantLeases.migration,
    ])

    public var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.identifier, migrate: migration.apply)
        }
        return migrator
    }

    /// Applies the missing steps, each in its own transaction. A store that already carries
    /// a step this build does not know was written by a newer wbkeyd: running on it could
    /// undo guarantees that build relies on, so it is refused.
    func migrate(_ writer: some DatabaseWriter, path: String) throws(StoreError) {
        let migrator = self.migrator
        let known = Set(migrations.map(\.identifier))
        do {
            let unknown = try writer.read { db in try migrator.appliedIdentifiers(db) }.subtracting(known)
            guard unknown.isEmpty else {
                throw StoreError.schemaFromNewerVersion(path: path, unknownMigrations: unknown.sorted())
            }
            try migrator.migrate(writer)
        } catch let error as StoreError {
            throw error
        } catch {
            throw .migrationFailed(path: path, message: StoreError.wrapping(error, operation: "migrate").description)
        }
    }
}
