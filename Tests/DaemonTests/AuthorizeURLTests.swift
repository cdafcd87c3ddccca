import Foundation
import Sensitive
import Testing
import WBKeydHarness
import WhiteBITSimHarness

/// docs/design.md §1's other road in: `authorize-url USER` makes the PKCE pair and keeps the
/// verifier; the partner sends the user to the URL and drops only code and state.
@Suite struct AuthorizeURLTests {
    @Test func anAuthorizeURLRoundTripSecuresTheKeyAndItsStateWorksOnce() async throws {
        try await withDaemon { daemon in
            let answer = try await daemon.control("authorize-url u-url json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any], "\(answer)")
            let url = try #require((object["url"] as? String).flatMap(URLComponents.init(string:)))
            let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
            #expect(url.path == "/auth/login" && url.host == "127.0.0.1")
            #expect(query["clientId"] == SimDefaults.clientID && query["redirect_uri"] == SimDefaults.redirectURI)
            #expect(query["code_challenge_method"] == "S256")
            let challenge = try #require(query["code_challenge"])
            let state = try #require(query["state"])
            #expect(try await daemon.auditRows().allSatisfy { !$0.detail.contains(state) }, "the state is not audited")
            // Who asked, for whom: audited, without the state or the verifier.
            let issued = try await daemon.auditRows(user: "u-url").filter { $0.event == "authorize_url_issued" }
            #expect(issued.count == 1, "\(issued)")
            #expect(issued.first?.actor == "uid:\(getuid())")
            #expect(issued.first?.detail == #"{"expires_in_s":600}"#)

            // What /auth/login does when the user consents: a code for that challenge and state.
            let consent = try await daemon.admin.consent(
                user: "u-url", codeChallenge: challenge, redirectURI: SimDefaults.redirectURI, state: state, key: .now)
            #expect(consent.state == state)
            try daemon.submitAuthorization(user: "u-url", code: consent.code, verifier: nil, state: Sensitive(state))
            try await daemon.awaitEvent("secret_secured", user: "u-url")
            #expect(try await daemon.grantState("u-url") == "active")

            // The same callback again is the same authorization: a duplicate (as after a crash
            // between the commit and the unlink, when the state is rightly gone), no call.
            let tokenRequests = try await daemon.admin.state().requests["token"]
            let same = try daemon.submitAuthorization(user: "u-url", code: consent.code, verifier: nil, state: Sensitive(state))
            try await daemon.awaitLine { $0.isEvent("authorization_duplicate") && $0.value("file") == same }
            // The state was taken: another code with it is refused, without a call.
            let again = try daemon.submitAuthorization(user: "u-url", code: Sensitive("another-code"), verifier: nil, state: Sensitive(state))
            try await daemon.awaitLine { $0.isEvent("authorization_rejected") && $0.value("file") == again }
            #expect(try await eventually { daemon.rejectionReason(of: again) != nil })
            #expect(daemon.rejectionReason(of: again) == "state does not match a pending authorize-url for this user (unknown, used or expired)")
            #expect(try await daemon.admin.state().requests["token"] == tokenRequests)
        }
    }

    @Test func aStateIssuedForOneUserDoesNotServeAnother() async throws {
        try await withDaemon { daemon in
            let answer = try await daemon.control("authorize-url u-owner json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any], "\(answer)")
            let url = try #require((object["url"] as? String).flatMap(URLComponents.init(string:)))
            let state = try #require(url.queryItems?.first { $0.name == "state" }?.value)
            let challenge = try #require(url.queryItems?.first { $0.name == "code_challenge" }?.value)
            let consent = try await daemon.admin.consent(user: "u-thief", codeChallenge: challenge, state: state, key: .now)

            let file = try daemon.submitAuthorization(user: "u-thief", code: consent.code, verifier: nil, state: Sensitive(state))
            try await daemon.awaitLine { $0.isEvent("authorization_rejected") && $0.value("file") == file }
            #expect(try await daemon.grantState("u-thief") == nil)
            #expect(try await daemon.admin.state().requests["token"] ?? 0 == 0)
        }
    }

    /// Issue 12 item 12: a file naming the wrong user once used up the state before the user
    /// was checked, so the owner's own callback was refused afterwards.
    @Test func aStatePresentedWithTheWrongUserStillServesItsOwner() async throws {
        try await withDaemon { daemon in
            let answer = try await daemon.control("authorize-url u-owner json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any], "\(answer)")
            let url = try #require((object["url"] as? String).flatMap(URLComponents.init(string:)))
            let state = try #require(url.queryItems?.first { $0.name == "state" }?.value)
            let challenge = try #require(url.queryItems?.first { $0.name == "code_challenge" }?.value)

            let stolen = try await daemon.admin.consent(user: "u-thief", codeChallenge: challenge, state: state, key: .now)
            let file = try daemon.submitAuthorization(user: "u-thief", code: stolen.code, verifier: nil, state: Sensitive(state))
            try await daemon.awaitLine { $0.isEvent("authorization_rejected") && $0.value("file") == file }

            let consent = try await daemon.admin.consent(user: "u-owner", codeChallenge: challenge, state: state, key: .now)
            try daemon.submitAuthorization(user: "u-owner", code: consent.code, verifier: nil, state: Sensitive(state))
            try await daemon.awaitEvent("secret_secured", user: "u-owner", timeout: .seconds(20))
            #expect(try await daemon.grantState("u-thief") == nil)
            // Used by its owner, the state is gone with the same commit.
            #expect(try await daemon.sqliteRows("SELECT COUNT(*) AS n FROM pending_states").first?["n"] == "0")
        }
    }
}
