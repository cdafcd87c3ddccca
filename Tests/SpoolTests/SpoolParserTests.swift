import Foundation
import Sensitive
import Spool
import Testing

@Suite struct SpoolParserTests {
    let maxCodeAge = Duration.seconds(600)

    private func parse(_ text: String, modified: Date = testNow, maxCodeAge: Duration? = nil)
        -> Result<SpoolItem, SpoolRejection>
    {
        SpoolParser.parse(
            bytes: Array(text.utf8), fileModified: modified, now: testNow, maxCodeAge: maxCodeAge ?? self.maxCodeAge)
    }

    private func receivedAt(_ stamp: String) -> Date? {
        guard case .success(.authorization(let request)) = parse(authorization(replacing: "received_at", with: q(stamp)),
                                                                 maxCodeAge: .seconds(10 * 365 * 86_400))
        else { return nil }
        return request.receivedAt
    }

    @Test(arguments: [
        ("2026-11-18T11:06:40Z", 1_795_000_000.0),
        ("2026-11-18T11:06:40.5Z", 1_795_000_000.5),
        ("2026-11-18T11:06:40.123456789Z", 1_795_000_000.123456789),
        ("2026-11-18T12:06:40+01:00", 1_795_000_000.0),
        ("2026-11-18T05:36:40-05:30", 1_795_000_000.0),
        ("2026-11-18T11:06:40-00:00", 1_795_000_000.0),
        ("2026-11-18t11:06:40z", 1_795_000_000.0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
        ("2016-12-31T23:59:60Z", 1_483_228_800.0),
    ])
    func acceptsRFC3339Variants(stamp: String, epoch: Double) throws {
        let date = try #require(receivedAt(stamp))
        #expect(abs(date.timeIntervalSince1970 - epoch) < 0.000_001)
    }

    @Test(arguments: [
        "2026-11-18 11:06:40Z", "2026-11-18T11:06Z", "2026-11-18T11:06:40", "2026-11-18T11:06:40.Z",
        "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-18T24:00:00Z",
        "2026-11-18T11:60:00Z", "2026-11-18T11:06:40+0100", "2026-11-18T11:06:40+24:00", "26-11-18T11:06:40Z",
        "2026-11-18T11:06:40Z ", "+2026-11-18T11:06:40Z", "2026-11-18T11:06:40\u{FF3A}",
    ])
    func refusesWhatIsNotRFC3339(stamp: String) {
        #expect(receivedAt(stamp) == nil)
    }

    @Test func theCodeAgeLimitIsInclusiveAndConfigurable() {
        let atLimit = authorization(replacing: "received_at", with: q(rfc3339(testNow.addingTimeInterval(-600))))
        let pastLimit = authorization(replacing: "received_at", with: q(rfc3339(testNow.addingTimeInterval(-601))))
        #expect(parse(atLimit).failure == nil)
        #expect(parse(pastLimit).failure?.problem == .expired(age: .seconds(601), limit: maxCodeAge, fromFileTime: false))
        #expect(parse(pastLimit, maxCodeAge: .seconds(3600)).failure == nil)
    }

    @Test func theFutureLimitIsFiveMinutes() {
        let atLimit = authorization(replacing: "received_at", with: q(rfc3339(testNow.addingTimeInterval(300))))
        let pastLimit = authorization(replacing: "received_at", with: q(rfc3339(testNow.addingTimeInterval(301))))
        #expect(parse(atLimit).failure == nil)
        #expect(parse(pastLimit).failure?.reason
            == "received_at is 301s in the future, more than the 300s allowed for clock skew")
        #expect(parse(object(validAuthorization), modified: testNow.addingTimeInterval(400)).failure?.reason
            == "received_at is missing and the file's mtime is 400s in the future, more than the 300s allowed for clock skew")
    }

    @Test func revocationsIgnoreAuthorizationFieldsAndAge() {
        let text = object([("type", q("revocation")), ("user", q(validUser)), ("reason", q("")),
                           ("code", "17"), ("received_at", q("1970-01-01T00:00:00Z"))])
        #expect(parse(text, modified: Date(timeIntervalSince1970: 0))
            == .success(.revocation(RevocationRequest(user: validUser, reason: "requested"))))
    }

    @Test func stateAloneStandsInForTheVerifier() throws {
        let text = object([("user", q(validUser)), ("code", q(validCode)), ("state", q(validState))])
        guard case .success(.authorization(let request)) = parse(text) else {
            Issue.record("not parsed")
            return
        }
        #expect(request.codeVerifier == nil)
        #expect(request.state?.revealed == validState)
        #expect(request.receivedAt == testNow)
    }

    @Test func keysAreComparedAsBytes() {
        // U+212A KELVIN SIGN is canonically equivalent to "K", so Swift's String
        // equality would call these two keys duplicates; they are different keys.
        #expect(parse(#"{"\u212A":1,"K":2,"user":"u-1001","code":"c","state":"s"}"#).failure == nil)
        #expect(parse(#"{"K":1,"K":2,"user":"u-1001","code":"c","state":"s"}"#).failure?.reason
            == "invalid JSON at offset 7: a key appears twice in one object")
    }

    @Test func secretFieldsNeverShowTheirCharacters() {
        for field in ["code", "code_verifier", "state"] {
            let value = secretMarker + String(repeating: "a", count: 40) + "\u{430}"
            let reason = parse(authorization(replacing: field, with: q(value))).failure?.reason ?? ""
            #expect(reason.hasPrefix("\(field) has a character outside"), "\(reason)")
            #expect(!reason.contains("U+"), "\(reason)")
        }
    }

    @Test func everyRejectionIsOneLine() {
        for malformed in malformedCases {
            #expect(!malformed.reason.contains("\n"))
        }
    }
}
