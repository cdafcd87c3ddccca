import Foundation
import Glibc
import Sensitive
import Spool
import Testing
import UnixSocketAddress

/// Drops every malformed case of `malformedCases`, with valid files between them, into
/// a real spool and runs one intake pass through the real claim, read, parse and
/// reject; each bad file must land in rejected/ with its own specific reason.
@Suite struct MalformedSpoolFileTests {
    let maxCodeAge = Duration.seconds(600)

    @Test func thereAreAtLeastFiftyDistinctCases() {
        #expect(malformedCases.count >= 50)
        #expect(Set(malformedCases.map(\.name)).count == malformedCases.count)
    }

    @Test func everyMalformedFileIsRejectedWithItsReasonWhileValidFilesPass() throws {
        let temporary = try TemporarySpool()
        let valid = validFiles()
        var expectedItems: [String: SpoolItem] = [:]
        // Interleave: a valid file after every fifth malformed one, all with distinct
        // whole-second mtimes inside the code age, so listNew's order mixes them.
        var validIterator = valid.makeIterator()
        for (index, malformed) in malformedCases.enumerated() {
            let modified = testNow.addingTimeInterval(-300 + Double(index))
            try drop(malformed, into: temporary, modified: modified)
            if index % 5 == 4, let next = validIterator.next() {
                try temporary.deliver(next.json, as: next.name, modified: modified)
                expectedItems[next.name] = next.item(modified)
            }
        }
        let leftOver = validIterator.next()
        #expect(leftOver == nil, "every valid file sits between malformed ones")

        let pass = try IntakePass.run(temporary.spool, now: testNow, maxCodeAge: maxCodeAge)

        #expect(pass.accepted == expectedItems)
        for malformed in malformedCases {
            let outcome = pass.rejected[malformed.name]
            #expect(outcome?.name == malformed.name, "\(malformed) landed as \(outcome?.name ?? "nothing")")
            #expect(outcome?.reasonFile == malformed.reason + "\n", "\(malformed)")
        }
        #expect(pass.rejected.count == malformedCases.count)
        #expect(try temporary.names(in: temporary.spool.newPath).isEmpty)
        #expect(try temporary.names(in: temporary.spool.claimedPath).isEmpty)
        let backlog = try temporary.spool.backlog(now: testNow)
        #expect(backlog == SpoolBacklog(new: 0, claimed: 0, rejected: malformedCases.count, oldestNewAge: nil))

        // The symlink was moved, never followed: its target is where it was.
        #expect(try readText(temporary.base + "/symlink-target.json") == object(validAuthorization))

        // No reason file holds any part of a code, verifier or state.
        for name in try temporary.names(in: temporary.spool.rejectedPath) where name.hasSuffix(".reason") {
            let text = try readText(temporary.spool.rejectedPath + "/" + name)
            #expect(!text.contains(secretMarker), "\(name) leaks a secret")
            #expect(!text.contains(validCode) && !text.contains(validVerifier) && !text.contains(validState))
            #expect(text.filter { $0 == "\n" }.count == 1, "\(name) is not one line")
        }
    }

    @Test func rejectionsNameTheUserOnlyWhenItIsValid() throws {
        let expired = SpoolParser.parse(
            bytes: Array(authorization(replacing: "received_at", with: q("1970-01-01T00:00:00Z")).utf8),
            fileModified: testNow, now: testNow, maxCodeAge: maxCodeAge)
        #expect(expired.failure?.user == validUser)
        let badUser = SpoolParser.parse(
            bytes: Array(authorization(replacing: "user", with: q("u 1001")).utf8),
            fileModified: testNow, now: testNow, maxCodeAge: maxCodeAge)
        #expect(badUser.failure?.user == nil)
        #expect(badUser.failure?.reason.contains("u 1001") == false)
    }

    private func drop(_ malformed: MalformedCase, into temporary: TemporarySpool, modified: Date) throws {
        let path = temporary.spool.newPath + "/" + malformed.name
        switch malformed.content {
        case .text(let text):
            try temporary.deliver(text, as: malformed.name, modified: modified)
        case .bytes(let bytes):
            try temporary.deliver(bytes, as: malformed.name, modified: modified)
        case .textModified(let text, let seconds):
            try temporary.deliver(text, as: malformed.name, modified: testNow.addingTimeInterval(-seconds))
            return
        case .symbolicLinkToValidFile:
            let target = temporary.base + "/symlink-target.json"
            try writeFile(target, Array(object(validAuthorization).utf8))
            try setModified(target, modified)
            try check(symlink(target, path), "symlink", path)
        case .fifo:
            try check(mkfifo(path, 0o600), "mkfifo", path)
        case .directory:
            try check(mkdir(path, 0o700), "mkdir", path)
        case .socket:
            try bindSocket(at: path)
        case .characterDevice:
            // 1,3 is /dev/null: harmless even if it were opened.
            try check(mknod(path, S_IFCHR | 0o600, (1 << 8) | 3), "mknod", path)
        }
        try setModified(path, modified)
    }

    private func bindSocket(at path: String) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try check(descriptor, "socket", path)
        defer { close(descriptor) }
        try check(UnixSocketAddress.bind(descriptor, to: path), "bind", path)
    }
}

struct ValidFile {
    let name: String
    let json: String
    /// The item it must parse into, given the file's mtime (the default received_at).
    let item: (Date) -> SpoolItem
}

/// Valid files of every shape the protocol allows, to be parsed into exactly these items.
func validFiles() -> [ValidFile] {
    let longUser = String(repeating: "a", count: 120) + "._:@-Z09"
    let shortVerifier = secretMarker + String(repeating: "v", count: 38)
    let longCode = secretMarker + String(repeating: "C", count: 2043)
    let longState = secretMarker + String(repeating: "~", count: 507)
    func auth(
        _ user: String, _ code: String, verifier: String?, state: String?, at: Date, apiKey: String? = nil
    ) -> SpoolItem {
        .authorization(AuthorizationRequest(
            user: user, code: Sensitive(code), codeVerifier: verifier.map(Sensitive.init),
            state: state.map(Sensitive.init), receivedAt: at, apiKey: apiKey))
    }
    return [
        ValidFile(
            name: "valid-verifier.json",
            json: object(validAuthorization + [("type", q("authorization")), ("received_at", q("2026-11-18T11:03:20Z"))]),
            item: { _ in
                auth(validUser, validCode, verifier: validVerifier, state: nil, at: testNow.addingTimeInterval(-200))
            }),
        ValidFile(
            name: "valid-state-only.json",
            json: object([("user", q("partner:42@eu")), ("code", q(validCode)), ("state", q(validState)),
                          ("received_at", q("2026-11-18T12:04:20.250+01:00"))]),
            item: { _ in
                auth("partner:42@eu", validCode, verifier: nil, state: validState, at: testNow.addingTimeInterval(-139.75))
            }),
        ValidFile(
            name: "valid-revocation.json",
            json: object([("type", q("revocation")), ("user", q(validUser)), ("reason", q("user disconnected"))]),
            item: { _ in .revocation(RevocationRequest(user: validUser, reason: "user disconnected")) }),
        ValidFile(
            name: "valid-revocation-default.json",
            json: object([("type", q("revocation")), ("user", q("u-7")), ("extra", #"{"nested":[1,2.5e3,null]}"#)]),
            item: { _ in .revocation(RevocationRequest(user: "u-7", reason: "requested")) }),
        ValidFile(
            name: "valid-mtime-and-nulls.json",
            json: object(validAuthorization + [("state", q(validState)), ("api_key", "null"), ("received_at", "null"),
                                               ("unknown", "true")]),
            item: { mtime in auth(validUser, validCode, verifier: validVerifier, state: validState, at: mtime) }),
        ValidFile(
            name: "valid-escapes-and-api-key.json",
            json: "\n { \"code\" : \"Zq9Sx\\/a\\u0020b\" , \"user\":\"u-1001\",\"code_verifier\":\""
                + validVerifier + "\",\"api_key\":\"pk-ABC 123\" }\n",
            item: { mtime in
                auth(validUser, "Zq9Sx/a b", verifier: validVerifier, state: nil, at: mtime, apiKey: "pk-ABC 123")
            }),
        ValidFile(
            name: "valid-boundaries.json",
            json: object([("user", q(longUser)), ("code", q(longCode)), ("code_verifier", q(shortVerifier)),
                          ("state", q(longState)), ("received_at", q("2026-11-18t11:11:40z"))]),
            item: { _ in
                auth(longUser, longCode, verifier: shortVerifier, state: longState, at: testNow.addingTimeInterval(300))
            }),
    ]
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
