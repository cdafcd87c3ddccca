import Foundation

/// A uid and gid to run wbkeyd as, when the test process is root: the daemon is then
/// subject to file permissions the way the deployed one (user `wbkeyd`) is. No account
/// needs to exist for the ids; `setpriv` switches to them by number.
public struct DaemonAccount: Sendable, Equatable {
    public let uid: uid_t
    public let gid: gid_t

    public init(uid: uid_t, gid: gid_t) {
        self.uid = uid
        self.gid = gid
    }

    static let setprivPath = "/usr/bin/setpriv"

    /// `setpriv` switching to this account (no supplementary groups) and keeping the
    /// parent-death signal that `die-with-parent` set, which a uid change would clear.
    func command(_ path: String, _ arguments: [String]) -> (path: String, arguments: [String]) {
        (Self.setprivPath, ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--pdeathsig", "keep", "--", path] + arguments)
    }

    /// Gives `path` and everything under it to this account (without following links).
    func takeOver(_ path: String) throws(HarnessError) {
        guard lchown(path, uid, gid) == 0 else { throw .setupFailed(what: "lchown", path: path, errno: errno) }
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else { return }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for name in names { try takeOver(path + "/" + name) }
    }
}
