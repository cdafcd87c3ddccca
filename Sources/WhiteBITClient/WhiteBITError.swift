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
        /// V4 "Unauthorized request.": WhiteBIT did not accept the signature. The signer is
        /// checked against independent implementations, so for a key that worked before
        /// this means the (key, secret) pair no longer authenticates.
        case signatureRejected
        /// V4 "This action is unauthorized. Enable your key in API settings": the key is
        /// disabled (14 days idle, 2FA turned off), or IP restrictions exclude wbkeyd's address.
        case keyDisabled
        /// V4 "You don't have permission to use this endpoint.": the key authenticates but
        /// was not granted this endpoint.
        case endpointNotPermitted
        /// V4 "Too many requests." on a signed call (not a 429): the nonce was not larger
        /// than the last one WhiteBIT saw for the key. A fresh nonce may pass.
        case nonceNotIncreasing
        /// V4 "Your nonce is more than 5 seconds lesser than the current nonce" or "Invalid
        /// nonceWindow.": with `nonceWindow`, the clock is off by more than 5 s.
        case nonceOutsideWindow
        /// V4 "Invalid payload", "Payload not provided.", "Request not provided." or "Nonce
        /// not provided." (code 9): the body and the payload header disagree or lack a field.
        case invalidPayload
    }

    /// What an error says about the key or token a call used, for the daemon's decision
    /// (docs/design.md §12: a probe that finds the key disabled moves the grant to
    /// `disabled`, one whose key no longer authenticates to `gone`).
    public enum Verdict: Sendable, Equatable {
        /// The key no longer authenticates: a rejected signature, or a 401 on a signed call
        /// with no message we know. WhiteBIT does not document what a deleted key answers
        /// (docs/whitebit-api.md §7); a key it no longer holds has no secret to check the
        /// signature against, so the documented answer for that is "Unauthorized
        /// request.", and a bare 401 is read the same way. Either answer is stable: waiting
        /// does not change it. A 403 or 404 without a known message is *not* read as gone
        /// (`refused`): it may be a permission or routing matter with the key intact; a 404
        /// saying "Key not found." (WhiteBIT's words for a deleted key on the OAuth
        /// endpoints) is.
        case keyGone
        /// The key exists but is disabled ("Enable your key"). This message also covers a
        /// request from an IP the key's restriction excludes, which the docs do not tell
        /// apart; the operator sees WhiteBIT's message in the error.
        case keyDisabled
        /// A Bearer call's access token was refused (401): it expired or lacks the scope.
        /// This says nothing about the API key.
        case tokenRejected
        /// Worth trying again later: `isTransient`.
        case transient
        /// This request was refused (validation, permission, payload, nonce window, any
        /// other status): the key is not shown to be gone or disabled.
        case refused
    }

    public let endpoint: Endpoint
    /// The externalId the call was about, for the operator; it is a key identifier, not a secret.
    public let externalID: String?
    public let kind: Kind
    /// WhiteBIT's messages, sanitized (see the type's comment).
    public let messages: [String]
    /// WhiteBIT's numeric `code` of a V4 error body (`{"code":9,"message":…}`), when it sent one.
    public let code: Int?
    private let answeredStatus: Int?

    /// - Parameters:
    ///   - externalID: for the OAuth key calls the externalId, for a signed V4 call the
    ///     `X-TXC-APIKEY` value; both identify a key and are not secret.
    ///   - status: the HTTP status, when WhiteBIT answered; otherwise it is the one the
    ///     kind implies.
    public init(
        endpoint: Endpoint, externalID: String? = nil, kind: Kind, messages: [String] = [], status: Int? = nil,
        code: Int? = nil
    ) {
        self.endpoint = endpoint
        self.externalID = externalID.map { ResponseText.sanitize($0) }
        self.kind = kind
        self.messages = messages.map { ResponseText.sanitize($0) }
        self.answeredStatus = status
        self.code = code
    }

    /// The HTTP status WhiteBIT answered with, when it answered.
    public var httpStatus: Int? {
        if let answeredStatus { return answeredStatus }
        return switch kind {
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .secretAlreadyRetrieved: 409
        case .locked: 423
        case .rateLimited: 429
        case .validation: 422
        case .rejected(let status), .server(let status): status
        case .transport, .timeout, .malformedResponse, .cancelled, .invalidRequest: nil
        case .signatureRejected: 401
        case .keyDisabled, .endpointNotPermitted: 403
        case .nonceNotIncreasing, .nonceOutsideWindow, .invalidPayload: 400
        }
    }

    /// Worth trying again later with the same inputs: the network, a timeout, a 5xx, a 429,
    /// a 423, or a cancellation (the request's fate is unknown). Everything else is an
    /// answer that will not change by waiting. The client itself never retries: the
    /// daemon's scheduler decides, with `Lifecycle`'s `Backoff`, and persists its attempt counts.
    public var isTransient: Bool {
        switch kind {
        case .transport, .timeout, .server, .rateLimited, .locked, .cancelled, .nonceNotIncreasing: true
        case .unauthorized, .forbidden, .notFound, .secretAlreadyRetrieved, .validation,
             .rejected, .malformedResponse, .invalidRequest, .signatureRejected, .keyDisabled,
             .endpointNotPermitted, .nonceOutsideWindow, .invalidPayload: false
        }
    }

    public var verdict: Verdict {
        if isTransient { return .transient }
        switch kind {
        case .signatureRejected: return .keyGone
        case .unauthorized where endpoint.isSignedV4: return .keyGone
        // WhiteBIT's own words for a key it no longer has, on the OAuth endpoints (§3.4);
        // a signed call that answers them names the key, not the path.
        case .notFound where endpoint.isSignedV4 && messages.contains("Key not found."): return .keyGone
        case .unauthorized: return .tokenRejected
        case .keyDisabled: return .keyDisabled
        default: return .refused
        }
    }

    public var description: String {
        var text = "WhiteBIT \(endpoint.method) \(path): \(kindDescription)"
        if endpoint.isSignedV4, let externalID { text += " for key \(externalID)" }
        if let code { text += " [code \(code)]" }
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

    private var statusText: String { httpStatus.map { "\($0) " } ?? "" }

    private var kindDescription: String {
        switch kind {
        case .unauthorized: "401 unauthorized (token invalid, expired or lacking the scope)"
        case .forbidden: "403 forbidden (key of another client or not partner-issued)"
        case .notFound: "404 key not found"
        case .secretAlreadyRetrieved: "409 secret already retrieved"
        case .locked: "423 locked by a concurrent retrieval"
        case .rateLimited: "429 rate limited"
        case .validation(let fields):
            fields.isEmpty ? "\(statusText)validation failed" : "\(statusText)validation failed for \(fields.joined(separator: ", "))"
        case .rejected(let status): "\(status) rejected"
        case .server(let status): "\(status) server error"
        case .transport(let reason): "no answer: \(reason)"
        case .timeout: "no complete answer within the request timeout"
        case .malformedResponse(let reason): "malformed response: \(reason)"
        case .cancelled: "cancelled by the caller"
        case .invalidRequest(let reason): "not sent: \(reason)"
        case .signatureRejected: "\(statusText)signature refused (the key no longer authenticates)"
        case .keyDisabled: "\(statusText)key disabled (or this IP not allowed)"
        case .endpointNotPermitted: "\(statusText)the key was not granted this endpoint"
        case .nonceNotIncreasing: "\(statusText)nonce not larger than the key's last one"
        case .nonceOutsideWindow: "\(statusText)nonce outside WhiteBIT's 5 s window (clock off?)"
        case .invalidPayload: "\(statusText)payload invalid or incomplete"
        }
    }
}

/// So that Foundation's `error.localizedDescription`, wherever the error ends up, is the
/// same redacted text.
extension WhiteBITError: LocalizedError {
    public var errorDescription: String? { description }
}
