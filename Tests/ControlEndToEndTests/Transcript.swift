import Foundation
import Synchronization
import WBKeydHarness
import WhiteBITSimHarness

/// Every answer a test saw, so that at its end one search proves that no command but
/// `secret` ever printed a token, code, verifier, API secret or key material.
final class Transcript: Sendable {
    private let answers = Mutex<[ToolAnswer]>([])

    func record(_ answer: ToolAnswer) {
        answers.withLock { $0.append(answer) }
    }

    /// Every secret the simulator holds (its whole state: tokens, codes, API secrets,
    /// client secrets), the fixture's master key, and `extra` (PKCE verifiers).
    static func secretsOnRecord(_ daemon: DaemonFixture, extra: [String] = []) async throws -> [(what: String, value: String)] {
        let state = try await daemon.admin.state()
        var secrets: [(String, String)] = []
        secrets += state.tokens.map { ("access token of \($0.user)", $0.accessToken) }
        secrets += state.codes.map { ("authorization code of \($0.user)", $0.code) }
        secrets += state.keys.map { ("API secret of \($0.user)", $0.apiSecret) }
        secrets += state.clients.map { ("client secret of \($0.clientID)", $0.clientSecret) }
        let key = Data(daemon.masterKey)
        secrets.append(("master key (hex)", daemon.masterKey.map { String(format: "%02x", $0) }.joined()))
        secrets.append(("master key (base64)", key.base64EncodedString()))
        secrets += extra.map { ("PKCE value", $0) }
        return secrets.filter { !$0.1.isEmpty }
    }

    /// Names (never prints) each secret found in an answer to anything but `secret`.
    func leaks(of secrets: [(what: String, value: String)]) -> [String] {
        let seen = answers.withLock { $0 }
        var found: [String] = []
        for answer in seen where !answer.line.hasPrefix("secret ") {
            for secret in secrets where answer.text.contains(secret.value) {
                found.append("`\(answer.line)` via \(answer.tool) printed the \(secret.what)")
            }
        }
        return found
    }

    var count: Int { answers.withLock { $0.count } }
}
