import FoundationEssentials

/// Why a WhiteBIT call failed, with what an operator needs (which call, which key, which
/// HTTP status, WhiteBIT's own words) and never a secret.
///
/// Redaction is by construction: nothing here is built from a request body, a request
/// header or a raw response body. The only text that comes from WhiteBIT is the list of
/// messages of its documented `{"data":{"message":[…]}}` error shape and the field names
/// of a 422, each cut to printable ASCII, truncated, and scrubbed of every secret the
/// request carried.
public struct WhiteBITError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// 401: bad, expired or under-scoped token, or (token endpoint) a rejected client or code.
        case unauthorized
        /// 403: the key belongs to another client, or is not partner-issued.
        case forbidden
        /// 404: no such key (or already deleted).
        case notFound
        /// 409 on the secret: it was handed out before; it cannot be had again.
        case secretAlreadyRetrieved
        /// 423 on the secret: a concurrent retrieval holds the lock.
        case locked
        /// 429.
        case rateLimited
        /// 422 with the names of the fields WhiteBIT objected to.
        case validation(fields: [String])
        /// Any other 3xx or 4xx.
        case rejected(status: Int)
        /// 5xx.
        case server(status: Int)
        /// No answer: connection refused, reset, or closed before a response arrived. For a
        /// secret this means the outcome is unknown (the server may have handed it out).
        case transport(reason: String)
        /// No complete answer within the request timeout.
        case timeout
        /// A 2xx whose body is not what the docs describe; says what was wrong, never the body.
        case malformedResponse(reason: String)
        /// The calling task was cancelled; the request may or may not have reached WhiteBIT.
        case cancelled
        /// The call was refused before anything was sent (an unusable externalId or token).
        case invalidRequest(reason: String)
    }

    public let endpoint: Endpoint
    /// The externalId the call was about, for the operator; it is a key identifier, not a secret.
    public let externalID: String?
    public let kind: Kind
    /// WhiteBIT's messages, sanitized (see the type's comment).
    public let messages: [String]

    public init(endpoint: Endpoint, externalID: String? = nil, kind: Kind, messages: [String] = []) {
        self.endpoint = endpoint
        self.externalID = externalID.map { ResponseText.sanitize($0) }
        self.kind = kind
        self.messages = messages.map { ResponseText.sanitize($0) }
    }

    /// The HTTP status WhiteBIT answered with, when it answered.
    public var httpStatus: Int? {
        switch kind {
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .secretAlreadyRetrieved: 409
        case .locked: 423
        case .rateLimited: 429
        case .validation: 422
        case .rejected(let status), .server(let status): status
        case .transport, .timeout, .malformedResponse, .cancelled, .invalidRequest: nil
        }
    }

    /// Worth trying again later with the same inputs: the network, a timeout, a 5xx, a 429,
    /// a 423, or a cancellation (the request's fate is unknown). Everything else is an
    /// answer that will not change by waiting. The client itself never retries: the
    /// daemon's scheduler decides, with `Lifecycle`'s `Backoff`, and persists its attempt counts.
    public var isTransient: Bool {
        switch kind {
        case .transport, .timeout, .server, .rateLimited, .locked, .cancelled: true
        case .unauthorized, .forbidden, .notFound, .secretAlreadyRetrieved, .validation,
             .rejected, .malformedResponse, .invalidRequest: false
        }
    }

    public var description: String {
        var text = "WhiteBIT \(endpoint.method) \(path): \(kindDescription)"
        if !messages.isEmpty {
            text += " (WhiteBIT said: " + messages.map { "\"\($0)\"" }.joined(separator: ", ") + ")"
        }
        return text
    }

    public var localizedDescription: String { description }

    private var path: String {
        guard let externalID else { return endpoint.pathTemplate }
        return endpoint.path(segment: externalID)
    }

    private var kindDescription: String {
        switch kind {
        case .unauthorized: "401 unauthorized (token invalid, expired or lacking the scope)"
        case .forbidden: "403 forbidden (key of another client or not partner-issued)"
        case .notFound: "404 key not found"
        case .secretAlreadyRetrieved: "409 secret already retrieved"
        case .locked: "423 locked by a concurrent retrieval"
        case .rateLimited: "429 rate limited"
        case .validation(let fields):
            fields.isEmpty ? "422 validation failed" : "422 validation failed for \(fields.joined(separator: ", "))"
        case .rejected(let status): "\(status) rejected"
        case .server(let status): "\(status) server error"
        case .transport(let reason): "no answer: \(reason)"
        case .timeout: "no complete answer within the request timeout"
        case .malformedResponse(let reason): "malformed response: \(reason)"
        case .cancelled: "cancelled by the caller"
        case .invalidRequest(let reason): "not sent: \(reason)"
        }
    }
}

/// So that Foundation's `error.localizedDescription`, wherever the error ends up, is the
/// same redacted text.
extension WhiteBITError: LocalizedError {
    public var errorDescription: String? { description }
}
