import FoundationEssentials
import NIOCore
import Sensitive

extension WhiteBITClient {
    /// The `[whitebit]` settings of docs/design.md §3, already parsed.
    public struct Configuration: Sendable, CustomStringConvertible {
        /// `https://whitebit.com`, or whitebit-sim's `http://127.0.0.1:PORT`.
        public var baseURL: String
        public var clientID: String
        public var clientSecret: Sensitive
        /// Sent to the token endpoint when set and not empty (docs/whitebit-api.md §7.3: WhiteBIT
        /// may or may not require it there).
        public var redirectURI: String?
        /// The whole call, from sending to the last byte of the answer; waiting for the
        /// rate or concurrency limit is not counted.
        public var requestTimeout: Duration
        /// Requests in flight towards WhiteBIT at once.
        public var maxConcurrency: Int
        /// Requests per second (token bucket, bursts of `max(1, rateLimit)`).
        public var rateLimit: Double
        /// Adds `grant_type=authorization_code` to the token request. Off by default: no
        /// WhiteBIT example sends it (docs/whitebit-api.md §7.3); the switch is there in case
        /// WhiteBIT turns out to require it.
        public var sendsGrantType: Bool
        /// The local IPv4 or IPv6 address every connection binds to before it connects, so
        /// that WhiteBIT's per-IP limits (docs/whitebit-api.md §5.4) count this client
        /// apart from others on the host; nil: the address the routing picks.
        public var sourceAddress: String?

        public init(
            baseURL: String, clientID: String, clientSecret: Sensitive, redirectURI: String? = nil,
            requestTimeout: Duration = .seconds(10), maxConcurrency: Int = 8, rateLimit: Double = 10,
            sendsGrantType: Bool = false, sourceAddress: String? = nil
        ) {
            self.baseURL = baseURL
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.redirectURI = redirectURI
            self.requestTimeout = requestTimeout
            self.maxConcurrency = maxConcurrency
            self.rateLimit = rateLimit
            self.sendsGrantType = sendsGrantType
            self.sourceAddress = sourceAddress
        }

        public var description: String {
            "WhiteBITClient.Configuration(baseURL: \(baseURL), clientID: \(clientID), clientSecret: \(clientSecret), "
                + "redirectURI: \(redirectURI ?? "none"), requestTimeout: \(requestTimeout), "
                + "maxConcurrency: \(maxConcurrency), rateLimit: \(rateLimit), sourceAddress: \(sourceAddress ?? "none"))"
        }

        /// The base URL without a trailing slash, after checking that it can be used.
        func validatedBaseURL() throws(ConfigurationError) -> String {
            guard let url = URL(string: baseURL), let scheme = url.scheme?.lowercased(),
                  scheme == "https" || scheme == "http", let host = url.host, !host.isEmpty,
                  url.query == nil, url.fragment == nil
            else {
                throw ConfigurationError(setting: "base_url", reason: "not an http(s) URL with a host and no query")
            }
            guard !clientID.isEmpty else { throw ConfigurationError(setting: "client_id", reason: "empty") }
            guard !clientSecret.isEmpty else { throw ConfigurationError(setting: "client_secret", reason: "empty") }
            guard requestTimeout > .zero else {
                throw ConfigurationError(setting: "request_timeout", reason: "must be positive")
            }
            guard maxConcurrency >= 1 else {
                throw ConfigurationError(setting: "max_concurrency", reason: "must be at least 1")
            }
            guard rateLimit > 0, rateLimit.isFinite else {
                throw ConfigurationError(setting: "rate_limit", reason: "must be a positive number")
            }
            if let sourceAddress, (try? SocketAddress(ipAddress: sourceAddress, port: 0)) == nil {
                // Checked here: async-http-client would refuse it only at the first request.
                throw ConfigurationError(setting: "source_address", reason: "not an IPv4 or IPv6 address")
            }
            var trimmed = baseURL
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            return trimmed
        }
    }

    /// A setting the client cannot work with, named as in the `[whitebit]` section.
    public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
        public let setting: String
        public let reason: String

        public var description: String { "[whitebit] \(setting): \(reason)" }
    }
}
