import Foundation
import Glibc
import Spool
import Testing

@Suite struct SpoolDirectoryTests {
    @Test func createsMissingDirectoriesPrivateAndLeavesExistingOnesAlone() throws {
        let temporary = try TemporarySpool()
        for directory in ["tmp", "new", "claimed", "rejected"] {
            #expect(try fileMode(temporary.root + "/" + directory) == 0o700, "\(directory)")
        }
        // The deployer opened new/ to a writers' group; a restart must not undo that.
        try check(chmod(temporary.spool.newPath, 0o2730), "chmod", temporary.spool.newPath)
        try check(rmdir(temporary.spool.rejectedPath), "rmdir", temporary.spool.rejectedPath)
        let reopened = try SpoolDirectory(root: temporary.root)
        #expect(try fileMode(reopened.newPath) == 0o2730)
        #expect(try fileMode(reopened.rejectedPath) == 0o700)
    }

    @Test func refusesAFileWhereADirectoryBelongs() throws {
        let temporary = try TemporarySpool()
        try check(rmdir(temporary.spool.claimedPath), "rmdir", temporary.spool.claimedPath)
        try writeFile(temporary.spool.claimedPath, [])
        #expect(throws: SpoolIOError(operation: "mkdir", path: temporary.spool.claimedPath, errno: ENOTDIR)) {
            try SpoolDirectory(root: temporary.root)
        }
    }

    @Test func listNewGivesOldestFirstAndSkipsDotfiles() throws {
        let temporary = try TemporarySpool()
        try temporary.deliver("{}", as: "c", modified: testNow.addingTimeInterval(-30))
        try temporary.deliver("{}", as: "a", modified: testNow.addingTimeInterval(-10))
        try temporary.deliver("{}", as: "b", modified: testNow.addingTimeInterval(-10))
        try temporary.deliver("{}", as: "d", modified: testNow.addingTimeInterval(-20.5))
        try temporary.deliver("{}", as: ".hidden", modified: testNow.addingTimeInterval(-99))
        #expect(try temporary.spool.listNew() == ["c", "d", "a", "b"])
    }

    @Test func ofTwoClaimersOfTheSameNameExactlyOneWins() async throws {
        let temporary = try TemporarySpool()
        let names = (0..<300).map { SpoolEntryName("race-\($0).json") }
        for name in names { try temporary.deliver("{}", as: name.description, modified: testNow) }
        let spool = temporary.spool
        let claimers = (0..<2).map { _ in
            Task.detached { () throws -> [SpoolEntryName] in
                try names.compactMap { try spool.claim($0)?.name }
            }
        }
        let won = [try await claimers[0].value, try await claimers[1].value]
        #expect(won[0].count + won[1].count == names.count)
        #expect(Set(won[0]).isDisjoint(with: won[1]))
        #expect(Set(won[0] + won[1]) == Set(names))
        #expect(try spool.listNew().isEmpty)
        #expect(try spool.listClaimed().count == names.count)
        // A name already taken is a nil, not an error.
        #expect(try spool.claim(names[0]) == nil)
    }

    @Test func claimNeverReplacesAFileStillInClaimed() throws {
        let temporary = try TemporarySpool()
        try writeFile(temporary.spool.claimedPath + "/x.json", Array("earlier".utf8))
        try temporary.deliver("later", as: "x.json", modified: testNow)
        let claimed = try #require(try temporary.spool.claim("x.json"))
        #expect(claimed.name == "x.json.2")
        #expect(try readText(temporary.spool.claimedPath + "/x.json") == "earlier")
        #expect(try readText(temporary.spool.claimedPath + "/x.json.2") == "later")
    }

    @Test func claimWithoutAClaimedDirectoryIsAnErrorNotANil() throws {
        let temporary = try TemporarySpool()
        try temporary.deliver("{}", as: "x.json", modified: testNow)
        try check(rmdir(temporary.spool.claimedPath), "rmdir", temporary.spool.claimedPath)
        #expect(throws: SpoolIOError.self) { try temporary.spool.claim("x.json") }
        #expect(try temporary.spool.listNew() == ["x.json"])
    }

    @Test func claimRefusesNamesThatLeaveNew() throws {
        let temporary = try TemporarySpool()
        for name: SpoolEntryName in ["../claimed", "a/b", "..", ".", ""] {
            #expect(throws: SpoolIOError.self) { try temporary.spool.claim(name) }
        }
    }

    @Test func rejectNeverReplacesAndKeepsReasonsApart() throws {
        let temporary = try TemporarySpool()
        let spool = temporary.spool
        for (index, text) in ["first", "second", "third"].enumerated() {
            try temporary.deliver(text, as: "dup.json", modified: testNow)
            let claimed = try #require(try spool.claim("dup.json"))
            let rejected = try spool.reject(claimed, reason: "reason \(index + 1)")
            #expect(rejected == (index == 0 ? "dup.json" : "dup.json.\(index + 1)"))
            // Not JSON: only its length is kept (it might be a code pasted alone).
            #expect(try readText(spool.rejectedPath + "/" + rejected).hasPrefix("<blanked: \(text.utf8.count) bytes"))
            #expect(try readText(spool.rejectedPath + "/" + rejected + ".reason") == "reason \(index + 1)\n")
        }
        // A delivery named like a reason file must not pass for one.
        try temporary.deliver("looks like a reason", as: "dup.json.reason", modified: testNow)
        let claimed = try #require(try spool.claim("dup.json.reason"))
        let rejected = try spool.reject(claimed, reason: "bad")
        #expect(rejected == "dup.json.reason.2")
        #expect(try readText(spool.rejectedPath + "/dup.json.reason") == "reason 1\n")
        #expect(try temporary.names(in: spool.rejectedPath).filter { $0.hasPrefix(".") }.isEmpty)
        #expect(try spool.backlog(now: testNow).rejected == 4)
    }

    /// Issue 12 item 8: rejected/ is kept for weeks; it must not keep codes, verifiers
    /// or states in clear. A JSON file keeps its keys, its non-secret values and nothing else.
    @Test func aRejectedFileKeepsItsShapeButNoSecret() throws {
        let temporary = try TemporarySpool()
        let spool = temporary.spool
        let secrets = ["code-SECRET-1", "verifier-SECRET-2", "state-SECRET-3", "token-SECRET-4"]
        let json = """
            {"type": "authorization", "user": "u-1", "code": "\(secrets[0])", "code_verifier": "\(secrets[1])",
             "state": "\(secrets[2])", "access_token": "\(secrets[3])", "received_at": "yesterday", "api_key": "pub-1"}
            """
        try temporary.deliver(json, as: "shaped.json", modified: testNow)
        try temporary.deliver("{\"code\": \"\(secrets[0])\"", as: "broken.json", modified: testNow)
        try temporary.deliver(String(repeating: "x", count: SpoolDirectory.maximumFileSize + 1), as: "large", modified: testNow)
        for name in ["shaped.json", "broken.json", "large"] {
            try spool.reject(try #require(try spool.claim(SpoolEntryName(name))), reason: "bad")
        }

        let shaped = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: spool.rejectedPath + "/shaped.json")))
                as? [String: String])
        #expect(Set(shaped.keys) == ["type", "user", "code", "code_verifier", "state", "access_token", "received_at", "api_key"])
        #expect(shaped["user"] == "u-1" && shaped["type"] == "authorization" && shaped["api_key"] == "pub-1")
        #expect(shaped["received_at"] == "yesterday")
        for key in ["code", "code_verifier", "state", "access_token"] { #expect(shaped[key] == "<blanked>") }
        #expect(try readText(spool.rejectedPath + "/broken.json").hasPrefix("<blanked: \("{\"code\": \"\(secrets[0])\"".utf8.count) bytes"))
        #expect(try readText(spool.rejectedPath + "/large").hasPrefix("<blanked: \(SpoolDirectory.maximumFileSize + 1) bytes"))

        for name in try temporary.names(in: spool.rejectedPath) {
            let text = try readText(spool.rejectedPath + "/" + name)
            #expect(secrets.allSatisfy { !text.contains($0) }, "\(name) keeps a secret")
        }
        #expect(try temporary.names(in: spool.claimedPath).isEmpty)
        #expect(try temporary.names(in: spool.rejectedPath).filter { $0.hasPrefix(".") }.isEmpty)
    }

    @Test func rejectWritesOneLineWhateverTheReason() throws {
        let temporary = try TemporarySpool()
        try temporary.deliver("{}", as: "x", modified: testNow)
        let claimed = try #require(try temporary.spool.claim("x"))
        try temporary.spool.reject(claimed, reason: "line one\nline two\r\u{1B}[31m\u{2028}end ")
        #expect(try readText(temporary.spool.rejectedPath + "/x.reason") == "line one line two  [31m end\n")
    }

    @Test func namesThatAreNotPlainTextAreClaimedAndRejectedEscaped() throws {
        let temporary = try TemporarySpool()
        let raw: [UInt8] = Array("bad\nname".utf8) + [0xFF] + Array("%.json".utf8)
        let path = temporary.spool.newPath + "/" + String(decoding: Array("bad\nname".utf8), as: UTF8.self)
        let cPath = (Array(temporary.spool.newPath.utf8) + [UInt8(ascii: "/")] + raw + [0]).map { CChar(bitPattern: $0) }
        let descriptor = open(cPath, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        try check(descriptor, "open", path)
        close(descriptor)

        let listed = try temporary.spool.listNew()
        #expect(listed == [SpoolEntryName(bytes: raw)])
        let claimed = try #require(try temporary.spool.claim(listed[0]))
        #expect(claimed.description == "bad%0Aname%FF%25.json")
        #expect(temporary.spool.examine(claimed, now: testNow, maxCodeAge: .seconds(600)).failure?.reason == "file is empty")
        let rejected = try temporary.spool.reject(claimed, reason: "file is empty")
        #expect(rejected == "bad%0Aname%FF%25.json")
        #expect(try temporary.names(in: temporary.spool.rejectedPath) == ["bad%0Aname%FF%25.json", "bad%0Aname%FF%25.json.reason"])
    }

    @Test func completeRemovesAndListClaimedRecovers() throws {
        let temporary = try TemporarySpool()
        let spool = temporary.spool
        try temporary.deliver("{}", as: "one", modified: testNow.addingTimeInterval(-5))
        try temporary.deliver("{}", as: "two", modified: testNow.addingTimeInterval(-9))
        let one = try #require(try spool.claim("one"))
        _ = try #require(try spool.claim("two"))
        // A restart finds both, oldest first.
        let recovered = try SpoolDirectory(root: temporary.root).listClaimed()
        #expect(recovered.map(\.name) == ["two", "one"])
        try spool.complete(one)
        #expect(try spool.listClaimed().map(\.name) == ["two"])
        try spool.complete(one)  // Already gone: still fine.
        #expect(!FileManager.default.fileExists(atPath: spool.claimedPath + "/one"))
    }

    @Test func backlogCountsEntriesAndTheOldestAge() throws {
        let temporary = try TemporarySpool()
        let spool = temporary.spool
        #expect(try spool.backlog(now: testNow) == SpoolBacklog(new: 0, claimed: 0, rejected: 0, oldestNewAge: nil))
        for (name, age) in [("n1", 42.0), ("n2", 7.0), ("n3", 1.0), ("c1", 3.0), ("c2", 3.0), ("r1", 3.0)] {
            try temporary.deliver("{}", as: name, modified: testNow.addingTimeInterval(-age))
        }
        try temporary.deliver("{}", as: ".in-progress", modified: testNow.addingTimeInterval(-500))
        _ = try spool.claim("c1")
        _ = try spool.claim("c2")
        try spool.reject(try #require(try spool.claim("r1")), reason: "no")
        let backlog = try spool.backlog(now: testNow)
        #expect(backlog == SpoolBacklog(new: 3, claimed: 2, rejected: 1, oldestNewAge: .seconds(42)))
    }

    @Test func readAcceptsExactlySixtyFourKibibytesAndReportsVanishedFiles() throws {
        let temporary = try TemporarySpool()
        let spool = temporary.spool
        try temporary.deliver([UInt8](repeating: 0x20, count: 65536), as: "full", modified: testNow)
        let claimed = try #require(try spool.claim("full"))
        let content = try spool.read(claimed).get()
        #expect(content.bytes.count == 65536)
        #expect(content.modified == testNow)
        try spool.complete(claimed)
        // Gone is neither a refusal nor worth another try.
        #expect(spool.read(claimed) == .failure(.vanished))
        #expect(SpoolReadRefusal.vanished.rejectsFile == false)
        #expect(SpoolReadRefusal.unreadable(errno: EACCES).reason == "file cannot be read: Permission denied (errno 13)")
    }

    /// Issue 12 item 5: only errors about the file itself reject it.
    @Test func onlyErrorsAboutTheFileRejectIt() {
        for code in [EACCES, EPERM, EISDIR, ENXIO, EFBIG] { #expect(SpoolReadRefusal(errno: code).rejectsFile, "errno \(code)") }
        #expect(SpoolReadRefusal(errno: ELOOP) == .symbolicLink)
        for code in [EMFILE, ENFILE, ENOMEM, EIO, EAGAIN, ENOSPC] {
            #expect(SpoolReadRefusal(errno: code) == .notNow(errno: code), "errno \(code)")
            #expect(!SpoolReadRefusal(errno: code).rejectsFile)
        }
    }
}
