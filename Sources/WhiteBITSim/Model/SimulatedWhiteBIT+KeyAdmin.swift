import Foundation

/// `/sim/` calls about one key by its `externalId`: its request log, its idle clock, its
/// permissions; and the account data the reads answer from.
extension SimulatedWhiteBIT {
    /// The signed requests that named the key, oldest first (the newest 1,000).
    public func requestLog(of externalID: String) throws(SimRequestError) -> [KeyRequest] {
        try existingKey(externalID).requests
    }

    /// Sets when the key was last used: `at`, or `idle` milliseconds before now. A key idle
    /// past the inactivity period is disabled at once; an earlier disable is not undone.
    public func setLastUse(of externalID: String, at moment: Date?, idleMilliseconds: Int?) throws(SimRequestError) -> JSONValue {
        _ = try existingKey(externalID)
        switch (moment, idleMilliseconds) {
        case (let moment?, nil): keys[externalID]?.lastUsedAt = moment
        case (nil, let idle?): keys[externalID]?.lastUsedAt = Self.addingMilliseconds(-idle, to: now)
        default: throw SimRequestError("give exactly one of \"at_ms\" (Unix milliseconds) and \"idle_ms\"")
        }
        disableIfIdle(externalID)
        return try keyStatus(externalID)
    }

    /// Replaces the key's permission groups (preset names, group names or group objects, as at consent).
    public func setPermissions(of externalID: String, _ given: [JSONValue]) throws(SimRequestError) -> JSONValue {
        _ = try existingKey(externalID)
        keys[externalID]?.permissions = try Self.permissionGroups(given)
        return try keyStatus(externalID)
    }

    /// Everything the account reads of `user` answer from, as of now.
    public func accountData(of user: String) -> JSONValue {
        AccountData(user: user, now: now).json
    }

    /// At most this many keys per `POST /sim/keys`, so that its answer stays a few MiB.
    public static let bulkKeyLimit = 10_000

    /// Users `prefix + N` for N in `first ..< first + count` each get a key of the client, as
    /// if each had consented and the partner had fetched the secret once (so `…/secret` is
    /// 409 for them): a benchmark needs 100,000 live keys whose secrets it knows, which
    /// 100,000 consents would make slowly (each consent looks for the user's live key
    /// among all keys). The one-key rule holds: a user who has a live key gets none and
    /// the whole call is refused.
    public func createKeys(
        userPrefix: String, first: Int, count: Int, clientID: String?, permissions: [JSONValue]?
    ) throws(SimRequestError) -> JSONValue {
        guard (1...Self.bulkKeyLimit).contains(count), first >= 0 else {
            throw SimRequestError("\"count\" must be 1 to \(Self.bulkKeyLimit) and \"first\" 0 or more")
        }
        let users = (first..<first + count).map { userPrefix + String($0) }
        if users.contains(where: { !Self.isUserName($0) }) {
            throw SimRequestError("users must be 1-128 of A-Z a-z 0-9 . _ : @ -")
        }
        let client = try client(clientID)
        let groups = try Self.permissionGroups(permissions)
        let holders = Set(keys.values.filter { $0.clientID == client.id && $0.isLive }.map(\.user))
        if let holder = users.first(where: holders.contains) {
            throw SimRequestError("user \"\(holder)\" already has a key for client \"\(client.id)\"")
        }
        let moment = now
        let made: [JSONValue] = users.map { user in
            var key = addKey(user: user, client: client, permissions: groups, at: moment, appearsAt: moment)
            key.secretRetrieved = true
            keys[key.externalID] = key
            return ["user": .string(user), "external_id": .string(key.externalID), "api_secret": .string(key.apiSecret.revealed)]
        }
        return ["keys": .array(made)]
    }

    private func existingKey(_ externalID: String) throws(SimRequestError) -> APIKey {
        guard let key = keys[externalID] else { throw SimRequestError("no key \"\(externalID)\"") }
        return key
    }

    private func keyStatus(_ externalID: String) throws(SimRequestError) -> JSONValue {
        let key = try existingKey(externalID)
        return [
            "external_id": .string(key.externalID), "enabled": .bool(key.enabled), "deleted": .bool(key.deleted),
            "last_used_at": Self.date(key.lastUsedAt), "permissions": .array(key.permissions),
        ]
    }
}
