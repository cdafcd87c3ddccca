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
