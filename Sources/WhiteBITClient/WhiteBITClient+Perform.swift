import AsyncHTTPClient
import FoundationEssentials
import Logging
import NIOCore
import NIOHTTP1
import Sensitive

/// One request as the client is about to send it. `secrets` lists what the request
/// carries, so that an echo of one in WhiteBIT's error message can be scrubbed.
struct OutgoingRequest: Sendable {
    let endpoint: Endpoint
    let externalID: String?
    /// Already escaped.
    let path: String
    let headers: [(name: String, value: String)]
    let body: String?
    let secrets: [Sensitive]
}

extension WhiteBITClient {
    private struct Received: Sendable {
        let status: Int
        let body: [UInt8]
    }

    private struct DeadlineReached: Error {}

    private enum Answer {
        case answered(Received)
        case failed(WhiteBITError.Kind)
    }

    /// Waits for the limits, sends, maps the answer, counts and logs it.
    func perform<Value>(
        _ call: OutgoingRequest, decode: ([UInt8]) throws(MalformedBody) -> Value
    ) async throws(WhiteBITError) -> Value {
        // The permit first, then the token: a request then goes out when its token says,
        // not in a burst when several permits come free at once.
        do {
            try await concurrencyLimiter.acquire()
        } catch {
            throw WhiteBITError(endpoint: call.endpoint, externalID: call.externalID, kind: .cancelled)
        }
        do {
            try await rateLimiter.acquire()
        } catch {
            concurrencyLimiter.release()
            throw WhiteBITError(endpoint: call.endpoint, externalID: call.externalID, kind: .cancelled)
        }
        liveCounters.recordRequest(call.endpoint)
        let started = ContinuousClock.now
        let received = await exchange(call)
        concurrencyLimiter.release()
        let elapsed = started.duration(to: .now)

        let failure: WhiteBITError
        switch received {
        case .failed(let kind):
            failure = WhiteBITError(endpoint: call.endpoint, externalID: call.externalID, kind: kind)
            log(call, outcome: kind.name, elapsed: elapsed)
            liveCounters.recordOutcome(call.endpoint, kind.name, after: elapsed)
        case .answered(let answer):
            log(call, outcome: String(answer.status), elapsed: elapsed)
            liveCounters.recordOutcome(call.endpoint, String(answer.status), after: elapsed)
            if (200..<300).contains(answer.status) {
                do {
                    return try decode(answer.body)
                } catch {
                    failure = WhiteBITError(
                        endpoint: call.endpoint, externalID: call.externalID,
                        kind: .malformedResponse(reason: "HTTP \(answer.status): \(error.reason)")
                    )
                }
            } else {
                failure = ErrorMapping.error(
                    endpoint: call.endpoint, externalID: call.externalID, status: answer.status,
                    body: answer.body, secrets: call.secrets
                )
            }
        }
        if failure.kind != .cancelled {
            liveCounters.recordError(failure, at: Date())
        }
        throw failure
    }

    /// The HTTP exchange under the request deadline. async-http-client's own deadline
    /// ends when the response head arrives; the race with a sleep here also covers the
    /// body. Losing the race cancels the request, which closes its connection.
    private func exchange(_ call: OutgoingRequest) async -> Answer {
        var request = HTTPClientRequest(url: baseURL + call.path)
        request.method = HTTPMethod(rawValue: call.endpoint.method)
        for header in call.headers {
            request.headers.add(name: header.name, value: header.value)
        }
        if let body = call.body {
            request.body = .bytes(ByteBuffer(string: body))
        }
        let timeout = configuration.requestTimeout
        let http = self.http
        let prepared = request
        do {
            let received = try await withThrowingTaskGroup(of: Received.self) { group in
                group.addTask {
                    let response = try await http.execute(
                        prepared, deadline: .now() + .nanoseconds(timeout.nanoseconds)
                    )
                    let body = try await response.body.collect(upTo: WhiteBITClient.maximumBodyBytes)
                    return Received(status: Int(response.status.code), body: Array(buffer: body))
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw DeadlineReached()
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw DeadlineReached() }
                return first
            }
            return .answered(received)
        } catch is DeadlineReached {
            return .failed(.timeout)
        } catch {
            if Task.isCancelled { return .failed(.cancelled) }
            return .failed(TransportFailure.kind(of: error))
        }
    }

    private func log(_ call: OutgoingRequest, outcome: String, elapsed: Duration) {
        logger.debug(
            "WhiteBIT request",
            metadata: [
                "whitebit.endpoint": "\(call.endpoint.rawValue)",
                "http.method": "\(call.endpoint.method)",
                "http.path": "\(call.path)",
                "whitebit.outcome": "\(outcome)",
                "duration_ms": "\(elapsed.milliseconds)",
            ]
        )
    }
}
