import Foundation
import GRDB
import GrantLifecycle
import Store
import Testing

/// Grants as the store keeps them: every engine field survives a round trip through a real
/// SQLite file, older stores gain the columns of later steps, and a state this build does
/// not know is refused.
@Suite struct GrantRecordsTests {
    func securingGrant() -> Grant {
        var grant = Grant(user: "u-1001", state: .securing, now: Date(timeIntervalSince1970: 1_800_000_000))
        grant.externalID = "key-1"
        grant.tokenExpiresAt = Date(timeIntervalSince1970: 1_800_014_400)
        grant.stepAt = Date(timeIntervalSince1970: 1_800_000_020)
        grant.stepAttempts = 2
        grant.stepStartedAt = Date(timeIntervalSince1970: 1_800_000_001)
        grant.lockAttempts = 3
        grant.lockStartedAt = Date(timeIntervalSince1970: 1_800_000_005)
        return grant
    }

    @Test func theLockLadderIsKeptApartFromTheStepLadder() throws {
        let directory = try TemporaryDirectory()
        let store = try StoreDatabase.open(path: directory.file("wbkeyd.sqlite3"))
        let grant = securingGrant()
        try store.pool.write { db in try GrantRecords.save(grant, in: db) }
        let loaded = try store.pool.read { db in try GrantRecords.load(user: "u-1001", in: db) }
        #expect(loaded?.grant == grant)
        #expect(loaded?.grant.lockAttempts == 3)
        #expect(loaded?.grant.stepAttempts == 2)
    }

    @Test func aStoreOfTheEarlierSchemaGainsTheLockColumns() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("wbkeyd.sqlite3")
        let earlier = StoreSchema(migrations: StoreSchema.standard.migrations.filter { $0.version <= 2 })
        let old = try StoreDatabase.open(path: path, schema: earlier)
        try old.pool.write { db in
            try db.execute(
                sql: "INSERT INTO grants (user, state, step_attempts, updated_at) VALUES ('u-old', 'securing', 4, 1800000000)")
        }
        try old.close()
        let store = try StoreDatabase.open(path: path)
        let loaded = try store.pool.read { db in try GrantRecords.load(user: "u-old", in: db) }
        #expect(loaded?.grant.stepAttempts == 4)
        #expect(loaded?.grant.lockAttempts == 0)
        #expect(loaded?.grant.lockStartedAt == nil)
    }

    @Test func anUnknownStateIsRefusedNotReadAsAnother() throws {
        let directory = try TemporaryDirectory()
        let store = try StoreDatabase.open(path: directory.file("wbkeyd.sqlite3"))
        try store.pool.write { db in
            try GrantRecords.save(securingGrant(), in: db)
            try db.execute(sql: "UPDATE grants SET state = 'half_deleted' WHERE user = 'u-1001'")
        }
        #expect {
            try store.pool.read { db in try GrantRecords.load(user: "u-1001", in: db) }
        } throws: { error in
            "\(error)".contains("unknown state 'half_deleted'") && "\(error)".contains("u-1001")
        }
        #expect(throws: (any Error).self) {
            try store.pool.read { db in try GrantRecords.list(state: nil, limit: 10, in: db) }
        }
    }
}
