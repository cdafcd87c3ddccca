import Synchronization

extension PostgresServer {
    private static let sharedStart = Mutex<Task<PostgresServer, any Error>?>(nil)

    /// One server for the whole test process, started by the first caller (default options:
    /// fsync off); each test takes a fresh database of it with `createDatabase()`. It ends
    /// with the process. A test that stops, kills or restarts a server starts its own.
    public static func shared() async throws -> PostgresServer {
        let start = sharedStart.withLock { task in
            if let task { return task }
            let started = Task { try await PostgresServer.start() }
            task = started
            return started
        }
        return try await start.value
    }
}
