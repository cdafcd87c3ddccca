/// The WhiteBIT endpoints a partner's server calls; faults and counters use these names.
/// `signed` is every private V4 request, `accounts` every Bearer `/api/v4/accounts/*` read.
public enum SimEndpoint: String, Sendable, CaseIterable {
    case token, info, secret, delete, signed, accounts

    var isAccountRead: Bool { self == .signed || self == .accounts }
}

/// A queued fault: the next `remaining` requests to `endpoint` (of `user`, when set) get it.
public struct SimFault: Sendable, Equatable {
    public enum Target: String, Sendable, CaseIterable {
        case token, info, secret, delete, signed, accounts, any

        func matches(_ endpoint: SimEndpoint) -> Bool { self == .any || rawValue == endpoint.rawValue }
    }

    public enum Kind: Sendable, Equatable {
        /// The request is served, its answer held back this long.
        case latency(milliseconds: Int)
        /// Answered with this status and a plausible body; nothing else happens.
        case status(Int)
        /// The connection closes before the request is served: nothing happens.
        case drop
        /// The request is served (a secret is marked retrieved, a code consumed, a key
        /// deleted), then the connection closes without the answer.
        case lostAnswer

        var name: String {
            switch self {
            case .latency: "latency"
            case .status: "status"
            case .drop: "drop"
            case .lostAnswer: "lost_secret"
            }
        }
    }

    public var target: Target
    public var kind: Kind
    /// Requests still to get it; nil: until `DELETE /sim/faults`.
    public var remaining: Int?
    public var user: String?

    public init(target: Target, kind: Kind, remaining: Int? = 1, user: String? = nil) {
        self.target = target
        self.kind = kind
        self.remaining = remaining
        self.user = user
    }

    /// Reads a `POST /sim/faults` body.
    public init(json body: JSONValue) throws(SimRequestError) {
        guard body.objectValue != nil else { throw SimRequestError("a fault must be a JSON object") }
        guard let endpointText = body["endpoint"]?.stringValue, let target = Target(rawValue: endpointText) else {
            throw SimRequestError("fault \"endpoint\" must be one of token, info, secret, delete, signed, accounts, any")
        }
        self.target = target
        switch body["kind"]?.stringValue {
        case "latency":
            guard let milliseconds = body["latency_ms"]?.intValue, milliseconds >= 0 else {
                throw SimRequestError("a latency fault needs \"latency_ms\" (milliseconds, 0 or more)")
            }
            kind = .latency(milliseconds: milliseconds)
        case "status":
            guard let status = body["status"]?.intValue, (400...599).contains(status) else {
                throw SimRequestError("a status fault needs \"status\" between 400 and 599")
            }
            kind = .status(status)
        case "drop": kind = .drop
        case "lost_secret": kind = .lostAnswer
        default: throw SimRequestError("fault \"kind\" must be one of latency, status, drop, lost_secret")
        }
        switch body["count"] {
        case nil: remaining = 1
        case let count? where count.intValue == 0: remaining = nil
        case let count?:
            guard let value = count.intValue, value > 0 else {
                throw SimRequestError("fault \"count\" must be a whole number, 0 (until cleared) or more")
            }
            remaining = value
        }
        switch body["user"] {
        case nil, .null?: user = nil
        case let value?:
            guard let name = value.stringValue, !name.isEmpty else {
                throw SimRequestError("fault \"user\" must be a non-empty string")
            }
            user = name
        }
    }

    public var json: JSONValue {
        var fields: [String: JSONValue] = [
            "endpoint": .string(target.rawValue), "kind": .string(kind.name),
            "count": .integer(remaining ?? 0), "user": user.map(JSONValue.string) ?? .null,
        ]
        switch kind {
        case .latency(let milliseconds): fields["latency_ms"] = .integer(milliseconds)
        case .status(let status): fields["status"] = .integer(status)
        case .drop, .lostAnswer: break
        }
        return .object(fields)
    }

    func matches(_ endpoint: SimEndpoint, user requestUser: String?) -> Bool {
        target.matches(endpoint) && (user == nil || user == requestUser)
    }
}

/// What becomes of a request once the fault queue has had its say.
public enum Admission: Sendable, Equatable {
    /// Serve it; then hold the answer `latencyMilliseconds`, and lose it if `loseAnswer`.
    case serve(latencyMilliseconds: Int, loseAnswer: Bool)
    /// Answer this instead of serving.
    case answer(SimAnswer)
    /// Close the connection without serving or answering.
    case drop
}
