import Sensitive

/// Why a 2xx body was refused. The reason is always one of the fixed phrases below,
/// never a piece of the body (which may hold a token or a secret).
struct MalformedBody: Error, Equatable {
    let reason: String
}

/// Turns 2xx bodies into values, accepting every variant docs/whitebit-api.md §3 and §7 allow.
enum ResponseDecoding {
    /// Longest `expires_in` believed: beyond it the value is nonsense, not a lifetime.
    static let longestPlausibleLifetime: Double = 10 * 365 * 24 * 3600

    /// The documented shape wraps the fields in `data`; RFC 6749's has them at the top.
    /// `expires_in` may be a number, a numeric string, null or absent; `scope` a comma- or
    /// space-separated string, or a list; `refresh_token` is ignored whatever it holds.
    static func accessToken(_ bytes: [UInt8]) throws(MalformedBody) -> AccessToken {
        guard let document = JSONValue.parse(bytes) else { throw MalformedBody(reason: "body is not JSON") }
        let fields: JSONValue
        if let wrapped = document["data"], wrapped["access_token"] != nil {
            fields = wrapped
        } else if document["access_token"] != nil {
            fields = document
        } else {
            throw MalformedBody(reason: "no access_token, neither in data nor at the top level")
        }
        guard let token = fields["access_token"]?.stringValue, !token.isEmpty else {
            throw MalformedBody(reason: "access_token is not a non-empty string")
        }
        return AccessToken(
            value: Sensitive(token),
            expiresIn: try lifetime(fields["expires_in"]),
            scopes: try scopes(fields["scope"])
        )
    }

    static func apiKeyInfo(_ bytes: [UInt8]) throws(MalformedBody) -> APIKeyInfo {
        let data = try dataObject(bytes)
        guard let exists = data["exists"]?.boolValue else {
            throw MalformedBody(reason: "data.exists is not a boolean")
        }
        guard let isEnabled = data["isEnabled"]?.boolValue else {
            throw MalformedBody(reason: "data.isEnabled is not a boolean")
        }
        let externalID: String?
        switch data["externalId"] {
        case .none, .some(.null): externalID = nil
        case .some(.string(let value)) where !value.isEmpty: externalID = value
        default: throw MalformedBody(reason: "data.externalId is neither a non-empty string nor null")
        }
        if exists && externalID == nil {
            throw MalformedBody(reason: "data.exists is true but data.externalId is missing")
        }
        return APIKeyInfo(
            exists: exists,
            isEnabled: isEnabled,
            externalID: exists ? externalID : nil,
            permissions: try permissions(data["permissions"])
        )
    }

    static func apiSecret(_ bytes: [UInt8]) throws(MalformedBody) -> Sensitive {
        let data = try dataObject(bytes)
        guard let secret = data["apiSecret"]?.stringValue, !secret.isEmpty else {
            throw MalformedBody(reason: "data.apiSecret is not a non-empty string")
        }
        return Sensitive(secret)
    }

    /// A V4 answer, any JSON document, handed on as it came.
    static func json(_ bytes: [UInt8]) throws(MalformedBody) -> JSONValue {
        guard let document = JSONValue.parse(bytes) else { throw MalformedBody(reason: "body is not JSON") }
        return document
    }

    private static func dataObject(_ bytes: [UInt8]) throws(MalformedBody) -> JSONValue {
        guard let document = JSONValue.parse(bytes) else { throw MalformedBody(reason: "body is not JSON") }
        guard let data = document["data"], data.objectValue != nil else {
            throw MalformedBody(reason: "no data object")
        }
        return data
    }

    private static func lifetime(_ value: JSONValue?) throws(MalformedBody) -> Duration? {
        let seconds: Double
        switch value {
        case .none, .some(.null): return nil
        case .some(.number(let text)):
            guard let number = Double(text) else { throw MalformedBody(reason: "expires_in is not a plausible number of seconds") }
            seconds = number
        case .some(.string(let text)):
            guard let number = Double(text.trimmingSpaces) else {
                throw MalformedBody(reason: "expires_in is a string that is not a number")
            }
            seconds = number
        default: throw MalformedBody(reason: "expires_in is neither a number nor a numeric string")
        }
        guard seconds.isFinite, seconds > 0, seconds <= longestPlausibleLifetime else {
            throw MalformedBody(reason: "expires_in is not a plausible number of seconds")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    private static func scopes(_ value: JSONValue?) throws(MalformedBody) -> [String] {
        switch value {
        case .none, .some(.null): return []
        case .some(.string(let text)):
            return text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        case .some(.array(let elements)):
            return elements.compactMap(\.stringValue).filter { !$0.isEmpty }
        default: throw MalformedBody(reason: "scope is neither a string nor a list")
        }
    }

    private static func permissions(_ value: JSONValue?) throws(MalformedBody) -> [Permission] {
        switch value {
        case .none, .some(.null): return []
        case .some(.array(let elements)):
            var result: [Permission] = []
            for element in elements {
                result.append(try permission(element))
            }
            return result
        default: throw MalformedBody(reason: "data.permissions is not a list")
        }
    }

    private static func permission(_ value: JSONValue) throws(MalformedBody) -> Permission {
        guard let name = value["name"]?.stringValue else {
            throw MalformedBody(reason: "a permission has no name")
        }
        var urls: [PermittedURL] = []
        switch value["urls"] {
        case .none, .some(.null): break
        case .some(.array(let elements)):
            for element in elements {
                guard let url = element["url"]?.stringValue, let enable = element["enable"]?.boolValue else {
                    throw MalformedBody(reason: "a permission url lacks url or enable")
                }
                urls.append(PermittedURL(url: url, enable: enable))
            }
        default: throw MalformedBody(reason: "a permission's urls is not a list")
        }
        return Permission(name: name, title: value["title"]?.stringValue ?? name, urls: urls)
    }
}

extension String {
    var trimmingSpaces: Substring {
        var slice = self[...]
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return slice
    }
}
