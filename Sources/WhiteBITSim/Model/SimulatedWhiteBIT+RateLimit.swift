import Foundation

/// What one client address did: every request but the admin API's, and how many of them
/// the rate limit refused.
struct SourceCount: Sendable {
    var requests = 0
    var rateLimited = 0

    var json: JSONValue { ["requests": .integer(requests), "rate_limited": .integer(rateLimited)] }
}

extension SimulatedWhiteBIT {
    /// The per-IP rate limit (`docs/whitebit-api.md` §5.4), asked before anything else reads
    /// the request, as a limit in front of WhiteBIT's application would be: a refused
    /// request meets no fault, spends no code or nonce and is not counted as admitted.
    /// Counts the request for `source`; nil lets it through, else the 429 to answer, in the
    /// error shape of the API the path belongs to. A refused signed request still lands in
    /// its key's log (`apiKey` is its `X-TXC-APIKEY`).
    public func limitRate(source: String, path: String, apiKey: String?) -> SimAnswer? {
        sourceCounts[source, default: SourceCount()].requests += 1
        guard !rateLimiter.admit(source: source, path: path, at: now, settings: settings.rateLimit) else { return nil }
        sourceCounts[source, default: SourceCount()].rateLimited += 1
        guard path.hasPrefix("/api/v4/") else { return .message(429, "Too many requests.") }
        let answer = SignedRefusal.rateLimited.answer
        if AccountEndpoint(signedPath: path) != nil, let keyID = apiKey.flatMap(keyID(named:)) {
            log(path, nonce: nil, answer: answer, source: source, in: keyID)
        }
        return answer
    }

    /// `{"ADDRESS": {"requests": N, "rate_limited": N}}` for `GET /sim/counts`.
    var sourceCountsJSON: JSONValue { .object(sourceCounts.mapValues(\.json)) }
}
