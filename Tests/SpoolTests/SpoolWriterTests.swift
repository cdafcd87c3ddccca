import Foundation
import Glibc
import Sensitive
import Spool
import Testing

@Suite struct SpoolWriterTests {
    @Test func submittedAuthorizationParsesBackToTheSameItem() throws {
        let temporary = try TemporarySpool()
        let code = Sensitive(secretMarker + #"-"quoted\back"-code"#)
        let json = try SpoolSubmission.authorization(
            user: validUser, code: code, codeVerifier: Sensitive(validVerifier), state: Sensitive(validState),
            receivedAt: testNow.addingTimeInterval(-30), apiKey: "pk-1")
        let name = try SpoolWriter.submit(root: temporary.root, json: json)
        #expect(try temporary.spool.listNew() == [name])
        let claimed = try #require(try temporary.spool.claim(name))
        let item = try temporary.spool.examine(claimed, now: testNow, maxCodeAge: .seconds(600)).get()
        #expect(item == .authorization(AuthorizationRequest(
            user: validUser, code: code, codeVerifier: Sensitive(validVerifier), state: Sensitive(validState),
            receivedAt: testNow.addingTimeInterval(-30), apiKey: "pk-1")))
    }

    @Test func submittedRevocationParsesBack() throws {
        let temporary = try TemporarySpool()
        let name = try SpoolWriter.submit(
            root: temporary.root, json: try SpoolSubmission.revocation(user: validUser, reason: "user disconnected"))
        let claimed = try #require(try temporary.spool.claim(name))
        #expect(temporary.spool.examine(claimed, now: Date(), maxCodeAge: .seconds(600))
            == .success(.revocation(RevocationRequest(user: validUser, reason: "user disconnected"))))
    }

    @Test func theBuilderRefusesWhatTheDaemonWouldReject() {
        #expect(throws: SpoolRejection(.verifierOrStateRequired, user: validUser)) {
            try SpoolSubmission.authorization(user: validUser, code: Sensitive(validCode))
        }
        #expect(throws: SpoolRejection(.badCharacter(.user, position: 2, scalar: " "))) {
            try SpoolSubmission.revocation(user: "u 1")
        }
        #expect(throws: SpoolRejection(.badCharacter(.code, position: 6, scalar: nil), user: validUser)) {
            try SpoolSubmission.authorization(
                user: validUser, code: Sensitive(secretMarker + "\n"), codeVerifier: Sensitive(validVerifier))
        }
    }

    @Test func namesAreUniqueAndPlain() throws {
        let temporary = try TemporarySpool()
        let json = try SpoolSubmission.revocation(user: validUser)
        let names = try (0..<50).map { _ in try SpoolWriter.submit(root: temporary.root, json: json) }
        #expect(Set(names).count == 50)
        for name in names {
            #expect(name.description == String(decoding: name.bytes, as: UTF8.self), "\(name) needs escaping")
            #expect(name.description.hasSuffix(".json") && !name.description.hasPrefix("."))
        }
        #expect(try temporary.names(in: temporary.spool.tmpPath).isEmpty)
        #expect(try temporary.spool.backlog().new == 50)
    }

    @Test func refusesOversizeAndMissingDirectoriesWithTypedErrors() throws {
        let temporary = try TemporarySpool()
        #expect(throws: SpoolIOError.self) {
            try SpoolWriter.submit(root: temporary.root, json: [UInt8](repeating: 0x20, count: 65537))
        }
        do {
            try SpoolWriter.submit(root: temporary.base + "/nowhere", json: Array("{}".utf8))
            Issue.record("submitted into a missing spool")
        } catch {
            #expect(error.errno == ENOENT)
            #expect(error.path.hasPrefix(temporary.base + "/nowhere/tmp/"))
        }
        #expect(try temporary.names(in: temporary.spool.newPath).isEmpty)
    }
}

extension SpoolWatcherTests {
    /// Proof that a reader of new/ can never see a partial file: inotify reports
    /// everything that happens in new/, and for a submission that is one IN_MOVED_TO,
    /// never an IN_CREATE, IN_MODIFY or IN_CLOSE_WRITE. (In this suite because it
    /// opens an inotify descriptor of its own.)
    @Test func submitOnlyEverRenamesACompleteFileIntoNew() throws {
        let temporary = try TemporarySpool()
        let inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        try check(inotify, "inotify_init1", temporary.spool.newPath)
        defer { close(inotify) }
        try check(inotify_add_watch(inotify, temporary.spool.newPath, UInt32(IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_ATTRIB | IN_DELETE | IN_OPEN)), "watch", "new")

        let json = Array(object(validAuthorization).utf8) + [UInt8](repeating: 0x20, count: 60_000)
        let name = try SpoolWriter.submit(root: temporary.root, json: json)

        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
        try check(Int32(count < 0 ? -1 : 0), "read", "inotify")
        var events: [(mask: UInt32, name: String)] = []
        buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset + 16 <= count {
                let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                let nameBytes = raw[(offset + 16)..<(offset + 16 + length)].prefix { $0 != 0 }
                events.append((mask, String(decoding: nameBytes, as: UTF8.self)))
                offset += 16 + length
            }
        }
        let forFile = events.filter { $0.name == name.description }
        #expect(forFile.map(\.mask) == [UInt32(IN_MOVED_TO)])
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: temporary.spool.newPath + "/" + name.description))) == json)
        #expect(try temporary.names(in: temporary.spool.tmpPath).isEmpty)
    }
}
