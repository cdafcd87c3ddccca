import DaemonConfig
import Glibc

/// What `check-config` can tell about the paths a configuration names, checked as the
/// user who runs it: under the unit's `ExecReload=` that is the service's user in the
/// service's sandbox, so a spool outside `ReadWritePaths=` or a store directory the user
/// cannot write shows up here rather than at the next start.
enum DeploymentCheck {
    static func problems(of loaded: LoadedConfiguration) -> [ConfigurationProblem] {
        let configuration = loaded.configuration
        var found: [(key: String, reason: String)] = []
        found += spool(configuration.spool.directory).map { ("spool.directory", $0) }
        found += store(configuration.store.path).map { ("store.path", $0) }
        found += socket(configuration.control.socket).map { ("control.socket", $0) }
        return found.map { ConfigurationProblem(file: loaded.path, key: $0.key, reason: $0.reason) }
    }

    /// The spool tree of docs/design.md §4: each directory present (or creatable: wbkeyd
    /// makes missing ones) and usable by wbkeyd; `claimed/` and `rejected/` hold what
    /// writers delivered and must be closed to group and others.
    static func spool(_ root: String) -> [String] {
        if let problem = directory(root, creatable: true) { return [problem] }
        guard exists(root) else { return [] }
        var problems: [String] = []
        for name in ["tmp", "new", "claimed", "rejected"] {
            let path = root + "/" + name
            if let problem = directory(path, creatable: true) {
                problems.append(problem)
            } else if ["claimed", "rejected"].contains(name), let mode = mode(of: path), mode & 0o077 != 0 {
                problems.append("\(path) has mode \(octal(mode)); it holds delivered files and must be 0700 (wbkeyd.tmpfiles)")
            }
        }
        return problems
    }

    /// The store's directory takes the database, its WAL and the witness file. Before the
    /// first start it may be missing: the unit's StateDirectory= makes it.
    static func store(_ path: String) -> [String] {
        let parent = parentDirectory(path)
        if let problem = directory(parent, madeByOthers: true) { return [problem] }
        if exists(path), access(path, R_OK | W_OK) != 0 {
            return ["\(path): \(reason(errno)) (wbkeyd reads and writes the store)"]
        }
        return []
    }

    /// A socket systemd made (wbkeyd.socket) is only connected to; else wbkeyd binds the
    /// path, which needs its directory (missing before the first start: the unit's
    /// RuntimeDirectory= or wbkeyd.socket makes it).
    static func socket(_ path: String) -> [String] {
        var info = stat()
        if lstat(path, &info) == 0 {
            return info.st_mode & S_IFMT == S_IFSOCK ? [] : ["\(path) exists and is not a socket"]
        }
        return directory(parentDirectory(path), madeByOthers: true).map { [$0 + " (wbkeyd binds the control socket there)"] } ?? []
    }

    /// Nil when `path` is a directory this user may list, enter and write, or is missing
    /// and will be made: by wbkeyd (`creatable`: its parent must be writable) or by
    /// systemd (`madeByOthers`: its parent must exist). Else why not.
    private static func directory(_ path: String, creatable: Bool = false, madeByOthers: Bool = false) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            let code = errno
            guard code == ENOENT else { return "\(path): \(reason(code))" }
            let parent = parentDirectory(path)
            if madeByOthers {
                var parentInfo = stat()
                return stat(parent, &parentInfo) == 0 && parentInfo.st_mode & S_IFMT == S_IFDIR
                    ? nil : "\(path) does not exist, nor does its directory \(parent)"
            }
            guard creatable else { return "\(path) does not exist" }
            return access(parent, W_OK | X_OK) == 0 ? nil : "\(path) does not exist and \(parent) is not writable: \(reason(errno))"
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { return "\(path) is not a directory (a link is not followed)" }
        guard access(path, R_OK | W_OK | X_OK) == 0 else { return "\(path): \(reason(errno)) (wbkeyd needs to read and write it)" }
        return nil
    }

    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    private static func mode(of path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    private static func parentDirectory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func octal(_ mode: mode_t) -> String {
        "0" + String(mode, radix: 8)
    }

    private static func reason(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}
