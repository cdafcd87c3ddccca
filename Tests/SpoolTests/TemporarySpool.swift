import Foundation
import Glibc
import Spool
import Testing

/// A spool tree under a fresh temporary directory, removed again when the test ends.
final class TemporarySpool {
    let base: String
    let spool: SpoolDirectory

    init() throws {
        var template = Array("/tmp/wbkeyd-spool-tests-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw SpoolIOError(operation: "mkdtemp", path: "/tmp", errno: errno) }
        base = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        spool = try SpoolDirectory(root: base + "/spool")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: base)
    }

    var root: String { spool.root }

    /// Delivers like a well-behaved writer: write under tmp/, set the mtime, rename
    /// into new/.
    func deliver(_ bytes: [UInt8], as name: String, modified: Date) throws {
        let staging = spool.tmpPath + "/" + name
        try writeFile(staging, bytes)
        try setModified(staging, modified)
        try check(rename(staging, spool.newPath + "/" + name), "rename", staging)
    }

    func deliver(_ text: String, as name: String, modified: Date) throws {
        try deliver(Array(text.utf8), as: name, modified: modified)
    }

    func names(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    try check(descriptor, "open", path)
    defer { close(descriptor) }
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    #expect(written == bytes.count)
}

func readText(_ path: String) throws -> String {
    String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
}

func setModified(_ path: String, _ date: Date) throws {
    let seconds = date.timeIntervalSince1970.rounded(.down)
    let stamp = timespec(tv_sec: Int(seconds), tv_nsec: Int((date.timeIntervalSince1970 - seconds) * 1e9))
    let times = [stamp, stamp]
    try check(utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), "utimensat", path)
}

func check(_ result: Int32, _ operation: String, _ path: String) throws {
    if result < 0 { throw SpoolIOError(operation: operation, path: path, errno: errno) }
}

func fileMode(_ path: String) throws -> mode_t {
    var status = stat()
    try check(lstat(path, &status), "lstat", path)
    return status.st_mode & 0o7777
}

/// What one pass of the intake did, as the daemon would run it: claim, examine, then
/// complete (standing in for the commit) or reject.
struct IntakePass {
    var accepted: [String: SpoolItem] = [:]
    /// Claimed name → (name in rejected/, text of its .reason file).
    var rejected: [String: (name: String, reasonFile: String)] = [:]

    static func run(_ spool: SpoolDirectory, now: Date, maxCodeAge: Duration) throws -> IntakePass {
        var pass = IntakePass()
        for name in try spool.listNew() {
            guard let claimed = try spool.claim(name) else { continue }
            switch spool.examine(claimed, now: now, maxCodeAge: maxCodeAge) {
            case .success(let item):
                pass.accepted[claimed.description] = item
                try spool.complete(claimed)
            case .failure(let refusal):
                let rejectedName = try spool.reject(claimed, reason: refusal.reason)
                let reasonText = try readText(spool.rejectedPath + "/" + rejectedName + ".reason")
                pass.rejected[claimed.description] = (rejectedName, reasonText)
            }
        }
        return pass
    }
}
