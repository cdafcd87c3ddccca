import Foundation
import Synchronization

/// What a new server needs before its first start: the private directory, a cluster made
/// by initdb, the `wbkeyd` role's password.
struct ClusterSetup: Sendable {
    let installation: PostgresInstallation
    let account: ServerAccount
    let directory: String
    let dataDirectory: String
    let socketDirectory: String
    let password: String
    let passwordFile: String
    let log: ServerLog

    static func make() async throws(PostgresHarnessError) -> ClusterSetup {
        let installation = try PostgresInstallation.find()
        let account = try ServerAccount.forThisProcess()
        let temporary = NSTemporaryDirectory().hasSuffix("/") ? String(NSTemporaryDirectory().dropLast()) : NSTemporaryDirectory()
        var template = Array((temporary + "/wbkeyd-pg.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw .setupFailed(what: "mkdtemp", path: NSTemporaryDirectory(), errno: errno) }
        let directory = String(cString: made)
        do {
            // The account must reach data/ and socket/; nobody else may.
            try account.makePrivateDirectory(directory)
            let dataDirectory = directory + "/data"
            let socketDirectory = directory + "/socket"
            try account.makePrivateDirectory(dataDirectory)
            try account.makePrivateDirectory(socketDirectory)
            let (path, arguments) = account.command(installation.initdb, [
                "-D", dataDirectory, "-U", PostgresServer.superuser, "--auth-local=trust", "--auth-host=scram-sha-256",
                "--encoding=UTF8", "--locale=C", "--no-sync",
            ])
            _ = try await GuardedLaunch.run(path, arguments, shownAs: "initdb -D \(dataDirectory)")
            let password = randomPassword()
            let passwordFile = directory + "/wbkeyd-password"
            try writePrivateFile(passwordFile, password)
            return ClusterSetup(
                installation: installation, account: account, directory: directory, dataDirectory: dataDirectory,
                socketDirectory: socketDirectory, password: password, passwordFile: passwordFile, log: ServerLog(path: directory + "/server.log"))
        } catch {
            ExitCleanup.removeDirectory(directory)
            throw error
        }
    }

    /// 32 hex digits: 128 bits, and nothing that needs quoting in SQL or a URL.
    static func randomPassword() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Mode 0600, owned by this process's user.
    static func writePrivateFile(_ path: String, _ text: String) throws(PostgresHarnessError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .setupFailed(what: "open", path: path, errno: errno) }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count else { throw .setupFailed(what: "write", path: path, errno: errno) }
    }

    /// A port the kernel just gave out on 127.0.0.1; postgres binds it a moment later, and
    /// the caller retries when someone else was quicker.
    static func freeLoopbackPort() throws(PostgresHarnessError) -> Int {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { throw .setupFailed(what: "socket", path: "127.0.0.1:0", errno: errno) }
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(socketDescriptor, socketAddress, length) == 0 && getsockname(socketDescriptor, socketAddress, &length) == 0
            }
        }
        guard bound else { throw .setupFailed(what: "bind", path: "127.0.0.1:0", errno: errno) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Names `createDatabase` accepts and makes: nothing that needs quoting beyond "…".
enum DatabaseName {
    private static let counter = Counter()

    static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 63 && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
    }

    /// `test_<pid>_<n>`: unique in this process, and tells which process made it.
    static func fresh() -> String { "test_\(getpid())_\(counter.next())" }

    private final class Counter: Sendable {
        private let value = Mutex(0)
        func next() -> Int { value.withLock { $0 += 1; return $0 } }
    }
}
