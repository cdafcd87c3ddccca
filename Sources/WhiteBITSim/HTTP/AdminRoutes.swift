import Foundation
import Hummingbird
import NIOCore
import Sensitive

/// `/sim/`: the simulator's own API. It plays the WhiteBIT user, registers clients, flips
/// switches, queues faults and shows everything. JSON in, JSON out; errors are
/// `400 {"error": "…"}`.
struct AdminRoutes: Sendable {
    let world: SimulatedWhiteBIT

    func register(on router: Router<SimRequestContext>) {
        let sim = router.group("/sim")
        sim.post("/consent") { request, context in
            try await answer(request, context) { body throws(SimRequestError) in
                let grant = try await world.consent(try Self.consentRequest(body))
                var externalID: JSONValue = .null
                if case .created(let id) = grant.key { externalID = .string(id) }
                return [
                    "code": .string(grant.code.revealed), "state": grant.state.map(JSONValue.string) ?? .null,
                    "location": .string(grant.location), "key": .string(grant.key.name), "external_id": externalID,
                    "api_key": grant.apiKey.map(JSONValue.string) ?? .null,
                ]
            }
        }
        sim.post("/users/:user/delete-key") { request, context in
            let user = context.parameters.get("user") ?? ""
            return try await answer(request, context) { body throws(SimRequestError) in
                ["external_id": .string(try await world.userDeletesKey(user: user, clientID: try Self.clientID(body)))]
            }
        }
        sim.post("/users/:user/disable-key") { request, context in
            let user = context.parameters.get("user") ?? ""
            return try await answer(request, context) { body throws(SimRequestError) in
                ["external_id": .string(try await world.disableKey(user: user, clientID: try Self.clientID(body)))]
            }
        }
        sim.post("/users/:user/change-password") { request, context in
            let user = context.parameters.get("user") ?? ""
            return try await answer(request, context) { _ in ["deleted_keys": .integer(await world.changePassword(user: user))] }
        }
        sim.post("/users/:user/expire-tokens") { request, context in
            let user = context.parameters.get("user") ?? ""
            return try await answer(request, context) { _ in ["expired_tokens": .integer(await world.expireTokens(user: user))] }
        }
        sim.post("/clients") { request, context in
            try await answer(request, context) { body throws(SimRequestError) in
                let client = try Self.client(body)
                try await world.register(client)
                return ["client_id": .string(client.id)]
            }
        }
        sim.get("/settings") { request, context in
            try await answer(request, context) { _ in await world.currentSettings.json }
        }
        sim.put("/settings") { request, context in
            try await answer(request, context) { body throws(SimRequestError) in try await world.updateSettings(body).json }
        }
        sim.get("/faults") { request, context in
            try await answer(request, context) { _ in ["faults": .array(await world.queuedFaults.map(\.json))] }
        }
        sim.post("/faults") { request, context in
            try await answer(request, context) { body throws(SimRequestError) in
                let fault = try SimFault(json: body)
                return ["faults": .array(await world.addFault(fault).map(\.json))]
            }
        }
        sim.delete("/faults") { request, context in
            try await answer(request, context) { _ in
                await world.clearFaults()
                return ["faults": []]
            }
        }
        sim.get("/state") { request, context in
            try await answer(request, context) { _ in await world.stateJSON() }
        }
        sim.get("/counts") { request, context in
            try await answer(request, context) { _ in .object(await world.counters()) }
        }
        registerKeyRoutes(on: sim)
        sim.post("/reset") { request, context in
            try await answer(request, context) { _ in
                await world.reset()
                return ["reset": true]
            }
        }
    }

    /// Reads the JSON body (empty counts as `{}`), runs the action, writes its result or
    /// its error.
    func answer(
        _ request: Request, _ context: SimRequestContext,
        _ action: @Sendable (JSONValue) async throws(SimRequestError) -> JSONValue
    ) async throws -> Response {
        var request = request
        let bytes = try await request.collectBody(upTo: context.maxUploadSize)
        let body: JSONValue
        if bytes.readableBytes == 0 {
            body = [:]
        } else {
            guard let parsed = try? JSONValue.decode(Data(bytes.readableBytesView)) else {
                return SimAnswer.adminError("the body is not JSON").response
            }
            body = parsed
        }
        do {
            return SimAnswer.json(200, try await action(body)).response
        } catch {
            return SimAnswer.adminError(error.message).response
        }
    }

    private static func consentRequest(_ body: JSONValue) throws(SimRequestError) -> ConsentRequest {
        guard let user = body["user"]?.stringValue else { throw SimRequestError("\"user\" is required") }
        var key: KeyAppearance?
        switch body["key"] {
        case nil, .null?: key = nil
        case .string("now")?: key = .now
        case .string("never")?: key = .never
        case let value?:
            guard let milliseconds = value["after_ms"]?.intValue ?? value.intValue, milliseconds >= 0 else {
                throw SimRequestError("\"key\" must be \"now\", \"never\" or {\"after_ms\": N}")
            }
            key = .after(milliseconds: milliseconds)
        }
        return ConsentRequest(
            user: user, clientID: try optionalString(body, "client_id"), redirectURI: try optionalString(body, "redirect_uri"),
            state: try optionalString(body, "state"), codeChallenge: try optionalString(body, "code_challenge"),
            codeChallengeMethod: try optionalString(body, "code_challenge_method"), key: key, permissions: try permissions(body))
    }

    /// `"permissions"`: nil when absent (the default groups), else the array as given.
    static func permissions(_ body: JSONValue) throws(SimRequestError) -> [JSONValue]? {
        guard let given = body["permissions"], !given.isNull else { return nil }
        guard let list = given.arrayValue else { throw SimRequestError("\"permissions\" must be an array") }
        return list
    }

    private static func client(_ body: JSONValue) throws(SimRequestError) -> SimClient {
        guard let id = body["client_id"]?.stringValue, let secret = body["client_secret"]?.stringValue else {
            throw SimRequestError("\"client_id\" and \"client_secret\" are required")
        }
        guard let uris = body["redirect_uris"]?.arrayValue?.compactMap(\.stringValue), !uris.isEmpty else {
            throw SimRequestError("\"redirect_uris\" must list at least one URI")
        }
        var scopes = SimClient.fastAPIKeyScopes
        if let given = body["scopes"], !given.isNull {
            guard let list = given.arrayValue?.compactMap(\.stringValue) else {
                throw SimRequestError("\"scopes\" must be an array of strings")
            }
            scopes = list
        }
        return SimClient(id: id, secret: Sensitive(secret), redirectURIs: uris, scopes: scopes)
    }

    static func clientID(_ body: JSONValue) throws(SimRequestError) -> String? {
        try optionalString(body, "client_id")
    }

    private static func optionalString(_ body: JSONValue, _ name: String) throws(SimRequestError) -> String? {
        switch body[name] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw SimRequestError("\"\(name)\" must be a string")
        }
    }
}
