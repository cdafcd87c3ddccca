import Foundation
import PostgresHarness
import Testing

@Suite struct PostgresServerTests {
    @Test func twoDatabasesAnswerOnTheSocketAndOnTCPWithThePassword() async throws {
        let server = try await PostgresServer.start()
        defer { Task { await server.remove() } }
        let first = try await server.createDatabase()
        let second = try await server.createDatabase(name: "second_one")
        #expect(first.name != second.name)
        #expect(second.url == "postgresql://wbkeyd@127.0.0.1:\(server.port)/second_one?sslmode=disable")
        #expect(second.socketURL == "postgresql://wbkeyd@localhost:\(server.port)/second_one?host=\(server.socketDirectory)&sslmode=disable")

        let created = try await Psql.run(server, url: first.url, password: server.password, sql: "CREATE TABLE t (v int); INSERT INTO t VALUES (41)")
        #expect(created.status == 0, "\(created.errors)")
        for database in [first, second] {
            let overTCP = try await Psql.run(server, url: database.url, password: server.password, sql: "SELECT current_user, current_database(), inet_server_port()")
            #expect(overTCP.output == "wbkeyd|\(database.name)|\(server.port)", "\(overTCP.errors)")
            let overSocket = try await Psql.run(server, url: database.socketURL, password: nil, sql: "SELECT current_user, current_database(), inet_server_port() IS NULL")
            #expect(overSocket.output == "wbkeyd|\(database.name)|t", "\(overSocket.errors)")
        }
        // Databases are apart: the table is only in the first.
        #expect(try await server.execute("SELECT v FROM t", database: first.name) == "41")
        let missing = try await Psql.run(server, url: second.url, password: server.password, sql: "SELECT v FROM t")
        #expect(missing.status != 0 && missing.errors.contains("relation \"t\" does not exist"))
    }

    @Test func tcpRefusesAWrongOrMissingPassword() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase()
        for password in ["wrong", nil] as [String?] {
            let refused = try await Psql.run(server, url: database.url, password: password, sql: "SELECT 1")
            #expect(refused.status != 0)
            #expect(refused.errors.contains("password authentication failed") || refused.errors.contains("no password supplied"), "\(refused.errors)")
        }
        // The role's password is stored as a SCRAM verifier.
        #expect(try await server.execute("SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'wbkeyd'", database: "postgres") == "SCRAM-SHA-256$")
        #expect(try String(contentsOfFile: server.passwordFile, encoding: .utf8) == server.password)
        #expect(server.password.count == 32)
    }

    @Test func theSharedServerIsOneServerWithSettingsForTests() async throws {
        let server = try await PostgresServer.shared()
        #expect(try await PostgresServer.shared() === server)
        #expect(try await server.execute("SHOW fsync", database: "postgres") == "off")
        #expect(try await server.execute("SHOW synchronous_commit", database: "postgres") == "on")
        #expect(try await server.execute("SHOW max_connections", database: "postgres") == "200")
        #expect(try await server.execute("SHOW listen_addresses", database: "postgres") == "127.0.0.1")
        #expect(try await server.execute("SHOW unix_socket_directories", database: "postgres") == server.socketDirectory)
        #expect(server.installation.binDirectory == "/usr/lib/postgresql/\(server.installation.major)/bin")
    }

    @Test func serverProcessesDoNotRunAsRoot() async throws {
        let server = try await PostgresServer.shared()
        let pid = try #require(await server.pid)
        var status = stat()
        #expect(stat("/proc/\(pid)", &status) == 0)
        if geteuid() == 0 {
            #expect(status.st_uid == (getpwnam("nobody")?.pointee.pw_uid ?? 0))
            #expect(status.st_uid != 0)
        } else {
            #expect(status.st_uid == geteuid())
        }
        var data = stat()
        #expect(stat(server.dataDirectory, &data) == 0)
        #expect(data.st_mode & 0o777 == 0o700)
        #expect(data.st_uid == status.st_uid)
    }

    @Test func aBadDatabaseNameIsRefused() async throws {
        let server = try await PostgresServer.shared()
        await #expect(throws: PostgresHarnessError.self) { _ = try await server.createDatabase(name: "x\"; DROP ROLE wbkeyd; --") }
        await #expect(throws: PostgresHarnessError.self) { _ = try await server.createDatabase(name: "") }
    }

    @Test func aFailedQueryNamesTheCommandAndNeverThePassword() async throws {
        let server = try await PostgresServer.shared()
        do {
            _ = try await server.execute("SELECT * FROM no_such_table", database: "postgres")
            Issue.record("a missing table must fail")
        } catch {
            let text = String(describing: error)
            #expect(text.contains("psql -d postgres") && text.contains("no_such_table"), "\(text)")
            #expect(!text.contains(server.password))
        }
    }
}
