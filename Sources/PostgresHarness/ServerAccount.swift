import Foundation

/// Who runs initdb and postgres. Both refuse root, and the tests run as root in CI: then
/// `nobody`:`nogroup`, through `setpriv`; anyone else runs them as themselves.
struct ServerAccount: Sendable {
    /// Nil when the programs run as this process's own user.
    let ids: (uid: uid_t, gid: gid_t)?

    static let setprivPath = "/usr/bin/setpriv"

    static func forThisProcess() throws(PostgresHarnessError) -> ServerAccount {
        guard geteuid() == 0 else { return ServerAccount(ids: nil) }
        guard let user = getpwnam("nobody") else { throw .accountNotFound(name: "user nobody") }
        let group = getgrnam("nogroup") ?? getgrnam("nobody")
        guard let group else { throw .accountNotFound(name: "group nogroup") }
        guard access(setprivPath, X_OK) == 0 else {
            throw .installationNotFound(missing: "setpriv", searched: "/usr/bin (Debian package util-linux)")
        }
        return ServerAccount(ids: (user.pointee.pw_uid, group.pointee.gr_gid))
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
