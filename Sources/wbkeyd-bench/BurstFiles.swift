import Foundation
import Glibc
import PKCE
import Sensitive
import Spool
import WBKeydHarness

/// The burst: valid authorization files, written under spool/tmp/ first so that the
/// drop itself is nothing but renames into new/.
enum BurstFiles {
    /// Plays each user's consent at the simulator (or makes up codes) and writes the files.
    static func stage(count: Int, consent: Bool, daemon: DaemonFixture) async throws -> [String] {
        let users = (0..<count).map { "bench-\($0)" }
        var contents: [(String, [UInt8])] = []
        contents.reserveCapacity(count)
        if consent {
            // Sixteen consents in flight: the simulator answers each in well under a millisecond.
            try await withThrowingTaskGroup(of: (String, [UInt8]).self) { group in
                var next = users.makeIterator()
                func addNext() {
                    guard let user = next.next() else { return }
                    group.addTask {
                        let authorization = try await daemon.admin.authorize(user: user)
                        return (user, try SpoolSubmission.authorization(user: user, code: authorization.code, codeVerifier: authorization.verifier))
                    }
                }
                for _ in 0..<16 { addNext() }
                while let done = try await group.next() {
                    contents.append(done)
                    addNext()
                }
            }
        } else {
            for user in users {
                let verifier = PKCEPair.generate().verifier
                contents.append((user, try SpoolSubmission.authorization(user: user, code: Sensitive("made-up-\(user)"), codeVerifier: verifier)))
            }
        }
        var names: [String] = []
        for (user, json) in contents {
            let name = "\(user).json"
            try write(json, to: daemon.paths.spoolTmp + "/" + name)
            names.append(name)
        }
        return names
    }

    /// Renames every staged file into new/: the delivery, as fast as the disk allows.
    static func drop(_ names: [String], daemon: DaemonFixture) throws {
        for name in names {
            guard rename(daemon.paths.spoolTmp + "/" + name, daemon.paths.spoolNew + "/" + name) == 0 else {
                throw BenchError("rename \(name) into new/: \(String(cString: strerror(errno)))")
            }
        }
    }

    private static func write(_ bytes: [UInt8], to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw BenchError("create \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw BenchError("write \(path): \(String(cString: strerror(errno)))") }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
