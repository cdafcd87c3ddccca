import Foundation

/// Who runs initdb and postgres. Both refuse root, and the tests run as root in CI: then
/// `nobody`:`nogroup`, through `setpriv`; anyone else runs them as themselves.
struct ServerAccount: Sendable {
    /// Nil when the programs run as this process's own user.
    let ids: (uid: uid_t, gid: gid_t)?

    static let setprivPath = "/usr/bin/setpriv"

    static func forThisProcess() throws(PostgresHarnessError) -> ServerAccount {
        guard geteuid() == 0 else { return ServerAccount(ids: nil) }
        guard let uid = userID("nobody") else { throw .accountNotFound(name: "user nobody") }
        guard let gid = groupID("nogroup") ?? groupID("nobody") else { throw .accountNotFound(name: "group nogroup") }
        guard access(setprivPath, X_OK) == 0 else {
            throw .installationNotFound(missing: "setpriv", searched: "/usr/bin (Debian package util-linux)")
        }
        return ServerAccount(ids: (uid, gid))
    }

    // The reentrant look-ups: getpwnam's answer lives in storage that a getpwuid on another
    // thread (a fixture naming the account that runs the tests) overwrites, which once
    // turned "nobody" into root and had initdb refuse to run.
    private static func userID(_ name: String) -> uid_t? {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &found) == 0, found != nil else { return nil }
        return entry.pw_uid
    }

    private static func groupID(_ name: String) -> gid_t? {
        var entry = group()
        var found: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getgrnam_r(name, &entry, &buffer, buffer.count, &found) == 0, found != nil else { return nil }
        return entry.gr_gid
    }

    /// `setpriv` switching to the account with no supplementary groups, and keeping the
    /// parent-death signal that `die-with-parent` set, which a uid change would clear.
    func command(_ path: String, _ arguments: [String]) -> (path: String, arguments: [String]) {
        guard let ids else { return (path, arguments) }
        return (Self.setprivPath, ["--reuid=\(ids.uid)", "--regid=\(ids.gid)", "--clear-groups", "--pdeathsig", "keep", "--", path] + arguments)
    }

    /// Makes `path` a directory of the account's, mode 0700 (the data directory's mode
    /// initdb and postgres insist on; the socket directory is kept as private).
    func makePrivateDirectory(_ path: String) throws(PostgresHarnessError) {
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw .setupFailed(what: "mkdir", path: path, errno: errno) }
        guard chmod(path, 0o700) == 0 else { throw .setupFailed(what: "chmod", path: path, errno: errno) }
        if let ids, chown(path, ids.uid, ids.gid) != 0 { throw .setupFailed(what: "chown", path: path, errno: errno) }
    }
}
