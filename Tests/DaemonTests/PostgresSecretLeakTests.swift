import Foundation
import PostgresHarness
import Testing
import WBKeydHarness

/// docs/design.md §5 "Nothing secret leaves in clear", on PostgreSQL: the leak scenario on a
/// server of its own, then every file of that server searched byte for byte (heap and
/// index pages, the WAL, its log) for each secret in clear, in base64 and the master key
/// raw and in hex, besides wbkeyd's output and the control answers.
@Suite struct PostgresSecretLeakTests {
    @Test func noSecretAppearsInTheDatabaseFilesTheLogOrTheAnswers() async throws {
        let server = try await PostgresServer.start()  // its own: it is stopped to be read
        do {
            let database = try await server.createDatabase()
            try await withDaemon(.onPostgreSQL(server, database)) { daemon in
                let scenario = try await LeakScenario.run(daemon)
                #expect(try await daemon.terminate().isCleanExit)
                let secrets = try await scenario.secrets(daemon)
                LeakScenario.expectAbsent(secrets, masterKey: daemon.masterKey, from: scenario.places(daemon))

                // A checkpoint writes the heap pages, a clean stop the rest.
                _ = try await server.execute("CHECKPOINT", database: database.name)
                _ = await server.stop()
                let forms = LeakScenario.forms(of: secrets, masterKey: daemon.masterKey)
                var userSeen = false
                var searched = 0
                for path in files(under: server.directory) {
                    guard let bytes = try? Data(contentsOf: URL(fileURLWithPath: path)) else { continue }
                    searched += bytes.count
                    // The positive control: the rows themselves are in these files.
                    if contains(bytes, Array("u-revoked".utf8)) { userSeen = true }
                    for (what, form) in forms where contains(bytes, form) {
                        Issue.record("\(what) appears in \(path.dropFirst(server.directory.count))")
                    }
                }
                #expect(userSeen, "the search did not reach the rows (\(searched) bytes searched)")
            }
        } catch {
            await server.remove()
            throw error
        }
        await server.remove()
    }

    private func files(under root: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        return walker.compactMap { $0 as? String }.map { root + "/" + $0 }.filter { path in
            var info = stat()
            return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        }
    }

    private typealias MemMem = @convention(c) (UnsafeRawPointer?, Int, UnsafeRawPointer?, Int) -> UnsafeMutableRawPointer?

    /// glibc's memmem(3), which Swift's Glibc module does not export: a server's files are
    /// tens of megabytes, searched for some forty forms.
    private static let memmem: MemMem = unsafeBitCast(dlsym(dlopen(nil, RTLD_NOW), "memmem"), to: MemMem.self)

    private func contains(_ haystack: Data, _ needle: [UInt8]) -> Bool {
        haystack.withUnsafeBytes { hay in
            needle.withUnsafeBytes { pin in Self.memmem(hay.baseAddress, hay.count, pin.baseAddress, pin.count) != nil }
        }
    }
}
