import FoundationEssentials
import Synchronization

extension WhiteBITClient {
    /// What the daemon's `status` and `metrics` show about the WhiteBIT side. Values only:
    /// the last error is kept as its (redacted) description.
    public struct Counters: Sendable, Equatable {
        /// Requests sent, by endpoint (a call refused before sending, or cancelled while
        /// waiting for the rate or concurrency limit, sent none).
        public var requests: [Endpoint: Int] = [:]
        /// Outcomes by endpoint: an HTTP status ("200", "409") or, with no status, the
        /// error kind ("timeout", "transport", "cancelled").
        public var responses: [Endpoint: [String: Int]] = [:]
        /// Time to the outcome of each request sent, by endpoint.
        public var latency: [Endpoint: LatencyHistogram] = [:]
        /// Calls that ended in a `WhiteBITError`.
        public var errors: Int = 0
        public var lastError: LastError?

        public var totalRequests: Int { requests.values.reduce(0, +) }

        public init() {}
    }

    public struct LastError: Sendable, Equatable {
        public let endpoint: Endpoint
        /// `WhiteBITError.description`: never a secret.
        public let description: String
        public let at: Date
    }
}

/// The live, lock-protected counters of one client.
final class RequestCounters: Sendable {
    private let counters = Mutex(WhiteBITClient.Counters())

    var snapshot: WhiteBITClient.Counters { counters.withLock { $0 } }

    func recordRequest(_ endpoint: Endpoint) {
        counters.withLock { $0.requests[endpoint, default: 0] += 1 }
    }

    /// The outcome of a request sent and how long it took to come.
    func recordOutcome(_ endpoint: Endpoint, _ outcome: String, after elapsed: Duration) {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        counters.withLock {
            $0.responses[endpoint, default: [:]][outcome, default: 0] += 1
            $0.latency[endpoint, default: LatencyHistogram()].observe(seconds: seconds)
        }
    }

    func recordError(_ error: WhiteBITError, at date: Date) {
        counters.withLock {
            $0.errors += 1
            $0.lastError = WhiteBITClient.LastError(endpoint: error.endpoint, description: error.description, at: date)
        }
    }
}

extension WhiteBITError.Kind {
    /// A short stable name for counters and log metadata.
    var name: String {
        switch self {
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .notFound: "not_found"
        case .secretAlreadyRetrieved: "secret_already_retrieved"
        case .locked: "locked"
        case .rateLimited: "rate_limited"
        case .validation: "validation"
        case .rejected: "rejected"
        case .server: "server"
        case .transport: "transport"
        case .timeout: "timeout"
        case .malformedResponse: "malformed_response"
        case .cancelled: "cancelled"
        case .invalidRequest: "invalid_request"
        case .signatureRejected: "signature_rejected"
        case .keyDisabled: "key_disabled"
        case .endpointNotPermitted: "endpoint_not_permitted"
        case .nonceNotIncreasing: "nonce_not_increasing"
        case .nonceOutsideWindow: "nonce_outside_window"
        case .invalidPayload: "invalid_payload"
        }
    }
}
