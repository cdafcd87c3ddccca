import Foundation

/// Where one fixture keeps everything, all under one private directory (mode 0700).
public struct DaemonPaths: Sendable {
    public let directory: String
    public let configFile: String
    public let credentialsDirectory: String
    public let clientSecretFile: String
    public let masterKeyFile: String
    public let store: String
    /// The store's write-ahead log and shared-memory index (they exist while it is open).
    public let storeWAL: String
    public let storeSHM: String
    public let spoolRoot: String
    public let spoolTmp: String
    public let spoolNew: String
    public let spoolClaimed: String
    public let spoolRejected: String
    public let controlSocket: String
    public let notifySocket: String

    public init(directory: String) {
        self.directory = directory
        configFile = directory + "/wbkeyd.toml"
        credentialsDirectory = directory + "/credentials"
        clientSecretFile = credentialsDirectory + "/client-secret"
        masterKeyFile = credentialsDirectory + "/master-key"
        store = directory + "/wbkeyd.sqlite3"
        storeWAL = store + "-wal"
        storeSHM = store + "-shm"
        spoolRoot = directory + "/spool"
        spoolTmp = spoolRoot + "/tmp"
        spoolNew = spoolRoot + "/new"
        spoolClaimed = spoolRoot + "/claimed"
        spoolRejected = spoolRoot + "/rejected"
        controlSocket = directory + "/control.sock"
        notifySocket = directory + "/notify.sock"
    }

    /// A fresh private directory under `$TMPDIR` (or /tmp when that path would be too long
    /// for the Unix sockets inside it).
    static func makePrivateDirectory(prefix: String) throws(HarnessError) -> String {
        var base = FileManager.default.temporaryDirectory.path
        if base.utf8.count > 60 { base = "/tmp" }
        var template = Array((base + "/\(prefix).XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw .setupFailed(what: "mkdtemp", path: base, errno: errno)
        }
        return String(cString: made)
    }

    /// The spool tree as the deployer's tmpfiles.d would make it.
    func makeTree() throws(HarnessError) {
        for path in [credentialsDirectory, spoolRoot, spoolTmp, spoolNew, spoolClaimed, spoolRejected] {
            guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw .setupFailed(what: "mkdir", path: path, errno: errno) }
        }
    }

    /// Lists a directory's entry names, sorted (nothing when it does not exist).
    public func names(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }
}

/// Writes `bytes` to a new file with exactly `mode` (the umask does not apply).
func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(HarnessError) {
    unlink(path)
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
    guard descriptor >= 0 else { throw .setupFailed(what: "create", path: path, errno: errno) }
    defer { close(descriptor) }
    var written = 0
    while written < bytes.count {
        let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { throw .setupFailed(what: "write", path: path, errno: errno) }
        written += count
    }
    guard fchmod(descriptor, mode) == 0 else { throw .setupFailed(what: "chmod", path: path, errno: errno) }
}
