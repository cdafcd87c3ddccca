import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PKCE
import Sensitive

/// A typed client for the simulator's `/sim/` API: it plays the WhiteBIT user, registers
/// clients, flips switches, queues faults and reads the state.
public struct SimAdminClient: Sendable {
    public let baseURL: String
    private let httpClient: HTTPClient

    public init(baseURL: String, httpClient: HTTPClient = .shared) {
        self.baseURL = baseURL
        self.httpClient = httpClient
    }

    // MARK: The user

    /// The user consents (what `/auth/login?sim_user=…` does) and the code comes back.
    public func consent(
        user: String, codeChallenge: String?, clientID: String? = nil, redirectURI: String? = nil,
        state: String? = nil, key: SimKeyAppearance? = nil, permissions: [String]? = nil
    ) async throws -> SimConsent {
        var body: [String: JSONText] = ["user": .string(user)]
        if let codeChallenge {
            body["code_challenge"] = .string(codeChallenge)
            body["code_challenge_method"] = .string(PKCE.method)
        }
        if let clientID { body["client_id"] = .string(clientID) }
        if let redirectURI { body["redirect_uri"] = .string(redirectURI) }
        if let state { body["state"] = .string(state) }
        switch key {
        case nil: break
        case .now?: body["key"] = "now"
        case .never?: body["key"] = "never"
        case .after(let milliseconds)?: body["key"] = .object(["after_ms": .integer(milliseconds)])
        }
        if let permissions { body["permissions"] = .array(permissions.map(JSONText.string)) }
        let answer = try await object(.POST, "/sim/consent", body)
        guard let code = answer["code"] as? String, let location = answer["location"] as? String,
            let keyOutcome = answer["key"] as? String
        else { throw SimAdminError.unexpectedAnswer(path: "/sim/consent", detail: "code, location or key missing") }
        return SimConsent(
            code: Sensitive(code), state: answer["state"] as? String, location: location, key: keyOutcome,
            externalID: answer["external_id"] as? String, apiKey: answer["api_key"] as? String)
    }

    /// The whole consent as a partner would run it: a fresh PKCE pair and state, the user's
    /// consent, and the callback's code.
    public func authorize(
        user: String, clientID: String? = nil, redirectURI: String? = nil, key: SimKeyAppearance? = nil
    ) async throws -> SimAuthorization {
        let pair = PKCEPair.generate()
        let state = PKCE.makeState()
        let consent = try await consent(
            user: user, codeChallenge: pair.challenge, clientID: clientID, redirectURI: redirectURI, state: state,
            key: key)
        return SimAuthorization(
            code: consent.code, verifier: pair.verifier, state: state, location: consent.location,
            externalID: consent.externalID)
    }

    /// The user deletes the key in the dashboard; answers its id.
    @discardableResult
    public func deleteKey(user: String, clientID: String? = nil) async throws -> String {
        try await keyAction(user: user, action: "delete-key", clientID: clientID)
    }

    /// 14 idle days pass: the key is disabled; answers its id.
    @discardableResult
    public func disableKey(user: String, clientID: String? = nil) async throws -> String {
        try await keyAction(user: user, action: "disable-key", clientID: clientID)
    }

    /// The user changes the password: every key of the user is deleted. Answers how many.
    @discardableResult
    public func changePassword(user: String) async throws -> Int {
        try await integer(.POST, "/sim/users/\(Self.pathComponent(user))/change-password", "deleted_keys")
    }

    /// Every token of the user expires now. Answers how many were still valid.
    @discardableResult
    public func expireTokens(user: String) async throws -> Int {
        try await integer(.POST, "/sim/users/\(Self.pathComponent(user))/expire-tokens", "expired_tokens")
    }

    // MARK: One key

    /// The signed requests that named the key, oldest first: proof of what a client sent, or
    /// that it sent nothing.
    public func requestLog(externalID: String) async throws -> [SimKeyRequest] {
        let log: RequestLog = try await decoded(.GET, "/sim/keys/\(Self.pathComponent(externalID))/requests", nil)
        return log.requests
    }

    private struct RequestLog: Decodable {
        let requests: [SimKeyRequest]
    }

    /// The OAuth calls (token, info, secret, delete) made for `user`, oldest first, each with
    /// the address it came from: proof of which instance called, or that none did.
    public func calls(user: String) async throws -> [SimOAuthCall] {
        let log: CallLog = try await decoded(.GET, "/sim/users/\(Self.pathComponent(user))/calls", nil)
        return log.calls
    }

    private struct CallLog: Decodable {
        let calls: [SimOAuthCall]
    }

    /// The key was last used `milliseconds` ago; past the inactivity period it is disabled at once.
    @discardableResult
    public func setIdle(externalID: String, milliseconds: Int) async throws -> SimKeyStatus {
        try await decoded(.POST, "/sim/keys/\(Self.pathComponent(externalID))/last-use", #"{"idle_ms":\#(milliseconds)}"#)
    }

    /// The key was last used at this moment (Unix milliseconds).
    @discardableResult
    public func setLastUse(externalID: String, unixMilliseconds: Int) async throws -> SimKeyStatus {
        try await decoded(.POST, "/sim/keys/\(Self.pathComponent(externalID))/last-use", #"{"at_ms":\#(unixMilliseconds)}"#)
    }

    /// Replaces the key's permissions: a preset (`read-only`, `trade`, `none`) or group names.
    @discardableResult
    public func setPermissions(externalID: String, _ permissions: [String]) async throws -> SimKeyStatus {
        let body = JSONText.object(["permissions": .array(permissions.map(JSONText.string))]).rendered
        return try await decoded(.PUT, "/sim/keys/\(Self.pathComponent(externalID))/permissions", body)
    }

    /// Keys for users `userPrefix + N`, N in `first ..< first + count` (at most 10,000 a
    /// call), as if each had consented and its secret had been fetched: their ids and secrets.
    public func createKeys(userPrefix: String, first: Int, count: Int) async throws -> [SimBulkKey] {
        let body = JSONText.object(["user_prefix": .string(userPrefix), "first": .integer(first), "count": .integer(count)]).rendered
        let made: BulkKeys = try await decoded(.POST, "/sim/keys", body)
        return made.keys
    }

    private struct BulkKeys: Decodable {
        let keys: [SimBulkKey]
    }

    /// The request and answer counters alone (`GET /sim/counts`), cheap with many keys.
    public func counts() async throws -> SimCounts {
        try await decoded(.GET, "/sim/counts", nil)
    }

    /// The JSON the user's account reads answer from: balances, transactions, converts, orders, deals.
    public func accountData(user: String) async throws -> Data {
        try await send(.GET, "/sim/users/\(Self.pathComponent(user))/account", nil)
    }

    // MARK: The simulator

    /// Registers (or replaces) a client.
    public func registerClient(
        id: String, secret: Sensitive, redirectURIs: [String],
        scopes: [String] = ["apikeys.create", "apikeys.read", "apikeys.delete"]
    ) async throws {
        _ = try await object(
            .POST, "/sim/clients",
            [
                "client_id": .string(id), "client_secret": .string(secret.revealed),
                "redirect_uris": .array(redirectURIs.map(JSONText.string)), "scopes": .array(scopes.map(JSONText.string)),
            ])
    }

    public func settings() async throws -> SimAdminSettings {
        try await decoded(.GET, "/sim/settings", nil)
    }

    /// Changes the given settings (nil fields stay) and answers all of them.
    @discardableResult
    public func updateSettings(_ update: SimAdminSettings) async throws -> SimAdminSettings {
        let body = try JSONEncoder().encode(update)
        return try await decoded(.PUT, "/sim/settings", String(decoding: body, as: UTF8.self))
    }

    public func addFault(_ fault: SimFaultSpec) async throws {
        _ = try await object(.POST, "/sim/faults", fault.json)
    }

    /// The faults still queued, in the order they apply.
    public func faults() async throws -> [SimFaultSpec] {
        let list: FaultList = try await decoded(.GET, "/sim/faults", nil)
        return list.faults
    }

    private struct FaultList: Decodable {
        let faults: [SimFaultSpec]
    }

    public func clearFaults() async throws {
        _ = try await object(.DELETE, "/sim/faults", nil)
    }

    public func state() async throws -> SimState {
        try await decoded(.GET, "/sim/state", nil)
    }

    /// Back to the start-up state.
    public func reset() async throws {
        _ = try await object(.POST, "/sim/reset", nil)
    }

    // MARK: Transport

    private func keyAction(user: String, action: String, clientID: String?) async throws -> String {
        var body: [String: JSONText] = [:]
        if let clientID { body["client_id"] = .string(clientID) }
        let path = "/sim/users/\(Self.pathComponent(user))/\(action)"
        guard let externalID = try await object(.POST, path, body)["external_id"] as? String else {
            throw SimAdminError.unexpectedAnswer(path: path, detail: "external_id missing")
        }
        return externalID
    }

    private func integer(_ method: HTTPMethod, _ path: String, _ field: String) async throws -> Int {
        guard let value = try await object(method, path, nil)[field] as? Int else {
            throw SimAdminError.unexpectedAnswer(path: path, detail: "\(field) missing")
        }
        return value
    }

    private func object(_ method: HTTPMethod, _ path: String, _ body: [String: JSONText]?) async throws -> [String: Any] {
        let data = try await send(method, path, body.map { JSONText.object($0).rendered })
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SimAdminError.unexpectedAnswer(path: path, detail: "not a JSON object")
        }
        return object
    }

    private func decoded<Value: Decodable>(_ method: HTTPMethod, _ path: String, _ body: String?) async throws -> Value {
        let data = try await send(method, path, body)
        do {
            return try JSONDecoder().decode(Value.self, from: data)
        } catch {
            throw SimAdminError.unexpectedAnswer(path: path, detail: "\(error)")
        }
    }

    private func send(_ method: HTTPMethod, _ path: String, _ body: String?) async throws -> Data {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await httpClient.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        let data = Data(bytes.readableBytesView)
        guard response.status == .ok else {
            let message = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["error"] as? String
            throw SimAdminError.refused(path: path, status: Int(response.status.code), message: message ?? "")
        }
        return data
    }

    private static func pathComponent(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:@")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

public enum SimAdminError: Error, Sendable, CustomStringConvertible {
    /// The simulator answered with an error status (400 and its `error` message).
    case refused(path: String, status: Int, message: String)
    case unexpectedAnswer(path: String, detail: String)

    public var description: String {
        switch self {
        case .refused(let path, let status, let message): "\(path) refused with \(status): \(message)"
        case .unexpectedAnswer(let path, let detail): "\(path) answered unexpectedly: \(detail)"
        }
    }
}
