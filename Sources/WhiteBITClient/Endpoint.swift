/// The four WhiteBIT calls wbkeyd makes (whitebit-api.md §3.1 and §3.4). The raw
/// values are the names the counters, the logs and whitebit-sim's fault injection use.
public enum Endpoint: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case token
    case info
    case secret
    case delete

    public var method: String {
        switch self {
        case .token: "POST"
        case .info, .secret: "GET"
        case .delete: "DELETE"
        }
    }

    /// The path as documented, with `{externalId}` as a placeholder: safe to show in any
    /// message, and stable for grouping.
    public var pathTemplate: String {
        switch self {
        case .token: "/oauth2/token"
        case .info: "/oauth2/api-key/info"
        case .secret: "/oauth2/api-key/{externalId}/secret"
        case .delete: "/oauth2/api-key/{externalId}"
        }
    }

    public var description: String { "\(method) \(pathTemplate)" }

    /// The path with `segment` (already escaped, or sanitized for display) as the externalId.
    func path(segment: String) -> String {
        switch self {
        case .token, .info: pathTemplate
        case .secret: "/oauth2/api-key/\(segment)/secret"
        case .delete: "/oauth2/api-key/\(segment)"
        }
    }
}

/// An externalId checked and escaped for use as one path segment. WhiteBIT documents it
/// as a UUID, but it comes from a response, and the stage docs say it doubles as the
/// public API key, so its format is not something to trust: every byte outside the
/// unreserved set is percent-escaped (a `/` cannot add a segment), and a segment that
/// is empty or only dots (which servers resolve as `.` or `..`) is refused outright.
struct PathSegment: Sendable, Equatable {
    static let maximumLength = 256

    let escaped: String

    init?(_ raw: String) {
        guard !raw.isEmpty, raw.utf8.count <= Self.maximumLength,
              raw.contains(where: { $0 != "." })
        else { return nil }
        escaped = PercentEncoding.escape(raw)
    }
}

enum PercentEncoding {
    /// RFC 3986 unreserved characters pass; every other UTF-8 byte becomes `%XX`. Used for
    /// path segments and for form values (a space becomes `%20`, which form decoders accept).
    static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if isUnreserved(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%"
                out += hexDigit(byte >> 4)
                out += hexDigit(byte & 0x0F)
            }
        }
        return out
    }

    /// `application/x-www-form-urlencoded` body from ordered fields.
    static func form(_ fields: [(name: String, value: String)]) -> String {
        fields.map { "\(escape($0.name))=\(escape($0.value))" }.joined(separator: "&")
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> String {
        String(Unicode.Scalar(nibble < 10 ? nibble + 48 : nibble + 55))
    }
}
