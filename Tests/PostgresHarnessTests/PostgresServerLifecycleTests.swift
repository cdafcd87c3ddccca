import Foundation
import PostgresHarness
import Testing

/// Stopping, killing and restarting: each test starts a server of its own.
@Suite struct PostgresServerLifecycleTests {
    @Test func restartKeepsTheDataAndThePort() async throws {
        let server = try await PostgresServer.start()
        defer { Task { await server.remove() } }
        let database = try await server.createDatabase()
        let created = try await Psql.run(server, url: database.url, password: server.password, sql: "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before')")
        #expect(created.status == 0, "\(created.errors)")
        let firstPid = try #require(await server.pid)
        try await server.restart()
        #expect(await server.pid != firstPid)
        #expect(!ProcessTable.exists(firstPid))
        let answer = try await Psql.run(server, url: database.url, password: server.password, sql: "SELECT v FROM kept")
        #expect(answer.output == "before", "\(answer.errors)")
    }

    @Test func killEndsThePostmasterAndItsChildrenAndRestartRecovers() async throws {
        let server = try await PostgresServer.start()
        defer { Task { await server.remove() } }
        let database = try await server.createDatabase()
        _ = try await server.execute("CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)", database: database.name)
        let pid = try #require(await server.pid)
        let children = ProcessTable.children(of: pid)
        #expect(!children.isEmpty)

        let termination = await server.kill()
        #expect(termination?.bySignal == true && termination?.code == SIGKILL)
        #expect(await server.isRunning == false)
        #expect(await server.pid == nil)
        #expect(!ProcessTable.exists(pid))
        #expect(await ProcessTable.eventually { children.allSatisfy { !ProcessTable.exists($0) } })

        try await server.restart()
        #expect(await server.isRunning)
        #expect(try await server.execute("SELECT v FROM kept", database: database.name) == "7")
    }

    @Test func afterStopNoProcessRemainsAndThePortIsClosed() async throws {
        let server = try await PostgresServer.start()
        defer { Task { await server.remove() } }
        let pid = try #require(await server.pid)
        let children = ProcessTable.children(of: pid)
        #expect(ProcessTable.accepts(port: server.port))

        let termination = await server.stop()
        #expect(termination?.isCleanExit == true, "\(String(describing: termination))")
        #expect(await server.isRunning == false)
        #expect(!ProcessTable.exists(pid))
        #expect(children.allSatisfy { !ProcessTable.exists($0) })
        #expect(!ProcessTable.accepts(port: server.port))
        #expect(!FileManager.default.fileExists(atPath: server.socketDirectory + "/.s.PGSQL.\(server.port)"))
        await #expect(throws: PostgresHarnessError.self) { _ = try await server.execute("SELECT 1", database: "postgres") }
    }

    @Test func removeDeletesTheDirectory() async throws {
        let server = try await PostgresServer.start()
        #expect(FileManager.default.fileExists(atPath: server.dataDirectory + "/PG_VERSION"))
        await server.remove()
        #expect(await server.isRunning == false)
        #expect(!FileManager.default.fileExists(atPath: server.directory))
    }

    @Test func theLogFileHoldsTheServersOutput() async throws {
        let server = try await PostgresServer.shared()
        let log = try String(contentsOfFile: server.logPath, encoding: .utf8)
        #expect(log.contains("database system is ready to accept connections"))
    }
}
