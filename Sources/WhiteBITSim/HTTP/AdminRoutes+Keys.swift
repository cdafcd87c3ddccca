import Foundation
import Hummingbird

extension AdminRoutes {
    /// `/sim/keys/{externalId}/…` and `/sim/users/{user}/account`: what a key did, its idle
    /// clock and permissions, and the data the account reads answer from.
    func registerKeyRoutes(on sim: RouterGroup<SimRequestContext>) {
        sim.post("/keys") { request, context in
            try await answer(request, context) { body throws(SimRequestError) in
                guard let prefix = body["user_prefix"]?.stringValue, let count = body["count"]?.intValue else {
                    throw SimRequestError("\"user_prefix\" (a string) and \"count\" (a number) are required")
                }
                let first = body["first"].flatMap { $0.isNull ? nil : $0 }
                guard first == nil || first?.intValue != nil else { throw SimRequestError("\"first\" must be a number") }
                return try await world.createKeys(
                    userPrefix: prefix, first: first?.intValue ?? 0, count: count, clientID: try Self.clientID(body),
                    permissions: try Self.permissions(body))
            }
        }
        sim.get("/users/:user/calls") { request, context in
            let user = context.parameters.get("user") ?? ""
            return try await answer(request, context) { _ in ["calls": .array(await world.calls(of: user).map(\.json))] }
        }
        sim.get("/keys/:externalId/requests") { request, context in
            let externalID = context.parameters.get("externalId") ?? ""
            return try await answer(request, context) { _ throws(SimRequestError) in
                ["requests": .array(try await world.requestLog(of: externalID).map(\.json))]
            }
        }
        sim.post("/keys/:externalId/last-use") { request, context in
            let externalID = context.parameters.get("externalId") ?? ""
            return try await answer(request, context) { body throws(SimRequestError) in
                let moment = try Self.milliseconds(body, "at_ms").map { Date(timeIntervalSince1970: TimeInterval($0) / 1000) }
                return try await world.setLastUse(
                    of: externalID, at: moment, idleMilliseconds: try Self.milliseconds(body, "idle_ms"))
            }
        }
        sim.put("/keys/:externalId/permissions") { request, context in
            let externalID = context.parameters.get("externalId") ?? ""
            return try await answer(request, context) { body throws(SimRequestError) in
                guard let list = body["permissions"]?.arrayValue else {
                    throw SimRequestError("\"permissions\" must be an array of preset names, group names or group objects")
                }
                return try await world.setPermissions(of: externalID, list)
            }
        }
        sim.get("/users/:user/account") { request, context in
            let user = context.parameters.get("user") ?? ""
            return try await answer(request, context) { _ in await world.accountData(of: user) }
        }
    }

    private static func milliseconds(_ body: JSONValue, _ name: String) throws(SimRequestError) -> Int? {
        guard let value = body[name], !value.isNull else { return nil }
        guard let milliseconds = value.intValue, milliseconds >= 0 else {
            throw SimRequestError("\"\(name)\" must be a whole number of milliseconds, 0 or more")
        }
        return milliseconds
    }
}
