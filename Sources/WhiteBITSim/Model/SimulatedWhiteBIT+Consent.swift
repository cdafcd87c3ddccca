import Foundation
import PKCE
import Sensitive

/// A user's consent as the simulator plays it: who consents, to which client, and how the
/// key creation that follows turns out.
public struct ConsentRequest: Sendable {
    public var user: String
    /// Nil: the start-up client.
    public var clientID: String?
    /// Nil: the client's first registered URI.
    public var redirectURI: String?
    public var state: String?
    /// Nil issues a code without PKCE (classic flow); `/auth/login` always demands one.
    public var codeChallenge: String?
    public var codeChallengeMethod: String?
    /// Nil: the `key_delay_ms` setting.
    public var key: KeyAppearance?
    /// Permission groups as `/info` shows them; names are expanded into groups.
    public var permissions: [JSONValue]?

    public init(
        user: String, clientID: String? = nil, redirectURI: String? = nil, state: String? = nil,
        codeChallenge: String?, codeChallengeMethod: String? = nil, key: KeyAppearance? = nil,
        permissions: [JSONValue]? = nil
    ) {
        self.user = user
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.state = state
        self.codeChallenge = codeChallenge
        self.codeChallengeMethod = codeChallengeMethod
        self.key = key
        self.permissions = permissions
    }
}

/// What a consent yields: the code, where the browser is sent, and the key's fate.
public struct ConsentGrant: Sendable {
    public let code: Sensitive
    public let state: String?
    /// `redirect_uri?code=CODE&state=STATE`.
    public let location: String
    public let key: KeyCreation
    /// The public key the callback carries, in the `api_key` reading only.
    public let apiKey: String?
}

extension SimulatedWhiteBIT {
    /// The permission group of the API doc's example, granted when a consent names none.
    static let defaultPermissions: [JSONValue] = [
        ["name": "trading", "title": "Trading", "urls": [["url": "/v2/order", "enable": true]]]
    ]

    /// The user consents: a code for the client and, per the one-key rule, perhaps a key.
    public func consent(_ request: ConsentRequest) throws(SimRequestError) -> ConsentGrant {
        guard Self.isUserName(request.user) else {
            throw SimRequestError("user must be 1-128 of A-Z a-z 0-9 . _ : @ -")
        }
        let client = try client(request.clientID)
        let redirectURI = request.redirectURI ?? client.redirectURIs[0]
        guard client.redirectURIs.contains(redirectURI) else {
            throw SimRequestError("redirect_uri is not registered for client \"\(client.id)\"")
        }
        if let challenge = request.codeChallenge {
            guard PKCE.isValidChallenge(challenge) else {
                throw SimRequestError("code_challenge must be 43 base64url characters")
            }
            guard (request.codeChallengeMethod ?? PKCE.method) == PKCE.method else {
                throw SimRequestError("code_challenge_method must be S256")
            }
        }
        let permissions = try Self.permissionGroups(request.permissions)
        let issuedAt = now
        let code = AuthorizationCode(
            value: random.opaqueSecret(bytes: 32), user: request.user, clientID: client.id,
            redirectURI: redirectURI, state: request.state, challenge: request.codeChallenge,
            expiresAt: Self.addingMilliseconds(settings.codeLifetimeMilliseconds, to: issuedAt))
        codes[code.value] = code
        codeOrder.append(code.value)
        let keyCreation = createKey(
            user: request.user, client: client, permissions: permissions,
            appearance: request.key ?? .after(milliseconds: settings.keyDelayMilliseconds), at: issuedAt)
        var apiKey: String?
        if case .created(let externalID) = keyCreation, settings.apiKeyHeader == .apiKey {
            apiKey = keys[externalID]?.apiKey
        }
        return ConsentGrant(
            code: code.value, state: request.state,
            location: Self.callbackLocation(redirectURI, code: code.value, state: request.state, apiKey: apiKey),
            key: keyCreation, apiKey: apiKey)
    }

    /// `GET /auth/login`: the consent page. With `sim_user` the simulated user consents at
    /// once (302 to the callback); without it, a page that says how to consent.
    public func login(query: [String: String]) -> SimAnswer {
        func refuse(_ reason: String) -> SimAnswer { .message(400, reason) }
        guard let clientID = query["clientId"], !clientID.isEmpty else { return refuse("clientId is required") }
        guard let client = clients[clientID] else { return refuse("unknown clientId") }
        guard let redirectURI = query["redirect_uri"], !redirectURI.isEmpty else {
            return refuse("redirect_uri is required")
        }
        guard client.redirectURIs.contains(redirectURI) else {
            return refuse("redirect_uri is not registered for this client")
        }
        guard let challenge = query["code_challenge"], !challenge.isEmpty else {
            return refuse("code_challenge is required")
        }
        guard PKCE.isValidChallenge(challenge) else { return refuse("code_challenge must be 43 base64url characters") }
        guard query["code_challenge_method"] == PKCE.method else { return refuse("code_challenge_method must be S256") }
        guard let user = query["sim_user"] else {
            return SimAnswer(status: 200, body: .html(Self.consentPage), headers: ["Cache-Control": "no-store"])
        }
        var appearance: KeyAppearance?
        if let keyText = query["sim_key"] {
            guard let parsed = KeyAppearance(text: keyText) else { return refuse("sim_key must be now, never or milliseconds") }
            appearance = parsed
        }
        let request = ConsentRequest(
            user: user, clientID: clientID, redirectURI: redirectURI, state: query["state"],
            codeChallenge: challenge, codeChallengeMethod: PKCE.method, key: appearance)
        do {
            let grant = try consent(request)
            return SimAnswer(status: 302, body: .empty, headers: ["Location": grant.location, "Cache-Control": "no-store"])
        } catch {
            return refuse(error.message)
        }
    }

    /// Creates the consent's key unless the one-key rule (API doc §3.5) forbids it.
    private func createKey(
        user: String, client: SimClient, permissions: [JSONValue], appearance: KeyAppearance, at moment: Date
    ) -> KeyCreation {
        if let live = keys.values.first(where: { $0.user == user && $0.clientID == client.id && $0.isLive }) {
            disableIfIdle(live.externalID)
            return keys[live.externalID]?.enabled == true ? .activeExists : .expiredExists
        }
        guard client.scopes.contains("apikeys.create") else { return .notCreated }
        let appearsAt: Date
        switch appearance {
        case .never: return .notCreated
        case .now: appearsAt = moment
        case .after(let milliseconds): appearsAt = Self.addingMilliseconds(milliseconds, to: moment)
        }
        return .created(externalID: addKey(user: user, client: client, permissions: permissions, at: moment, appearsAt: appearsAt).externalID)
    }

    /// A new key of (user, client), stored; the callers have checked the one-key rule.
    func addKey(user: String, client: SimClient, permissions: [JSONValue], at moment: Date, appearsAt: Date) -> APIKey {
        let externalID = random.uuid()
        let key = APIKey(
            externalID: externalID, user: user, clientID: client.id, apiSecret: random.apiSecret(),
            apiKey: Self.publicAPIKey(for: externalID), permissions: permissions, createdAt: moment, appearsAt: appearsAt,
            lastUsedAt: appearsAt)
        keys[key.externalID] = key
        keyOrder.append(key.externalID)
        return key
    }

    static func isUserName(_ user: String) -> Bool {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-".utf8)
        return (1...128).contains(user.utf8.count) && user.utf8.allSatisfy(allowed.contains)
    }

    /// Groups as given, or names expanded to `{"name","title","urls"}`.
    static func permissionGroups(_ given: [JSONValue]?) throws(SimRequestError) -> [JSONValue] {
        guard let given else { return defaultPermissions }
        if given.count == 1, let name = given[0].stringValue, let preset = KeyPermissions.preset(name) { return preset }
        var groups: [JSONValue] = []
        for entry in given {
            switch entry {
            case .object: groups.append(entry)
            case .string(let name) where !name.isEmpty:
                let title = name.prefix(1).uppercased() + name.dropFirst()
                groups.append(["name": .string(name), "title": .string(title), "urls": [["url": .string("/api/v4/\(name)"), "enable": true]]])
            default: throw SimRequestError("permissions must be group objects or group names")
            }
        }
        return groups
    }

    static func callbackLocation(_ redirectURI: String, code: Sensitive, state: String?, apiKey: String?) -> String {
        var location = redirectURI + (redirectURI.contains("?") ? "&" : "?") + "code=" + percentEncoded(code.revealed)
        if let state { location += "&state=" + percentEncoded(state) }
        if let apiKey { location += "&" + apiKeyParameter + "=" + percentEncoded(apiKey) }
        return location
    }

    /// The callback parameter that carries the public key in the `api_key` reading of
    /// `docs/whitebit-api.md` §3.6 (WhiteBIT's name for it is still PENDING there).
    public static let apiKeyParameter = "api_key"

    /// Derived from the key's id rather than drawn from `random`, so that seeded runs hand
    /// out the same codes, tokens and secrets as before the public key existed.
    static func publicAPIKey(for externalID: String) -> String {
        var derived = SimRandom(seed: AccountData.fnv1a("public-key:" + externalID))
        return derived.publicAPIKey()
    }

    static func percentEncoded(_ text: String) -> String {
        var unreserved = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        unreserved.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    static let consentPage = """
        <!doctype html>
        <html><head><title>whitebit-sim: consent</title></head><body>
        <h1>whitebit-sim</h1>
        <p>This is where WhiteBIT shows its login and consent screen. The simulator cannot ask a
        person, so consent is given by the caller: add <code>sim_user=USER</code> (and optionally
        <code>sim_key=now|never|MS</code>) to this URL, or <code>POST /sim/consent</code> with
        <code>{"user": "USER", "code_challenge": "…"}</code>.</p>
        </body></html>
        """
}
