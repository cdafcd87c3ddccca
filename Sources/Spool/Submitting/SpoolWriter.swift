import Foundation
import Glibc

/// Delivers a spool file the Maildir way, for `wbkeyctl submit` and for partners'
/// tools that would rather link than shell out: write under `tmp/`, fsync, rename into
/// `new/` (the delivery), fsync `new/`. Readers of `new/` therefore never see a
/// partial file, and a delivery that returned survives a crash.
public enum SpoolWriter {
    /// Writes `json` into the spool at `root` and returns the name it got in `new/`.
    /// Creates no directories: a writer runs with fewer rights than the daemon, and a
    /// missing `tmp/` or `new/` is the deployer's to fix.
    @discardableResult
    public static func submit(root: String, json: [UInt8]) throws(SpoolIOError) -> SpoolEntryName {
        let tmp = root + "/tmp"
        let new = root + "/new"
        guard json.count <= SpoolDirectory.maximumFileSize else {
            throw SpoolIOError(
                operation: "submit (\(json.count) bytes, limit \(SpoolDirectory.maximumFileSize))", path: new, errno: EFBIG)
        }
        for _ in 0..<10 {
            let name = uniqueName()
            let staging = SpoolPath(tmp, name)
            // 0640: the daemon may read through the spool's group; the umask still applies.
            try FileSystem.writeNewFile(staging, json, mode: 0o640)
            let outcome: RenameOutcome
            do {
                outcome = try FileSystem.renameWithoutReplacing(staging, SpoolPath(new, name))
            } catch {
                unlink(staging.cString)
                throw error
            }
            switch outcome {
            case .moved:
                try FileSystem.syncDirectory(new)
                return name
            case .targetExists:
                unlink(staging.cString)
            case .sourceMissing:
                throw staging.error("rename", ENOENT)
            }
        }
        throw SpoolIOError(operation: "submit (no unique name found)", path: new, errno: EEXIST)
    }

    /// `<seconds>.M<microseconds>P<pid>R<random>.<host>.json`: unique across processes
    /// and hosts sharing a spool, as Maildir's convention has it, and in plain
    /// characters only.
    static func uniqueName() -> SpoolEntryName {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let random = String(UInt64.random(in: .min ... .max), radix: 16)
        return SpoolEntryName("\(now.tv_sec).M\(now.tv_nsec / 1000)P\(getpid())R\(random).\(hostName()).json")
    }

    /// The host name in the characters a host name should have; anything else (a
    /// `/` would break the path, a `:` Maildir's info part) becomes `_`.
    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let plain = buffer.prefix { $0 != 0 }.prefix(64).map { character -> Character in
            let byte = UInt8(bitPattern: character)
            let allowed = SpoolEntryName.isPlain(byte) && byte != UInt8(ascii: ":") && byte != UInt8(ascii: ",")
            return allowed ? Character(Unicode.Scalar(byte)) : "_"
        }
        return plain.isEmpty ? "localhost" : String(plain)
    }
}
