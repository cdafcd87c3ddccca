import ControlProtocol
import Foundation
import GrantLifecycle
import Logging
import Sensitive
import Store
import WhiteBITClient

/// wbkeyd as the user's key agent (docs/design.md §12): account reads answered from
/// WhiteBIT through the user's key, and requests signed for a partner process to send,
/// without the secret leaving the daemon. The WhiteBIT call and the signing run off the
/// engine's actor; only the audit row (with the nonce mark) goes through it, group-committed.
extension GrantEngine {
    /// Seeds the nonce source from the persisted marks; answers how many keys had one.
    func seedNonces() async throws -> Int {
        let marks = try await store.nonceMarks()
        for (apiKey, mark) in marks { nonces.raise(apiKey, atLeast: mark) }
        return marks.count
    }

    /// Where the token may stand in for the key: while the grant is being set up or its key
    /// is in use. A revoked, failed or lost grant is the user's "no" and reads nothing.
    static let bearerStates: Set<GrantState> = [.awaitingKey, .securing, .active, .disabled]

    /// What a read or a signature uses: the key pair of the grant's current key, or, for
    /// a read, the live token when no secret is held for that key.
    enum AgentCredentials: Sendable {
        case key(V4Credentials, externalID: String)
        case token(Sensitive)
    }

    /// The route rule: a sealed secret of the grant's current key signs (V4); without one, a
    /// live token reads on the Bearer route; with neither, the error names the state.
    /// V4 comes first because it is the route that works for the key's whole life (the
    /// token lasts hours) and a signed read counts as the key's use at WhiteBIT.
    nonisolated func agentCredentials(user: String, allowToken: Bool) async throws -> AgentCredentials {
        guard let stored = try await store.grant(user: user) else {
            throw CommandError("no grant for \(user)")
        }
        let grant = stored.grant
        if let sealed = stored.sealedSecret, let externalID = stored.secretExternalID, externalID == grant.externalID,
            let identity = grant.signingIdentity
        {
            let secret: Sensitive
            do {
                secret = try sealer.open(sealed, binding: SealBinding(kind: .apiSecret, user: user, externalID: externalID))
            } catch {
                throw CommandError("the sealed secret of \(user) cannot be opened: \(error)")
            }
            return .key(V4Credentials(apiKey: identity, secret: secret), externalID: externalID)
        }
        if allowToken, Self.bearerStates.contains(grant.state), grant.holdsLiveToken(at: Date()), let sealed = stored.sealedToken,
            let token = try? sealer.open(sealed, binding: SealBinding(kind: .accessToken, user: user))
        {
            return .token(token)
        }
        let held = allowToken ? "no secret of its current key and no token to read with" : "no secret of its current key"
        throw CommandError("\(user) has \(held) (state \(grant.state.rawValue)); \(allowToken ? "a read" : "`sign`") needs \(allowToken ? "one of them" : "a secured key")")
    }

    /// `balance` and `history`: WhiteBIT's answer, and the route it came by. Every read is
    /// audited `account_read` (caller, user, endpoint, route, outcome), never the answer.
    nonisolated func accountRead(
        _ read: AccountRead, parameters: [String: JSONValue], user: String, actor: AuditActor
    ) async throws -> AccountReadView {
        let credentials = try await agentCredentials(user: user, allowToken: true)
        let client = self.client
        let route: ReadRoute
        let endpoint: Endpoint
        let externalID: String?
        let result: Result<JSONValue, WhiteBITError>
        var mark: (String, Int64)?
        switch credentials {
        case .key(let pair, let id):
            route = .v4
            endpoint = read.signedEndpoint
            externalID = id
            do {
                // nonceWindow: a partner's signed request that is still on its way with an
                // earlier nonce must not make this read fail, nor this read it.
                result = .success(try await client.accountRead(read, parameters: parameters, credentials: pair, nonces: nonces, nonceWindow: true))
            } catch {
                result = .failure(error)
            }
            if let last = nonces.lastIssued(for: pair.apiKey) { mark = (pair.apiKey, last) }
        case .token(let token):
            route = .bearer
            endpoint = read.bearerEndpoint
            externalID = nil
            do {
                result = .success(try await client.accountRead(read, parameters: parameters, bearer: token))
            } catch {
                result = .failure(error)
            }
        }
        var detail: [String: AuditValue] = [
            "endpoint": .string(endpoint.pathTemplate), "route": .string(route.rawValue),
        ]
        switch result {
        case .success: detail["outcome"] = .string("ok")
        case .failure(let error):
            detail["outcome"] = .string("failed")
            detail["error"] = .string(error.description)
        }
        try await recordAgentRow(
            AuditEntry(.accountRead, user: user, externalID: externalID, actor: actor, detail: AuditDetail(detail)), nonceMark: mark,
            message: "account read", level: .info, metadata: ["actor": "\(actor.text)", "route": "\(route.rawValue)"])
        switch result {
        case .success(let answer):
            return AccountReadView(user: user, field: read.isBalance ? "balance" : "history", route: route, whitebitJSON: answer.compactText)
        case .failure(let error):
            throw CommandError("\(user): \(read.rawValue) \(read.isBalance ? "balance" : "history") failed: \(error)")
        }
    }

    /// `sign`: a signed request for the caller to send, with a nonce from the daemon's one
    /// source and `nonceWindow` set, so that callers signing for one user at once may send
    /// in any order (within WhiteBIT's 5 s window). The nonce mark is durable, with the
    /// `request_signed` row, before the answer leaves: a restart cannot hand it out again.
    nonisolated func sign(user: String, path: String, body: String?, allowedPaths: [String], actor: AuditActor) async throws -> SignedRequestView {
        guard allowedPaths.contains(path) else {
            throw CommandError("\(String(path.prefix(80))) is not in agent.sign_paths; wbkeyd signs only those paths")
        }
        guard case .key(let pair, let externalID) = try await agentCredentials(user: user, allowToken: false) else {
            throw CommandError("\(user) has no secret of its current key; `sign` needs a secured key")
        }
        let client = self.client
        let signed: SignedV4Request
        do {
            signed = try client.signedRequest(path: path, jsonBody: body ?? "", credentials: pair, nonces: nonces, nonceWindow: true)
        } catch {
            throw CommandError("\(error)")
        }
        try await recordAgentRow(
            AuditEntry(.requestSigned, user: user, externalID: externalID, actor: actor,
                       detail: ["path": .string(path), "nonce": .int(Int(signed.nonce))]),
            nonceMark: (pair.apiKey, signed.nonce), message: "request signed", level: .debug,
            metadata: ["actor": "\(actor.text)", "path": "\(path)"])
        return SignedRequestView(url: client.url(of: signed), body: signed.body, headers: signed.headers)
    }

    /// An agent's audit row and the key's nonce mark in one group-committed transaction.
    func recordAgentRow(
        _ entry: AuditEntry, nonceMark: (String, Int64)?, message: String, level: Logger.Level, metadata: Logger.Metadata
    ) async throws {
        if let haltReason { throw EngineHalted(reason: haltReason) }
        do {
            try await store.append(entry, raising: nonceMark.map { NonceMark(key: $0.0, nonce: $0.1) })
        } catch {
            halt("audit write failed: \(error)")
            throw error
        }
        var fields = metadata
        fields["event"] = "\(entry.event.rawValue)"
        if let user = entry.user { fields["user"] = "\(user)" }
        logger.log(level: level, "\(message)", metadata: fields)
    }
}

extension AccountRead {
    var isBalance: Bool { self == .mainBalance || self == .spotBalance }
}
